import winston from 'winston';
import { redactSecrets, redactValue } from './redact.ts';

export type LogFields = Record<string, unknown>;

/**
 * The logging API the project codes against: namespaced and structured, passed in to
 * whoever needs it. winston is only the sink behind it.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `namespace` (joined with dots) and the given fields. */
  child(namespace: string, fields?: LogFields): Logger;
}

export type LogFormat = 'auto' | 'json' | 'pretty';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LoggerOptions {
  level?: LogLevel;
  /** `auto`: readable lines on a TTY, JSON lines otherwise. */
  format?: LogFormat;
  /** Where lines go; stderr by default so stdout stays free for command output. */
  stream?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const format = options.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && (stream as { isTTY?: boolean }).isTTY === true);
  const base = winston.createLogger({
    level: options.level ?? 'info',
    format: pretty ? prettyFormat() : winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream })],
  });
  return wrap(base, undefined, {});
}

function wrap(base: winston.Logger, namespace: string | undefined, fields: LogFields): Logger {
  // Every line passes through the redaction: no caller has to remember that a URL may carry a password.
  const log = (level: LogLevel) => (message: string, extra?: LogFields) => {
    // Checked first: Sequelize hands every statement (megabytes for a big batch) to debug.
    if (!base.isLevelEnabled(level)) return;
    base.log(level, redactSecrets(message), redactValue({ ...(namespace ? { ns: namespace } : {}), ...fields, ...extra }) as LogFields);
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (childNamespace, childFields = {}) =>
      wrap(base, namespace ? `${namespace}.${childNamespace}` : childNamespace, { ...fields, ...childFields }),
  };
}

function prettyFormat() {
  return winston.format.combine(
    winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
    winston.format.colorize(),
    winston.format.printf((info) => {
      const { timestamp, level, message, ns, ...rest } = info as Record<string, unknown>;
      const extras = Object.entries(rest)
        .filter(([key]) => typeof key === 'string')
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value, bigintSafe)}`)
        .join(' ');
      return `${timestamp} ${level} ${ns ? `[${ns}] ` : ''}${message}${extras ? ` ${extras}` : ''}`;
    }),
  );
}

function bigintSafe(_key: string, value: unknown) {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** A logger that drops everything: for tests that do not look at logs. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
