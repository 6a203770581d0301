import { DataTypes, type Model, type ModelStatic, type Optional, type Sequelize } from 'sequelize';

/**
 * Sequelize models over the tables the migrations create (the migrations are the source of
 * truth for the schema; these never `sync`). The hot paths use the set-based SQL in the
 * *-store.ts modules; models serve scripts, tests and ad-hoc inspection.
 * Defined per Sequelize instance (not as global classes) so tests can hold several databases.
 */
export interface ProductAttributes {
  id: number;
  name: string;
  /** NUMERIC arrives as a string to keep cents exact. */
  price: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface InventoryAttributes {
  productId: number;
  quantity: number;
  /** BIGINT arrives as a string. */
  version: string;
  /** The partition whose task wrote the row last; null until one did. */
  partition: number | null;
  updatedAt: Date;
}

export type OrderStatus = 'pending' | 'confirmed' | 'rejected';

export interface OrderAttributes {
  id: string;
  productId: number;
  customerId: string | null;
  quantity: number;
  status: OrderStatus;
  reason: string | null;
  sourceId: string;
  sourceSeq: string;
  createdAt: Date;
  updatedAt: Date;
  decidedAt: Date | null;
}

export interface OrderSourceProgressAttributes {
  sourceId: string;
  publishedSeq: string;
  updatedAt: Date;
}

export interface StreamOffsetAttributes {
  groupId: string;
  topic: string;
  partition: number;
  nextOffset: string;
  epoch: string;
  owner: string | null;
  updatedAt: Date;
}

export interface OutboxAttributes {
  id: string;
  eventId: string;
  topic: string;
  key: string | null;
  payload: Buffer;
  headers: Record<string, string>;
  createdAt: Date;
  publishedAt: Date | null;
  /** Set when the relay gave up on the row (the broker can never accept it); see parkError. */
  parkedAt: Date | null;
  parkError: string | null;
}

/** Instances carry their attributes as typed properties (Sequelize defines the accessors). */
type Defaulted<T extends object, K extends keyof T> = Model<T, Optional<T, K>> & T;

export interface Models {
  Product: ModelStatic<Defaulted<ProductAttributes, 'id' | 'createdAt' | 'updatedAt'>>;
  Inventory: ModelStatic<Defaulted<InventoryAttributes, 'version' | 'partition' | 'updatedAt'>>;
  Order: ModelStatic<Defaulted<OrderAttributes, 'customerId' | 'status' | 'reason' | 'createdAt' | 'updatedAt' | 'decidedAt'>>;
  OrderSourceProgress: ModelStatic<Defaulted<OrderSourceProgressAttributes, 'publishedSeq' | 'updatedAt'>>;
  StreamOffset: ModelStatic<Defaulted<StreamOffsetAttributes, 'epoch' | 'owner' | 'updatedAt'>>;
  Outbox: ModelStatic<Defaulted<OutboxAttributes, 'id' | 'key' | 'headers' | 'createdAt' | 'publishedAt' | 'parkedAt' | 'parkError'>>;
}

const common = { underscored: true, freezeTableName: true } as const;
const updatedOnly = { ...common, timestamps: true, createdAt: false, updatedAt: 'updatedAt' } as const;

/** Defines (once per instance) and returns the models bound to `sequelize`. */
export function defineModels(sequelize: Sequelize): Models {
  if (sequelize.isDefined('Product')) return sequelize.models as unknown as Models;
  const Product: Models['Product'] = sequelize.define(
    'Product',
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      name: { type: DataTypes.TEXT, allowNull: false },
      price: { type: DataTypes.DECIMAL(12, 2), allowNull: false },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...common, tableName: 'products', timestamps: true },
  );
  const Inventory: Models['Inventory'] = sequelize.define(
    'Inventory',
    {
      productId: { type: DataTypes.INTEGER, primaryKey: true },
      quantity: { type: DataTypes.INTEGER, allowNull: false, validate: { min: 0 } },
      version: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
      partition: { type: DataTypes.INTEGER, allowNull: true },
      updatedAt: DataTypes.DATE,
    },
    { ...updatedOnly, tableName: 'inventory' },
  );
  const Order: Models['Order'] = sequelize.define(
    'Order',
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      productId: { type: DataTypes.INTEGER, allowNull: false },
      customerId: { type: DataTypes.TEXT, allowNull: true },
      quantity: { type: DataTypes.INTEGER, allowNull: false, validate: { min: 1 } },
      status: { type: DataTypes.TEXT, allowNull: false, defaultValue: 'pending', validate: { isIn: [['pending', 'confirmed', 'rejected']] } },
      reason: { type: DataTypes.TEXT, allowNull: true },
      sourceId: { type: DataTypes.TEXT, allowNull: false },
      sourceSeq: { type: DataTypes.BIGINT, allowNull: false },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
      decidedAt: { type: DataTypes.DATE, allowNull: true },
    },
    { ...common, tableName: 'orders', timestamps: true },
  );
  const OrderSourceProgress: Models['OrderSourceProgress'] = sequelize.define(
    'OrderSourceProgress',
    {
      sourceId: { type: DataTypes.TEXT, primaryKey: true },
      publishedSeq: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
      updatedAt: DataTypes.DATE,
    },
    { ...updatedOnly, tableName: 'order_source_progress' },
  );
  const StreamOffset: Models['StreamOffset'] = sequelize.define(
    'StreamOffset',
    {
      groupId: { type: DataTypes.TEXT, primaryKey: true },
      topic: { type: DataTypes.TEXT, primaryKey: true },
      partition: { type: DataTypes.INTEGER, primaryKey: true },
      nextOffset: { type: DataTypes.BIGINT, allowNull: false },
      epoch: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
      owner: { type: DataTypes.TEXT, allowNull: true },
      updatedAt: DataTypes.DATE,
    },
    { ...updatedOnly, tableName: 'stream_offsets' },
  );
  const Outbox: Models['Outbox'] = sequelize.define(
    'Outbox',
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      eventId: { type: DataTypes.TEXT, allowNull: false, unique: true },
      topic: { type: DataTypes.TEXT, allowNull: false },
      key: { type: DataTypes.TEXT, allowNull: true },
      payload: { type: DataTypes.BLOB, allowNull: false },
      headers: { type: DataTypes.JSONB, allowNull: false, defaultValue: {} },
      createdAt: DataTypes.DATE,
      publishedAt: { type: DataTypes.DATE, allowNull: true },
      parkedAt: { type: DataTypes.DATE, allowNull: true },
      parkError: { type: DataTypes.TEXT, allowNull: true },
    },
    { ...common, tableName: 'outbox', timestamps: true, updatedAt: false },
  );
  Inventory.belongsTo(Product, { foreignKey: 'productId', as: 'product' });
  Product.hasOne(Inventory, { foreignKey: 'productId', as: 'inventory' });
  return { Product, Inventory, Order, OrderSourceProgress, StreamOffset, Outbox };
}
