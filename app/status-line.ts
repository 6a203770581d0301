/**
 * The live status line of `topology run`: once a second, from the database offsets and the
 * broker's high watermarks (the outcome topics' among them: orders confirmed and rejected,
 * restocks applied). Rewritten in place on a terminal, logged every 10 s otherwise.
 */
import type { AppConfig } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { memoryStores } from '../processors/reference-pipeline.ts';
import type { Services } from './bootstrap.ts';
import { referenceTopology } from './processor-app.ts';
import { buildStatus, formatRate, outcomeTopicsOf, type StatusReport, type StatusSnapshot, subtopologyTopics, takeSnapshot } from './status.ts';

export function startStatusLine(config: AppConfig, services: Services, logger: Logger, extra: () => string[] = () => []): { stop(): Promise<void> } {
  const tty = process.stderr.isTTY === true;
  const subtopologies = subtopologyTopics(referenceTopology(config, memoryStores()));
  const deps = { sequelize: services.sequelize, admin: services.admin, group: config.consumerGroup, topics: subtopologies.flatMap((subtopology) => subtopology.topics), dlqTopic: config.dlqTopic, outcomeTopics: outcomeTopicsOf(config) };
  let previous: StatusSnapshot | undefined;
  let ticks = 0;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const current = await takeSnapshot(deps);
      if (previous) {
        const line = formatStatusLine(buildStatus(config.consumerGroup, subtopologies, previous, current), extra());
        if (tty) process.stderr.write(`\r\x1b[2K${line}`);
        else if (ticks % 10 === 0) logger.info(line);
      }
      previous = current;
      ticks++;
    } catch (error) {
      logger.warn('status line could not read the offsets', { error: errorMessage(error) });
    } finally {
      busy = false;
    }
  }, 1000);
  return {
    stop: async () => {
      clearInterval(timer);
      if (tty) process.stderr.write('\n');
    },
  };
}

/**
 * `processed 120/s | confirmed 41/s | rejected 3.2/s | restocked 0.4/s | lag 12 | ...`: the rates
 * between two ticks; restocked counts restocks applied (InventoryRestocked events), not units.
 */
export function formatStatusLine(report: StatusReport, extra: readonly string[] = []): string {
  const rate = report.replicas.reduce((sum, replica) => sum + replica.ratePerSecond, 0);
  const outcomes = report.outcomeRates;
  return [
    `processed ${rate}/s`,
    `confirmed ${formatRate(outcomes.confirmed)}/s`,
    `rejected ${formatRate(outcomes.rejected)}/s`,
    `restocked ${formatRate(outcomes.restocked)}/s`,
    `lag ${report.totalLag}`,
    `replicas ${new Set(report.replicas.map((replica) => replica.replica)).size}`,
    `outbox ${report.outboxBacklog}`,
    `dlq ${report.deadLetters}`,
    ...extra,
  ].join(' | ');
}
