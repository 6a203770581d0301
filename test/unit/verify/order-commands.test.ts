import { describe, expect, it } from '@jest/globals';
import { cancelOrderCodec, productCommandCodec, restockInventoryCodec } from '../../../processors/commands.ts';
import { encodeEvent } from '../../../processors/events.ts';
import { cancellationCommand, deadLetteredRestockIds, restockCommand } from '../../../verify/order-commands.ts';
import { loadConfig } from '../../../core/config.ts';
import { consumedTopics, internalTopics, namesEnv, type PipelineNames, pipelineNamesOf } from '../../../verify/pipeline-topics.ts';

const R1 = '00000000-0000-4000-a000-000000000001';
const R2 = '00000000-0000-4000-a000-000000000002';
const O1 = '00000000-0000-4000-8000-000000000001';

describe('the commands a run sends', () => {
  it('are RestockInventory keyed by product and CancelOrder keyed by order, carrying the ids the run records', () => {
    const restock = restockCommand({ restockId: R1, productId: 7, quantity: 3 }, 0);
    expect(restock.key).toBe('7');
    expect(restockInventoryCodec.decode(encodeEvent(restock.event)).payload).toEqual({ restockId: R1, productId: 7, quantity: 3, requestedBy: 'verify' });
    const cancellation = cancellationCommand({ requestId: R2, orderId: O1 }, 0);
    expect(cancellation.key).toBe(O1);
    expect(cancelOrderCodec.decode(encodeEvent(cancellation.event)).payload).toEqual({ requestId: R2, orderId: O1, requestedBy: 'verify' });
  });
});

describe('deadLetteredRestockIds', () => {
  it('finds restocks in dead letters as product commands and as RestockInventory, and nothing in other dead letters', () => {
    const letters = [
      { value: productCommandCodec.encode({ kind: 'restock', restockId: R1, productId: 99, quantity: 1 }) },
      { value: encodeEvent(restockCommand({ restockId: R2, productId: 98, quantity: 1 }, 0).event) },
      { value: productCommandCodec.encode({ kind: 'reserve', orderId: O1, productId: 1, quantity: 1, lineCount: 2 }) },
      { value: encodeEvent(cancellationCommand({ requestId: R1, orderId: O1 }, 0).event) },
      { value: Buffer.from('not json') },
      { value: null },
    ];
    expect(deadLetteredRestockIds(letters)).toEqual(new Set([R1, R2]));
  });
});

describe('the pipeline names of a run', () => {
  const names: PipelineNames = {
    consumerGroup: 'g',
    ordersTopic: 'o',
    inventoryTopic: 'i',
    dlqTopic: 'd',
    restockCommandsTopic: 'rc',
    cancelCommandsTopic: 'cc',
    ordersConfirmedTopic: 'oc',
    ordersRejectedTopic: 'or',
    ordersCancelledTopic: 'ox',
    inventoryRestockedTopic: 'ir',
  };

  it('are given to the roles as their settings', () => {
    expect(namesEnv(names)).toEqual({
      CONSUMER_GROUP: 'g',
      ORDERS_TOPIC: 'o',
      INVENTORY_TOPIC: 'i',
      DLQ_TOPIC: 'd',
      RESTOCK_COMMANDS_TOPIC: 'rc',
      CANCEL_COMMANDS_TOPIC: 'cc',
      ORDERS_CONFIRMED_TOPIC: 'oc',
      ORDERS_REJECTED_TOPIC: 'or',
      ORDERS_CANCELLED_TOPIC: 'ox',
      INVENTORY_RESTOCKED_TOPIC: 'ir',
    });
  });

  it("are taken from a configuration, every name and nothing else: the verifier's are the app's defaults", () => {
    const taken = pipelineNamesOf(loadConfig({ ORDERS_TOPIC: 'my-orders' }, {}));
    expect(Object.keys(taken).sort()).toEqual(Object.keys(names).sort());
    expect(taken).toMatchObject({ ordersTopic: 'my-orders', consumerGroup: 'inventory-processor', dlqTopic: 'orders.dlq', inventoryRestockedTopic: 'inventory-restocked' });
  });

  it('name every topic the topology reads, the command topics and its internal topics included', () => {
    expect(internalTopics(names).sort()).toEqual(['g-line-results-repartition', 'g-product-commands-repartition']);
    expect(consumedTopics(names).sort()).toEqual(['cc', 'g-line-results-repartition', 'g-product-commands-repartition', 'o', 'rc']);
  });
});
