/**
 * Unique names for the order flow's command and outcome topics, as the environment of a process
 * under test: a test that starts the app (which creates them) never shares them with another.
 */
import { uniqueName } from './kafka.ts';

export interface OrderFlowTopics {
  RESTOCK_COMMANDS_TOPIC: string;
  CANCEL_COMMANDS_TOPIC: string;
  ORDERS_CONFIRMED_TOPIC: string;
  ORDERS_REJECTED_TOPIC: string;
  ORDERS_CANCELLED_TOPIC: string;
  INVENTORY_RESTOCKED_TOPIC: string;
}

export function orderFlowTopics(label: string): OrderFlowTopics {
  return {
    RESTOCK_COMMANDS_TOPIC: uniqueName(`${label}-restock-commands`),
    CANCEL_COMMANDS_TOPIC: uniqueName(`${label}-cancel-commands`),
    ORDERS_CONFIRMED_TOPIC: uniqueName(`${label}-confirmed`),
    ORDERS_REJECTED_TOPIC: uniqueName(`${label}-rejected`),
    ORDERS_CANCELLED_TOPIC: uniqueName(`${label}-cancelled`),
    INVENTORY_RESTOCKED_TOPIC: uniqueName(`${label}-restocked`),
  };
}
