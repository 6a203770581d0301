/** Reads a console's Server-Sent Events stream until a condition on the snapshots received holds. */
import type { Snapshot } from '../../../app/console/snapshot.ts';

export async function readEvents(url: string, enough: (snapshots: Snapshot[]) => boolean, timeoutMs = 30_000): Promise<Snapshot[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const snapshots: Snapshot[] = [];
  try {
    const response = await fetch(url, { signal: abort.signal });
    if (response.headers.get('content-type') !== 'text/event-stream; charset=utf-8') throw new Error(`not an event stream: ${response.headers.get('content-type')}`);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let end = buffered.indexOf('\n\n');
      while (end >= 0) {
        const message = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const lines = message.split('\n');
        if (lines[0] === 'event: snapshot') snapshots.push(JSON.parse(lines[1]!.slice('data: '.length)) as Snapshot);
        end = buffered.indexOf('\n\n');
      }
      if (enough(snapshots)) return snapshots;
    }
    throw new Error(`the stream ended after ${snapshots.length} snapshots`);
  } catch (error) {
    if (abort.signal.aborted) throw new Error(`timed out after ${timeoutMs} ms with ${snapshots.length} snapshots: ${JSON.stringify(snapshots.at(-1)?.nodes)}`);
    throw error;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}
