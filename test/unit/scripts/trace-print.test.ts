import { describe, expect, it } from '@jest/globals';
import { formatTraces, type OtlpExportRequest } from '../../../scripts/trace-print.ts';

const T = 'a'.repeat(32);
const span = (spanId: string, name: string, startMs: number, parentSpanId?: string, extra: object = {}) => ({
  traceId: T,
  spanId,
  ...(parentSpanId ? { parentSpanId } : {}),
  name,
  kind: 4,
  startTimeUnixNano: String(BigInt(startMs) * 1_000_000n),
  endTimeUnixNano: String(BigInt(startMs + 2) * 1_000_000n),
  ...extra,
});

describe('trace-print formatTraces', () => {
  it('prints a trace as a tree, children under their parent in start order, with service, timing, attributes and links', () => {
    const requests: OtlpExportRequest[] = [
      {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
            scopeSpans: [
              {
                spans: [
                  span('0000000000000003', 'publish out', 20, '0000000000000002'),
                  span('0000000000000001', 'send in', 0),
                  span('0000000000000002', 'process in', 10, '0000000000000001', {
                    kind: 5,
                    attributes: [{ key: 'kafka.offset', value: { intValue: '7' } }, { key: 'ignored', value: { stringValue: 'x' } }],
                    links: [{ traceId: 'b'.repeat(32), spanId: 'c'.repeat(16) }],
                  }),
                ],
              },
            ],
          },
        ],
      },
    ];
    expect(formatTraces(requests).split('\n')).toEqual([
      `trace ${T} (3 spans)`,
      '  send in  [PRODUCER, svc]  +0.0 ms, 2.0 ms',
      '    process in  [CONSUMER, svc]  +10.0 ms, 2.0 ms  kafka.offset=7  links: bbbbbbbb/cccccccc',
      '      publish out  [PRODUCER, svc]  +20.0 ms, 2.0 ms',
    ]);
    expect(formatTraces(requests, { grep: 'nothing like it' })).toBe('');
    expect(formatTraces(requests, { minSpans: 4 })).toBe('');
  });
});
