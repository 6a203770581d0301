import { describe, expect, it } from '@jest/globals';
import { partitionLag } from '../../../core/partitions.ts';
import { waitFor } from '../../../core/wait.ts';

describe('partitionLag', () => {
  it('is the records between the committed offset and the high watermark, never negative', () => {
    expect(partitionLag(100n, 40n)).toBe(60n);
    expect(partitionLag(40n, 40n)).toBe(0n);
    // A committed offset past the watermark (a recreated topic, a reset ahead) is caught up.
    expect(partitionLag(10n, 40n)).toBe(0n);
  });
});

describe('waitFor', () => {
  it('returns the first truthy value, and names what it waited for and the last error on timeout', async () => {
    let calls = 0;
    expect(await waitFor(() => (++calls >= 3 ? 'ready' : false), { intervalMs: 1 })).toBe('ready');
    await expect(
      waitFor(
        () => {
          throw new Error('table missing');
        },
        { timeoutMs: 20, intervalMs: 5, message: 'the table' },
      ),
    ).rejects.toThrow('timed out after 20 ms waiting for the table (last error: table missing)');
  });
});
