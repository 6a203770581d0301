import * as productsAndInventory from './0001-products-and-inventory.ts';
import * as orders from './0002-orders.ts';
import * as streamOffsets from './0003-stream-offsets.ts';
import * as outbox from './0004-outbox.ts';
import * as hotUpdateFillfactor from './0005-hot-update-fillfactor.ts';
import * as outboxParkingAndRelayLease from './0006-outbox-parking-and-relay-lease.ts';
import * as inventoryStoreTable from './0007-inventory-store-table.ts';
import * as originWatermarks from './0008-origin-watermarks.ts';
import * as lastCommitId from './0009-last-commit-id.ts';
import * as orderLines from './0010-order-lines.ts';
import * as orderFlow from './0011-order-flow.ts';
import * as outboxFramedRows from './0012-outbox-framed-rows.ts';
import * as deadLetterReplays from './0013-dead-letter-replays.ts';
import * as outboxPayloadCompression from './0014-outbox-payload-compression.ts';
import type { MigrationModule } from './context.ts';

/**
 * Every migration, in order. Listed by hand instead of globbed so the same code runs under
 * Node's type stripping and under Jest, and a missing import fails the type check.
 * Names are stored in the `schema_migrations` table: never rename one that has shipped.
 */
export const MIGRATIONS: ReadonlyArray<{ name: string; module: MigrationModule }> = [
  { name: '0001-products-and-inventory', module: productsAndInventory },
  { name: '0002-orders', module: orders },
  { name: '0003-stream-offsets', module: streamOffsets },
  { name: '0004-outbox', module: outbox },
  { name: '0005-hot-update-fillfactor', module: hotUpdateFillfactor },
  { name: '0006-outbox-parking-and-relay-lease', module: outboxParkingAndRelayLease },
  { name: '0007-inventory-store-table', module: inventoryStoreTable },
  { name: '0008-origin-watermarks', module: originWatermarks },
  { name: '0009-last-commit-id', module: lastCommitId },
  { name: '0010-order-lines', module: orderLines },
  { name: '0011-order-flow', module: orderFlow },
  { name: '0012-outbox-framed-rows', module: outboxFramedRows },
  { name: '0013-dead-letter-replays', module: deadLetterReplays },
  { name: '0014-outbox-payload-compression', module: outboxPayloadCompression },
];
