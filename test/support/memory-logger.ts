import type { LogFields, Logger, LogLevel } from '../../core/logger.ts';

/** A logger that keeps lines in memory: for tests that assert on what was logged. */
export function memoryLogger(): Logger & { lines: Array<{ level: LogLevel; message: string; fields: LogFields }> } {
  const lines: Array<{ level: LogLevel; message: string; fields: LogFields }> = [];
  const make = (namespace: string | undefined, fields: LogFields): Logger => {
    const log = (level: LogLevel) => (message: string, extra?: LogFields) =>
      lines.push({ level, message, fields: { ...(namespace ? { ns: namespace } : {}), ...fields, ...extra } });
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (ns, childFields = {}) => make(namespace ? `${namespace}.${ns}` : ns, { ...fields, ...childFields }),
    };
  };
  return Object.assign(make(undefined, {}), { lines });
}
