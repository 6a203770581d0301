/** Every sub-topology with the topics it reads, its lag and its records/s. */
import { formatCount, formatRate, hasLag } from './format.js';
import { html } from './html.js';

export function SubtopologiesList({ description, snapshot }) {
  const live = new Map((snapshot?.subtopologies ?? []).map((each) => [each.id, each]));
  const ids = description ? description.subtopologies.map((each) => each.id) : [...live.keys()];
  return html`<section class="panel">
    <h2>Sub-topologies</h2>
    <table class="data" data-testid="subtopologies">
      <thead><tr><th>#</th><th>reads</th><th class="num">lag</th><th class="num">records/s</th></tr></thead>
      <tbody>
        ${ids.length === 0 ? html`<tr class="empty"><td colspan="4">Loading…</td></tr>` : null}
        ${ids.map((id) => {
          const entry = live.get(id);
          const topics = entry?.topics ?? description?.subtopologies.find((each) => each.id === id)?.nodes.filter((node) => node.type === 'source').flatMap((node) => node.topics) ?? [];
          return html`<tr key=${id} data-subtopology-row=${id} class=${hasLag(entry?.totalLag ?? '0') ? 'lagging' : ''}>
            <td class="num">${id}</td>
            <td class="mono small">${topics.map((topic) => html`<div class="clip-line" key=${topic} title=${topic}>${topic}</div>`)}</td>
            <td class="num lag">${formatCount(entry?.totalLag ?? '0')}</td>
            <td class="num">${formatRate(entry?.recordsPerSecond ?? 0)}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  </section>`;
}
