/**
 * The console page in headless Chromium against a real `topology run --console-port` (real
 * broker, real PostgreSQL, orders flowing): the graph draws every node of the description, the
 * numbers move between snapshots, a poison record shows up as a dead letter that can be
 * inspected and replayed after confirming, the lookups answer, a parked outbox row is sent
 * again on Retry, and a page of a console run on its own (`npm run console`) shows the stream
 * dropping and reconnects. Screenshots go to
 * .data/screenshots/; UPDATE_README_SCREENSHOT=1 also writes the full-page one to the README's
 * docs/console.png.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import type { KafkaProducer } from '../../../kafka/port.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { parkRecords } from '../../../state/outbox-store.ts';
import { waitFor } from '../../support/kafka.ts';
import { createPipelineFixture, type PipelineFixture, RoleProcess, readTopic } from '../../support/pipeline.ts';
import { freePorts } from '../operations/ports.ts';
import { launchChromium, README_SCREENSHOT, saveScreenshot, watchPage } from './browser.ts';

const CONSOLE_CLI = fileURLToPath(new URL('../../../app/console/cli.ts', import.meta.url));

interface Description {
  subtopologies: Array<{ id: number; nodes: Array<{ name: string }> }>;
}

/** A number as the page writes it ("1,234", "12.5/s") back to a number. */
function readNumber(text: string | null): number {
  const number = Number((text ?? '').replace(/[,/s\s]/g, ''));
  if (Number.isNaN(number)) throw new Error(`not a number on the page: ${JSON.stringify(text)}`);
  return number;
}

describe('the console page in a browser, beside a running pipeline', () => {
  let fixture: PipelineFixture;
  let browser: Browser;
  let page: Page;
  let producer: KafkaProducer;
  let base: string;
  let watched: { problems: string[] };

  beforeAll(async () => {
    fixture = await createPipelineFixture('console-page', { partitions: 2 });
    await seed(fixture.db.sequelize, { products: 10, stock: 100_000 });
    const port = await freePorts();
    const pipeline = fixture.spawnRole('all', { args: ['--rate', '30', '--console-port', String(port)] });
    const line = await fixture.diagnose(pipeline.waitForLog(/^console: open /));
    base = String(line.url).replace(/\/$/, '');
    producer = await fixture.kafka.producer({ clientId: 'console-page-test' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    watched = watchPage(page, base);
    await page.goto(`${base}/`);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await producer?.close().catch(() => {});
    await fixture?.cleanup();
  }, 30_000);

  it('shows "live" while the snapshot stream is open and draws every node of the description, each with its records/s', async () => {
    await page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-testid=connection]').textContent()).toContain('live');
    const { description } = (await (await fetch(`${base}/api/topology`)).json()) as { description: Description };
    const names = description.subtopologies.flatMap((subtopology) => subtopology.nodes.map((node) => node.name));
    const graph = page.locator('[data-testid=graph]');
    await graph.locator('[data-node]').first().waitFor();
    expect((await graph.locator('[data-node]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-node')))).sort()).toEqual([...names].sort());
    for (const name of names) expect(await graph.locator(`[data-node="${name}"] [data-rate]`).count()).toBe(1);
    for (const { id } of description.subtopologies) expect(await page.locator(`[data-testid=subtopology-lag][data-subtopology="${id}"]`).count()).toBe(1);
    // Every node is drawn inside the picture, not stacked at the origin.
    const boxes = await graph.locator('[data-node]').evaluateAll((nodes) => nodes.map((node) => (node as unknown as { getBBox(): { x: number; y: number } }).getBBox()).map((box) => `${Math.round(box.x)},${Math.round(box.y)}`));
    expect(new Set(boxes).size).toBe(names.length);
    await saveScreenshot(page, 'graph', { fullPage: false });
  });

  it('moves the numbers while orders flow: the source node rate, the orders partitions offsets', async () => {
    const ordersOffsets = async () => {
      const cells = await page.locator(`[data-testid=partitions] tr[data-partition^="${fixture.names.ordersTopic}:"] [data-col=dbOffset]`).allTextContents();
      return cells.reduce((sum, text) => sum + readNumber(text), 0);
    };
    const sourceRate = async () => readNumber(await page.locator('[data-testid=graph] [data-node="orders-source"] [data-rate]').textContent());
    await page.locator(`[data-testid=partitions] tr[data-partition="${fixture.names.ordersTopic}:0"]`).waitFor();
    const first = await ordersOffsets();
    const later = await waitFor(
      async () => {
        const offsets = await ordersOffsets();
        return offsets > first && (await sourceRate()) > 0 ? offsets : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'the orders offsets to grow and the source node to show a rate' },
    );
    expect(later).toBeGreaterThan(first);
    expect(readNumber(await page.locator('[data-testid=outbox-backlog]').textContent())).toBeGreaterThanOrEqual(0);
    await saveScreenshot(page, 'flowing');
  });

  it('lists a poison record of the orders topic as a dead letter, shows its payload, and replays it after the in-page confirmation', async () => {
    const key = `poison-${randomBytes(4).toString('hex')}`;
    const text = `order #${key}: {not json`;
    await producer.send([{ topic: fixture.names.ordersTopic, key, value: Buffer.from(text, 'utf8'), headers: { 'event-type': 'OrderCreated' } }]);

    // The list follows the dead-letter count of the snapshots: no reload.
    const row = page.locator('[data-testid=dead-letters] tr[data-letter]', { hasText: key });
    await row.waitFor({ timeout: 30_000 });
    expect(await row.count()).toBe(1);
    const letter = (await row.getAttribute('data-letter'))!;
    expect(await row.getAttribute('data-replayed')).toBe('no');
    expect(await row.textContent()).toContain('DecodeError');

    await row.getByRole('button', { name: 'Inspect' }).click();
    const payload = page.locator('[data-testid=letter-payload]');
    await payload.locator(`text=${text}`).waitFor();
    expect(await payload.getAttribute('data-letter-shown')).toBe(letter);
    expect(await payload.textContent()).toContain(fixture.names.ordersTopic);

    await row.locator('input[type=checkbox]').check();
    await page.locator('[data-testid=replay]').click();
    const dialog = page.locator('[data-testid=confirm-replay]');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(letter);
    await saveScreenshot(page, 'confirm-replay', { fullPage: false });
    await dialog.locator('[data-testid=confirm-ok]').click();
    await dialog.waitFor({ state: 'detached' });

    await page.locator(`[data-testid=dead-letters] tr[data-letter="${letter}"][data-replayed=yes]`).waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-testid=replay-result]').textContent()).toContain('Replayed 1');
    // Still poison, the replayed record comes back as a second dead letter...
    const letters = page.locator('[data-testid=dead-letters] tr[data-letter]', { hasText: key });
    await waitFor(async () => (await letters.count()) === 2, { timeoutMs: 30_000, message: 'the replayed poison record to come back as a second dead letter' });
    // ...of the record the replay put back on the orders topic, with a header naming the letter it came from.
    const replayed = (await readTopic(fixture, fixture.names.ordersTopic)).filter((record) => record.key?.toString('utf8') === key);
    expect(replayed.map((record) => record.headers['dlq-replayed-from'])).toEqual([undefined, `${fixture.names.dlqTopic}:${letter}`]);
    const second = (await letters.evaluateAll((rows) => rows.map((each) => each.getAttribute('data-letter')))).find((id) => id !== letter)!;
    await page.locator(`[data-testid=dead-letters] tr[data-letter="${second}"]`).getByRole('button', { name: 'Inspect' }).click();
    await page.locator(`[data-testid=letter-payload][data-letter-shown="${second}"]`).waitFor();
    expect(await payload.textContent()).toContain(`@ ${replayed[1]!.offset.toLocaleString('en-US')}`);
  });

  it('looks an order and a product up', async () => {
    const [order] = (await fixture.db.sequelize.query(`SELECT id FROM orders WHERE status IN ('confirmed', 'rejected') ORDER BY created_at LIMIT 1`, { type: 'SELECT' })) as Array<{ id: string }>;
    expect(order).toBeDefined();
    await page.locator('[data-testid=order-lookup]').fill(order!.id);
    await page.locator('[data-testid=order-lookup]').press('Enter');
    const orderResult = page.locator('[data-testid=order-result][data-status=found]');
    await orderResult.waitFor({ timeout: 10_000 });
    expect(await orderResult.textContent()).toContain(order!.id);

    await page.locator('[data-testid=product-lookup]').fill('1');
    await page.locator('[data-testid=product-lookup]').press('Enter');
    const productResult = page.locator('[data-testid=product-result][data-status=found]');
    await productResult.waitFor({ timeout: 10_000 });
    expect(readNumber(await productResult.locator('[data-testid=product-stock]').textContent())).toBeGreaterThan(0);
    expect(await productResult.locator('tbody tr').count()).toBeGreaterThan(0);

    // Readable at 1280 px: neither the page nor a panel scrolls sideways, even with both answers shown.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    const overflowing = await page.evaluate(`[...document.querySelectorAll('.panel')].filter((panel) => panel.scrollWidth > panel.clientWidth + 1).map((panel) => panel.querySelector('h2')?.textContent)`);
    expect(overflowing).toEqual([]);
    await saveScreenshot(page, 'console');
    // The README's picture is a tracked file: rewritten only when asked, so a test run leaves the work tree clean.
    if (process.env.UPDATE_README_SCREENSHOT === '1') await saveScreenshot(page, 'readme', { path: README_SCREENSHOT });
  });

  it('lists a parked outbox row with its error and sends it again on Retry', async () => {
    const key = `parked-${randomBytes(4).toString('hex')}`;
    await parkRecords(fixture.db.sequelize, [{ record: { eventId: `console-page-${key}`, topic: fixture.names.ordersCancelledTopic, key, payload: Buffer.from('{}'), headers: {} }, error: 'record too large for the topic' }]);
    const row = page.locator('[data-testid=parked] tr[data-parked]', { hasText: key });
    await row.waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain('record too large for the topic');
    expect(readNumber(await page.locator('[data-testid=outbox-parked]').textContent())).toBe(1);
    await row.getByRole('button', { name: 'Retry' }).click();
    await row.waitFor({ state: 'detached', timeout: 20_000 });
    expect(await page.locator('[role=status]', { hasText: 'Retried 1 row' }).count()).toBe(1);
    await waitFor(async () => readNumber(await page.locator('[data-testid=outbox-parked]').textContent()) === 0, { timeoutMs: 20_000, message: 'the parked count back to 0' });
  });

  it('follows a console run on its own (npm run console), shows the stream dropping when it stops and goes live again when it is back', async () => {
    const port = await freePorts();
    const startConsole = (name: string) => {
      const child = spawn(process.execPath, [CONSOLE_CLI, '--port', String(port), '--interval-ms', '500'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...fixture.env() },
      });
      return new RoleProcess(name, child);
    };
    let standalone = startConsole('console-1');
    try {
      await fixture.diagnose(standalone.waitForLog(/^console: open /));
      const second = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const secondWatched = watchPage(second, `http://127.0.0.1:${port}`);
      await second.goto(`http://127.0.0.1:${port}/`);
      const connection = second.locator('[data-testid=connection]');
      await second.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 20_000 });
      await second.locator('[data-testid=graph] [data-node="order-intake"]').waitFor();

      expect((await standalone.interrupt()).code).toBe(0);
      await second.locator('[data-testid=connection][data-state=disconnected]').waitFor({ timeout: 10_000 });
      expect(await connection.textContent()).toContain('disconnected');
      await saveScreenshot(second, 'disconnected', { fullPage: false });

      standalone = startConsole('console-2');
      await fixture.diagnose(standalone.waitForLog(/^console: open /));
      await second.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 30_000 });
      // Live again means new snapshots: the offsets of the orders topic keep moving on this page.
      const total = async () => (await second.locator(`[data-testid=partitions] tr[data-partition^="${fixture.names.ordersTopic}:"] [data-col=dbOffset]`).allTextContents()).reduce((sum, text) => sum + readNumber(text), 0);
      const before = await total();
      await waitFor(async () => (await total()) > before, { timeoutMs: 30_000, intervalMs: 250, message: 'the reconnected page to show new offsets' });
      await second.close();
      expect(secondWatched.problems).toEqual([]);
    } finally {
      await standalone.kill9();
    }
  });

  it('made no request outside the console and raised no error in the page', () => {
    expect(watched.problems).toEqual([]);
  });
});
