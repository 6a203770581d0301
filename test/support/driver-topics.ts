/** The reference topology's topics as the test-driver tests name them (no broker: any names do). */
import type { ReferenceTopics } from '../../processors/reference-pipeline.ts';

export const DRIVER_TOPICS: ReferenceTopics = {
  orders: 'orders',
  inventoryUpdated: 'inventory-updated',
  restockCommands: 'inventory-restock-commands',
  cancelCommands: 'order-cancel-commands',
  ordersConfirmed: 'orders-confirmed',
  ordersRejected: 'orders-rejected',
  ordersCancelled: 'orders-cancelled',
  inventoryRestocked: 'inventory-restocked',
};
