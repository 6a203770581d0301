/** The partitions table (owner, epoch, database offset, high watermark, lag, last commit) and the replicas with their partitions. */
import { formatAgo, formatCount, formatRate, formatTime, hasLag } from './format.js';
import { html } from './html.js';

export function PartitionsTable({ snapshot }) {
  const partitions = snapshot?.partitions ?? [];
  return html`<section class="panel">
    <h2>Partitions <span class="count">${partitions.length}</span></h2>
    <table data-testid="partitions" class="data">
      <thead>
        <tr><th>topic</th><th class="num">partition</th><th class="num">sub-topology</th><th>owner</th><th class="num">epoch</th><th class="num">DB offset</th><th class="num">high watermark</th><th class="num">lag</th><th>last commit</th></tr>
      </thead>
      <tbody>
        ${partitions.length === 0 ? html`<tr class="empty"><td colspan="9">No partition claimed yet: is a processor running?</td></tr>` : null}
        ${partitions.map(
          (row) => html`<tr key=${`${row.topic}:${row.partition}`} data-partition=${`${row.topic}:${row.partition}`} class=${hasLag(row.lag) ? 'lagging' : ''}>
            <td data-col="topic" class="mono">${row.topic}</td>
            <td data-col="partition" class="num">${row.partition}</td>
            <td data-col="subtopology" class="num">${row.subtopology}</td>
            <td data-col="owner" class=${row.owner ? 'mono' : 'muted'}>${row.owner ?? 'unowned'}</td>
            <td data-col="epoch" class="num">${formatCount(row.epoch)}</td>
            <td data-col="dbOffset" class="num">${formatCount(row.dbOffset)}</td>
            <td data-col="highWatermark" class="num">${formatCount(row.highWatermark)}</td>
            <td data-col="lag" class="num lag">${formatCount(row.lag)}</td>
            <td data-col="lastCommit" title=${formatTime(row.lastCommitAt)}>${formatAgo(row.lastCommitAt, snapshot.at)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

/** Each replica with the partitions it owns, topic by topic, and its records/s. */
export function ReplicasTable({ snapshot }) {
  const byReplica = new Map();
  for (const row of snapshot?.replicas ?? []) {
    if (!byReplica.has(row.replica)) byReplica.set(row.replica, []);
    byReplica.get(row.replica).push(row);
  }
  return html`<section class="panel">
    <h2>Replicas <span class="count">${byReplica.size}</span></h2>
    <div data-testid="replicas" class="replicas">
      ${byReplica.size === 0 ? html`<p class="muted empty-note">No replica owns a partition.</p>` : null}
      ${[...byReplica].map(
        ([replica, rows]) => html`<div class="replica" key=${replica} data-replica=${replica}>
          <div class="replica-head">
            <span class="mono replica-name">${replica}</span>
            <span class="muted">${formatCount(rows.reduce((sum, row) => sum + row.partitions.length, 0))} partitions · ${formatRate(rows.reduce((sum, row) => sum + row.ratePerSecond, 0))}</span>
          </div>
          <table class="data compact">
            <tbody>
              ${rows.map(
                (row) => html`<tr key=${row.topic}>
                  <td class="mono small topic-cell" title=${row.topic}>${row.topic}</td>
                  <td class="mono small">${row.partitions.join(', ')}</td>
                  <td class="num small">${formatRate(row.ratePerSecond)}</td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>`,
      )}
    </div>
  </section>`;
}
