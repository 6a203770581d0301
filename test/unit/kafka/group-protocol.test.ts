import { describe, expect, it } from '@jest/globals';
import { flattenAssignments, heartbeatErrorCode, KIP848_MEMBERSHIP_ERRORS, lostMembership } from '../../../kafka/group-protocol.ts';

describe('flattenAssignments', () => {
  it('flattens per-topic lists into partitions sorted by topic, then partition', () => {
    expect(flattenAssignments([{ topic: 'b', partitions: [2, 0] }, { topic: 'a', partitions: [1] }])).toEqual([
      { topic: 'a', partition: 1 },
      { topic: 'b', partition: 0 },
      { topic: 'b', partition: 2 },
    ]);
  });

  it('treats an unknown assignment (null) as no partitions', () => {
    expect(flattenAssignments(null)).toEqual([]);
  });
});

describe('lostMembership', () => {
  const joined = { memberId: 'm1', generationId: 4 };

  it('is false on the first join and on the next generation or the same one reported twice', () => {
    expect(lostMembership(undefined, joined)).toBe(false);
    expect(lostMembership(joined, { memberId: 'm1', generationId: 5 })).toBe(false);
    expect(lostMembership(joined, joined)).toBe(false);
  });

  it('is true for a new member id or a skipped generation', () => {
    expect(lostMembership(joined, { memberId: 'm2', generationId: 5 })).toBe(true);
    expect(lostMembership(joined, { memberId: 'm1', generationId: 6 })).toBe(true);
  });
});

describe('heartbeatErrorCode', () => {
  it('reads the broker error code of a failed heartbeat, and nothing from other errors', () => {
    expect(heartbeatErrorCode({ response: { errorCode: KIP848_MEMBERSHIP_ERRORS.FENCED_MEMBER_EPOCH } })).toBe(110);
    expect(heartbeatErrorCode(new Error('socket closed'))).toBeUndefined();
    expect(heartbeatErrorCode(undefined)).toBeUndefined();
  });
});
