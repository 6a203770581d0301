/**
 * GET /api/events: Server-Sent Events. The latest snapshot at once (`event: snapshot`), then
 * every new one as the feed samples it; a `: ping` comment every PING_MS keeps proxies and the
 * browser from closing an idle stream (a stalled sampler sends no snapshots, but pings go on).
 */
import type http from 'node:http';
import type { Snapshot } from './snapshot.ts';
import type { SnapshotFeed } from './snapshot-feed.ts';

export const PING_MS = 15_000;

/** One SSE message: an event name and its data (JSON has no raw newline, so one data line). */
export function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function streamSnapshots(feed: SnapshotFeed, request: http.IncomingMessage, response: http.ServerResponse, pingMs = PING_MS): void {
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  // The browser reconnects after this many ms when the console restarts.
  response.write('retry: 2000\n\n');
  let open = true;
  const send = (snapshot: Snapshot) => {
    if (open) response.write(sseMessage('snapshot', snapshot));
  };
  let sentFirst = false;
  const unsubscribe = feed.subscribe((snapshot) => {
    sentFirst = true;
    send(snapshot);
  });
  // The latest at once; a sample that arrives first makes it stale, so it is not sent after that.
  feed.latest().then(
    (snapshot) => {
      if (!sentFirst) send(snapshot);
    },
    () => {
      // The first sample failed: the stream waits for the next one.
    },
  );
  const ping = setInterval(() => {
    if (open) response.write(': ping\n\n');
  }, pingMs);
  const close = () => {
    open = false;
    clearInterval(ping);
    unsubscribe();
  };
  request.once('close', close);
  response.once('close', close);
}
