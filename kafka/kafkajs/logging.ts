/** Routes kafkajs's own log lines into our Logger, warnings and errors only. */
import { type LogEntry, type logCreator, logLevel } from 'kafkajs';
import type { Logger } from '../../core/logger.ts';

export const KAFKAJS_LOG_LEVEL = logLevel.WARN;

export function kafkajsLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      const target = namespace ? logger.child(namespace) : logger;
      if (level === logLevel.ERROR) target.error(message, fields);
      else if (level === logLevel.WARN) target.warn(message, fields);
      else if (level === logLevel.INFO) target.info(message, fields);
      else target.debug(message, fields);
    };
}
