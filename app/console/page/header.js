/** The header: group, total lag, outcome rates, outbox and dead-letter counts, and whether the stream is live. */
import { formatCount, formatRate, hasLag } from './format.js';
import { html } from './html.js';

const CONNECTION_TEXT = { live: 'live', connecting: 'connecting…', disconnected: 'disconnected – reconnecting' };

function Stat({ label, value, tone, testid }) {
  return html`<div class=${`stat ${tone ?? ''}`}>
    <span class="stat-label">${label}</span>
    <span class="stat-value" data-testid=${testid}>${value}</span>
  </div>`;
}

export function Header({ group, snapshot, connection }) {
  const rates = snapshot?.outcomeRates ?? { confirmed: 0, rejected: 0, restocked: 0 };
  const totalLag = snapshot?.totalLag ?? '0';
  return html`<header class="top">
    <div class="title">
      <h1>kstream-commerce</h1>
      <span class="group" title="consumer group">${group ?? snapshot?.group ?? '…'}</span>
    </div>
    <div class="stats">
      <${Stat} label="total lag" value=${formatCount(totalLag)} tone=${hasLag(totalLag) ? 'warn' : ''} testid="total-lag" />
      <${Stat} label="confirmed" value=${formatRate(rates.confirmed)} tone="good" testid="rate-confirmed" />
      <${Stat} label="rejected" value=${formatRate(rates.rejected)} testid="rate-rejected" />
      <${Stat} label="restocked" value=${formatRate(rates.restocked)} testid="rate-restocked" />
      <${Stat} label="outbox backlog" value=${formatCount(snapshot?.outbox.backlog)} testid="header-backlog" />
      <${Stat} label="dead letters" value=${formatCount(snapshot?.deadLetters.count)} tone=${hasLag(snapshot?.deadLetters.count ?? '0') ? 'bad' : ''} testid="header-dead-letters" />
    </div>
    <div class=${`connection connection-${connection}`} data-testid="connection" data-state=${connection} title=${snapshot ? `last snapshot ${snapshot.at}` : ''}>
      <span class="dot"></span>${CONNECTION_TEXT[connection] ?? connection}
    </div>
  </header>`;
}
