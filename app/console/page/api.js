/**
 * The console API as the page uses it: JSON requests whose failures carry the server's
 * {"error": "..."} message, and the snapshot stream (Server-Sent Events) that reconnects by
 * itself when it drops.
 */
import { useEffect, useState } from 'preact/hooks';

async function answerOf(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = new Error(body?.error ?? `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

export async function getJson(path) {
  return answerOf(await fetch(path, { headers: { accept: 'application/json' } }));
}

export async function postJson(path, body) {
  return answerOf(await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) }));
}

/** The longest wait between two attempts to reopen the stream. */
const MAX_RETRY_MS = 10_000;

/**
 * The latest snapshot from /api/events and the stream's state: 'connecting', 'live' (open) or
 * 'disconnected' (waiting to retry). EventSource retries a dropped connection itself, but gives
 * up for good on an HTTP error answer, so a closed source is reopened here, with a growing delay.
 */
export function useSnapshotStream(path = '/api/events') {
  const [snapshot, setSnapshot] = useState(null);
  const [connection, setConnection] = useState('connecting');
  useEffect(() => {
    let source;
    let retryTimer;
    let delay = 500;
    let stopped = false;
    const open = () => {
      source = new EventSource(path);
      source.onopen = () => {
        delay = 500;
        setConnection('live');
      };
      source.addEventListener('snapshot', (event) => {
        setSnapshot(JSON.parse(event.data));
        setConnection('live');
      });
      source.onerror = () => {
        setConnection('disconnected');
        if (source.readyState === EventSource.CLOSED && !stopped) {
          retryTimer = setTimeout(open, delay);
          delay = Math.min(delay * 2, MAX_RETRY_MS);
        }
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retryTimer);
      source?.close();
    };
  }, [path]);
  return { snapshot, connection };
}
