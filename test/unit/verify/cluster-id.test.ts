import { describe, expect, it } from '@jest/globals';
import { clusterId } from '../../../verify/services/kafka.ts';

describe('clusterId', () => {
  it("is 22 characters of URL-safe base64 that never start with '-', which the storage tool would take for a flag", () => {
    // One id in 64 would start with '-' if it were not drawn again: 2,000 draws all but surely meet one.
    const ids = Array.from({ length: 2_000 }, () => clusterId());
    expect(ids.filter((id) => !/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id))).toEqual([]);
  });
});
