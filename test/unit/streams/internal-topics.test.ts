import { describe, expect, it } from '@jest/globals';
import { buildReferenceTopology, memoryStores } from '../../../processors/reference-pipeline.ts';
import { internalTopics } from '../../../streams/processor.ts';
import { DRIVER_TOPICS as TOPICS } from '../../support/driver-topics.ts';

describe('internalTopics', () => {
  const topology = buildReferenceTopology({ applicationId: 'shop', topics: TOPICS, stores: memoryStores() });

  it.each([-1, 3])('gives every repartition topic the replication factor of the app topics (%d), and the orders topic partition count', (replicationFactor) => {
    const specs = internalTopics(topology, { partitions: 12, replicationFactor });
    // The reference pipeline repartitions twice: product commands and line results.
    expect(specs.map((spec) => spec.topic).sort()).toEqual(['shop-line-results-repartition', 'shop-product-commands-repartition']);
    for (const spec of specs) expect(spec).toEqual({ topic: spec.topic, partitions: 12, replicationFactor });
  });
});
