/**
 * The building blocks of the event contracts: TypeBox schemas (which are JSON Schema, so the
 * AsyncAPI document uses them as they are) for the kinds of field the pipeline's events carry,
 * each with the wording of its error message attached, and `compileContract`, which turns a
 * schema into the check a decoder runs per record.
 *
 * The check on the hot path is TypeBox's compiled one. Only when it fails does
 * `firstSchemaError` walk the schema to name the failure: the first failing field in the order
 * the schema declares its properties (TypeBox's own error iterator reports missing properties
 * before the ones present, and a union's failure at the union), in the same words the
 * hand-written validators used, because a poison record's dead-letter headers carry them and
 * operators match on them. TypeBox's first error at that field gives the kind of the failure
 * (a bound, a pattern, a type); the field's wording turns it into the message.
 *
 * Decoding also refuses values the database cannot hold: ids and quantities live in
 * PostgreSQL `integer` columns and order ids in a `uuid` column, and a value outside them
 * would make the batch's SQL fail (and halt the partition) instead of dead-lettering the one
 * record that carries it.
 */
import { FormatRegistry, Kind, type TLiteral, type TObject, type TSchema, type TUnion, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { SchemaError } from '../core/codec.ts';

/**
 * The largest value of a PostgreSQL `integer` (int4): products.id, inventory.product_id,
 * inventory.quantity, orders.product_id and orders.quantity are of that type.
 */
export const PG_INTEGER_MAX = 2_147_483_647;

/** What follows the path in a field's error message ("must be a UUID, got 42"), given the value and what TypeBox found wrong. */
export type Wording = (value: unknown, failure: ValueErrorType) => string;

/**
 * Where a schema keeps its wording: under a symbol, like TypeBox's own `Kind`, so it never
 * reaches the JSON form of the schema (the AsyncAPI document).
 */
const WORDING = Symbol.for('kstream.contracts.wording');

/** Marks a field whose wording also covers its absence ("must be one of a, b, got undefined"), as the hand-written checks said. */
const WORDS_ABSENCE = Symbol.for('kstream.contracts.words-absence');

type Worded<T extends TSchema> = T & { [WORDING]?: Wording; [WORDS_ABSENCE]?: true };

function worded<T extends TSchema>(schema: T, wording: Wording): T {
  (schema as Worded<T>)[WORDING] = wording;
  return schema;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

// ---------------------------------------------------------------------------------------
// Formats. TypeBox checks a `format` only through its registry; `date-time` is the JSON Schema
// name readers of the AsyncAPI document know.

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const isIsoTimestamp = (text: string) => ISO_TIMESTAMP.test(text) && !Number.isNaN(Date.parse(text));
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', isIsoTimestamp);

// ---------------------------------------------------------------------------------------
// Fields.

const nonEmptyWording: Wording = (value) => `must be a non-empty string, got ${describe(value)}`;

/** A string that is not empty. */
export const nonEmptyString = (options: { description?: string } = {}) => worded(Type.String({ minLength: 1, ...options }), nonEmptyWording);

/** Text stored in a PostgreSQL `text` column, which cannot hold U+0000. */
export const pgText = (options: { description?: string } = {}) =>
  worded(Type.String({ minLength: 1, pattern: '^[^\\u0000]*$', ...options }), (value, failure) =>
    failure === ValueErrorType.StringPattern ? 'must not contain U+0000 (PostgreSQL text cannot hold it)' : nonEmptyWording(value, failure),
  );

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** Any RFC 9562 layout (not only v7: other order sources may use v4), in either case; decoders lower-case it so ids compare as one. */
export const uuid = (options: { description?: string } = {}) =>
  worded(Type.String({ minLength: 1, pattern: UUID_PATTERN, ...options }), (value, failure) =>
    failure === ValueErrorType.StringPattern ? `must be a UUID, got ${describe(value)}` : nonEmptyWording(value, failure),
  );

export const timestamp = (options: { description?: string } = {}) =>
  worded(Type.String({ minLength: 1, format: 'date-time', ...options }), (value, failure) =>
    failure === ValueErrorType.StringFormat ? `must be an ISO-8601 timestamp, got ${describe(value)}` : nonEmptyWording(value, failure),
  );

/** A Kafka offset as a decimal string: it is 64-bit, more than a JSON number holds exactly. */
export const offset = (options: { description?: string } = {}) =>
  worded(Type.String({ minLength: 1, pattern: '^(0|[1-9]\\d{0,18})$', ...options }), (value, failure) =>
    failure === ValueErrorType.StringPattern ? `must be a non-negative decimal offset string, got ${describe(value)}` : nonEmptyWording(value, failure),
  );

const isSafeInteger = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

/**
 * An integer from `minimum` to `maximum` (at most Number.MAX_SAFE_INTEGER: a larger one would not
 * round-trip through JSON exactly). `what` words the field ("a positive integer"); `above`, when
 * given, words a safe integer above the maximum ("at most 2147483647").
 */
export function integer(options: { minimum: number; maximum?: number; what: string; above?: string; description?: string }) {
  const { what, above, maximum = Number.MAX_SAFE_INTEGER, ...rest } = options;
  return worded(Type.Integer({ ...rest, maximum }), (value, failure) =>
    above !== undefined && failure === ValueErrorType.IntegerMaximum && isSafeInteger(value) ? `must be ${above}, got ${value}` : `must be ${what}, got ${describe(value)}`,
  );
}

/** A value of a PostgreSQL `integer` column: above the bound, the batch's SQL cast would fail. */
const pgInteger = (minimum: number, what: string, description?: string) =>
  integer({ minimum, maximum: PG_INTEGER_MAX, what, above: `at most ${PG_INTEGER_MAX} (a PostgreSQL integer)`, ...(description === undefined ? {} : { description }) });

export const positiveInteger = (description?: string) => integer({ minimum: 1, what: 'a positive integer', ...(description === undefined ? {} : { description }) });
export const nonNegativeInteger = (description?: string) => integer({ minimum: 0, what: 'a non-negative integer', ...(description === undefined ? {} : { description }) });
export const positivePgInteger = (description?: string) => pgInteger(1, 'a positive integer', description);
export const nonNegativePgInteger = (description?: string) => pgInteger(0, 'a non-negative integer', description);

/** One of a few strings. */
export function oneOf<T extends string>(values: readonly T[], options: { description?: string } = {}) {
  const schema = worded(Type.Union(values.map((value): TLiteral<T> => Type.Literal(value)), options), (value) => `must be one of ${values.join(', ')}, got ${describe(value)}`);
  (schema as Worded<typeof schema>)[WORDS_ABSENCE] = true;
  return schema;
}

/** Exactly this string: a message's `type`, a variant's discriminator. */
export function literal<const T extends string>(value: T) {
  return worded(Type.Literal(value), (actual, failure) =>
    typeof actual === 'string' && actual.length > 0 ? `must be ${JSON.stringify(value)}, got ${describe(actual)}` : nonEmptyWording(actual, failure),
  );
}

/** An array of `items`, `minItems` to `maxItems` long; `count` words a wrong length ("must have 1 to 100 lines, got 0"). */
export function arrayOf<T extends TSchema>(items: T, options: { minItems?: number; maxItems?: number; count?: (length: number) => string; description?: string }) {
  const { count, ...rest } = options;
  const schema = Type.Array(items, rest);
  if (count === undefined) return schema;
  return worded(schema, (value, failure) =>
    failure === ValueErrorType.ArrayMinItems || failure === ValueErrorType.ArrayMaxItems ? count((value as unknown[]).length) : `must be an array, got ${describe(value)}`,
  );
}

// ---------------------------------------------------------------------------------------
// Naming the first failure.

/** TypeBox's JSON pointer (`/payload/lines/2/productId`) as the path in our messages (`payload.lines[2].productId`). */
function pathOf(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/**
 * A union of objects that all have a property fixed to a literal (`kind`, `outcome`): which
 * variant applies is read off that property, so a failure is named within that variant.
 */
function discriminatorOf(union: TUnion): string | undefined {
  const variants = union.anyOf;
  if (!variants.every((variant) => variant[Kind] === 'Object')) return undefined;
  const first = variants[0] as TObject | undefined;
  if (first === undefined) return undefined;
  return Object.keys(first.properties).find((key) =>
    variants.every((variant) => {
      const property = (variant as TObject).properties[key];
      return property !== undefined && property[Kind] === 'Literal' && (variant as TObject).required?.includes(key);
    }),
  );
}

function fail(path: string, rootName: string, message: string): SchemaError {
  const shown = path === '' ? rootName : path;
  return new SchemaError(shown, `${shown} ${message}`);
}

/** The first failure in `value` against `schema`, walking properties in declared order; undefined when it passes. */
function firstFailure(schema: TSchema, value: unknown, path: string, rootName: string): SchemaError | undefined {
  const kind = schema[Kind];
  if (kind === 'Object') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(path, rootName, `must be an object, got ${describe(value)}`);
    const object = schema as TObject;
    const record = value as Record<string, unknown>;
    for (const [key, property] of Object.entries(object.properties)) {
      const child = record[key];
      if (child === undefined) {
        if (!object.required?.includes(key)) continue;
        const wording = (property as Worded<TSchema>)[WORDS_ABSENCE] ? (property as Worded<TSchema>)[WORDING] : undefined;
        return fail(pathOf(path, key), rootName, wording ? wording(undefined, ValueErrorType.ObjectRequiredProperty) : 'is missing');
      }
      const failure = firstFailure(property, child, pathOf(path, key), rootName);
      if (failure) return failure;
    }
    return undefined;
  }
  if (kind === 'Union') {
    const union = schema as TUnion;
    const discriminator = discriminatorOf(union);
    if (discriminator !== undefined) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(path, rootName, `must be an object, got ${describe(value)}`);
      const tag = (value as Record<string, unknown>)[discriminator];
      const variants = union.anyOf as TObject[];
      const variant = variants.find((candidate) => (candidate.properties[discriminator] as TLiteral).const === tag);
      if (variant) return firstFailure(variant, value, path, rootName);
      // No variant has this tag: the fields before the tag are common to all, so name a failure there first.
      const tags = variants.map((candidate) => String((candidate.properties[discriminator] as TLiteral).const));
      const anyTag = oneOf(tags);
      const first = variants[0]!;
      return firstFailure(Type.Object({ ...first.properties, [discriminator]: anyTag }, { required: first.required }), value, path, rootName);
    }
  }
  if (kind === 'Array' && Array.isArray(value)) {
    const own = leafFailure(schema, value, path, rootName);
    if (own) return own;
    for (const [index, item] of value.entries()) {
      const failure = firstFailure(schema.items as TSchema, item, pathOf(path, index), rootName);
      if (failure) return failure;
    }
    return undefined;
  }
  return leafFailure(schema, value, path, rootName);
}

/** A field's own failure (its type, bounds, pattern, format; an array's length), as TypeBox reports it first, in the field's wording. */
function leafFailure(schema: TSchema, value: unknown, path: string, rootName: string): SchemaError | undefined {
  const own = schema[Kind] === 'Array' ? { ...schema, items: Type.Unknown() } : schema;
  const first = Value.Errors(own, value).First();
  if (first === undefined) return undefined;
  const wording = (schema as Worded<TSchema>)[WORDING];
  if (wording) return fail(path, rootName, wording(value, first.type));
  if (first.type === ValueErrorType.Array) return fail(path, rootName, `must be an array, got ${describe(value)}`);
  return fail(path, rootName, `${first.message.toLowerCase()}, got ${describe(value)}`);
}

/**
 * The SchemaError naming the first field of `value` that `schema` refuses (paths relative to the
 * root, which is called `rootName` when it fails itself); undefined when the value passes.
 */
export function firstSchemaError(schema: TSchema, value: unknown, rootName: string): SchemaError | undefined {
  return firstFailure(schema, value, '', rootName);
}

export interface Contract<T extends TSchema> {
  readonly schema: T;
  /** Throws the SchemaError naming the first failure, or returns the value as checked. */
  assert(value: unknown): void;
}

/** A schema compiled once into the check a decoder runs on every record. */
export function compileContract<T extends TSchema>(schema: T, rootName: string): Contract<T> {
  const check = TypeCompiler.Compile(schema);
  return {
    schema,
    assert(value) {
      if (check.Check(value)) return;
      // The compiled check and the walk must agree; if ever they do not, refuse the record anyway.
      throw firstSchemaError(schema, value, rootName) ?? new SchemaError(rootName, `${rootName} does not match its schema`);
    },
  };
}
