/** The outbox: backlog, and the parked rows with their errors, which an operator can send again (Retry). */
import { useState } from 'preact/hooks';
import { postJson } from './api.js';
import { formatAgo, formatCount, formatTime } from './format.js';
import { html } from './html.js';
import { useResource } from './use-resource.js';

/** Backlog and parked counts, beside the graph. */
export function OutboxSummary({ snapshot }) {
  const parkedCount = snapshot?.outbox.parked ?? 0;
  return html`<section class="panel">
    <h2>Outbox</h2>
    <div class="figures">
      <div class="figure"><span class="figure-value" data-testid="outbox-backlog">${formatCount(snapshot?.outbox.backlog)}</span><span class="figure-label">backlog (not yet published)</span></div>
      <div class=${`figure ${parkedCount > 0 ? 'bad' : ''}`}><span class="figure-value" data-testid="outbox-parked">${formatCount(parkedCount)}</span><span class="figure-label">parked (could not be sent)</span></div>
    </div>
  </section>`;
}

/** The parked rows with their errors, re-read whenever the parked count changes. */
export function ParkedRows({ snapshot }) {
  const parkedCount = snapshot?.outbox.parked ?? 0;
  const parked = useResource('/api/outbox/parked', `${parkedCount}`);
  const [message, setMessage] = useState(null);
  const rows = parked.data?.rows ?? [];
  const retry = async (ids) => {
    try {
      const answer = await postJson('/api/outbox/retry', { ids });
      setMessage({ tone: 'good', text: `Retried ${formatCount(answer.retried)} row${answer.retried === 1 ? '' : 's'}: the relay sends them again.` });
    } catch (error) {
      setMessage({ tone: 'bad', text: `Retry failed: ${error.message}` });
    }
    parked.reload();
  };
  return html`<section class="panel">
    <div class="toolbar">
      <h2>Parked outbox rows <span class="count">${formatCount(parkedCount)}</span></h2>
      <button type="button" data-testid="retry-all" disabled=${rows.length === 0} onClick=${() => retry(rows.map((row) => row.id))}>Retry all</button>
    </div>
    ${message ? html`<p class=${`notice ${message.tone}`} role="status">${message.text}</p>` : null}
    ${parked.error ? html`<p class="notice bad">Parked rows unavailable: ${parked.error}</p>` : null}
    <table data-testid="parked" class="data">
      <thead><tr><th>id</th><th>topic</th><th>key</th><th class="num">records</th><th>parked</th><th>error</th><th></th></tr></thead>
      <tbody>
        ${rows.length === 0 ? html`<tr class="empty"><td colspan="7">No parked rows: every outbox row was sent or is on its way.</td></tr>` : null}
        ${rows.map(
          (row) => html`<tr key=${row.id} data-parked=${row.id}>
            <td class="mono">${row.id}</td>
            <td class="mono">${row.topic}</td>
            <td class="mono">${row.key ?? '–'}</td>
            <td class="num">${formatCount(row.records)}</td>
            <td title=${formatTime(row.parkedAt)}>${formatAgo(row.parkedAt, snapshot?.at ?? new Date().toISOString())}</td>
            <td class="error-text">${row.error}</td>
            <td><button type="button" data-testid="retry" onClick=${() => retry([row.id])}>Retry</button></td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
