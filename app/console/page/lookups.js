/** Look up an order (lines, outcome, events, trace id) or a product (stock, its InventoryUpdated history) by id. */
import { useState } from 'preact/hooks';
import { getJson } from './api.js';
import { formatClock, formatCount, formatTime } from './format.js';
import { html } from './html.js';

/** A lookup form and its answer: idle, loading, found (the JSON), not found, or an error. */
function useLookup(pathOf) {
  const [state, setState] = useState({ status: 'idle' });
  const lookUp = async (id) => {
    const trimmed = id.trim();
    if (trimmed === '') return;
    setState({ status: 'loading', id: trimmed });
    try {
      setState({ status: 'found', id: trimmed, data: await getJson(pathOf(encodeURIComponent(trimmed))) });
    } catch (error) {
      setState(error.status === 404 ? { status: 'missing', id: trimmed } : { status: 'error', id: trimmed, error: error.message });
    }
  };
  return [state, lookUp];
}

function LookupForm({ testid, placeholder, label, onSubmit }) {
  const [value, setValue] = useState('');
  return html`<form class="lookup" onSubmit=${(event) => {
    event.preventDefault();
    onSubmit(value);
  }}>
    <input data-testid=${testid} aria-label=${label} placeholder=${placeholder} value=${value} onInput=${(event) => setValue(event.currentTarget.value)} />
    <button type="submit">Look up</button>
  </form>`;
}

function Fields({ record }) {
  return html`<dl class="fields">
    ${Object.entries(record).map(([name, value]) => html`<div key=${name}><dt>${name}</dt><dd class=${name === 'status' ? `status status-${value}` : 'mono'}>${value === null ? '–' : name.endsWith('At') ? formatTime(value) : String(value)}</dd></div>`)}
  </dl>`;
}

function Answer({ state, children }) {
  if (state.status === 'idle') return html`<p class="muted">Enter an id.</p>`;
  if (state.status === 'loading') return html`<p class="muted">Looking up ${state.id}…</p>`;
  if (state.status === 'missing') return html`<p class="notice">No such id: ${state.id}</p>`;
  if (state.status === 'error') return html`<p class="notice bad">Lookup failed: ${state.error}</p>`;
  return children(state.data);
}

function OrderAnswer({ data }) {
  return html`<div>
    <${Fields} record=${data.order} />
    <div class="trace">trace id <span class="mono" data-testid="order-trace">${data.traceId ?? '–'}</span></div>
    <h4>Lines</h4>
    <table class="data compact">
      <thead><tr><th>product</th><th class="num">quantity</th><th>outcome</th><th>reason</th></tr></thead>
      <tbody>${data.lines.map(
        (line, index) =>
          html`<tr key=${index}><td class="mono">${line.productId}</td><td class="num">${formatCount(line.quantity)}</td><td class=${line.status ? `status status-${line.status}` : 'muted'}>${line.status ?? 'pending'}</td><td class="small">${line.reason ?? ''}</td></tr>`,
      )}</tbody>
    </table>
    <h4>Events</h4>
    <table class="data compact">
      <thead><tr><th>at (UTC)</th><th>type</th><th>topic</th><th>event id</th></tr></thead>
      <tbody>
        ${data.events.length === 0 ? html`<tr class="empty"><td colspan="4">No event yet.</td></tr>` : null}
        ${data.events.map(
          (event) =>
            html`<tr key=${event.eventId} title=${event.traceparent ? `traceparent ${event.traceparent}` : 'no traceparent'}><td class="nowrap" title=${formatTime(event.at)}>${formatClock(event.at)}</td><td>${event.type}</td><td class="mono small clip" title=${event.topic}>${event.topic}</td><td class="mono small clip" title=${event.eventId}>${event.eventId}</td></tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** History rows shown before "show all": enough to see the latest changes without a page-long table. */
const HISTORY_ROWS = 8;

function ProductAnswer({ data }) {
  const [all, setAll] = useState(false);
  const history = all ? data.history : data.history.slice(0, HISTORY_ROWS);
  return html`<div>
    <${Fields} record=${data.product} />
    <div class="figures">
      <div class="figure"><span class="figure-value" data-testid="product-stock">${formatCount(data.stock.quantity)}</span><span class="figure-label">in stock</span></div>
      <div class="figure"><span class="figure-value">${data.stock.version === null ? '–' : formatCount(data.stock.version)}</span><span class="figure-label">version</span></div>
    </div>
    <h4>InventoryUpdated history <span class="muted">(newest first)</span></h4>
    <table class="data compact">
      <thead><tr><th class="num">version</th><th class="num">quantity</th><th class="num">delta</th><th class="num">reserved</th><th class="num">refused</th><th class="num">released</th><th class="num">restocked</th><th>at (UTC)</th></tr></thead>
      <tbody>
        ${data.history.length === 0 ? html`<tr class="empty"><td colspan="8">No InventoryUpdated event yet.</td></tr>` : null}
        ${history.map(
          (entry) => html`<tr key=${entry.version}>
            <td class="num">${formatCount(entry.version)}</td><td class="num">${formatCount(entry.quantity)}</td><td class=${`num ${entry.delta < 0 ? 'down' : entry.delta > 0 ? 'up' : ''}`}>${entry.delta > 0 ? '+' : ''}${formatCount(entry.delta)}</td>
            <td class="num">${formatCount(entry.reserved)}</td><td class="num">${formatCount(entry.refused)}</td><td class="num">${formatCount(entry.released)}</td><td class="num">${formatCount(entry.restocked)}</td>
            <td class="nowrap" title=${formatTime(entry.occurredAt)}>${formatClock(entry.occurredAt)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${data.history.length > HISTORY_ROWS ? html`<button type="button" class="link" onClick=${() => setAll(!all)}>${all ? 'show the latest only' : `show all ${data.history.length}`}</button>` : null}
  </div>`;
}

export function OrderLookup() {
  const [state, lookUp] = useLookup((id) => `/api/orders/${id}`);
  return html`<section class="panel">
    <h2>Order</h2>
    <${LookupForm} testid="order-lookup" label="order id" placeholder="order id (uuid)" onSubmit=${lookUp} />
    <div data-testid="order-result" data-status=${state.status}><${Answer} state=${state}>${(data) => html`<${OrderAnswer} data=${data} />`}<//></div>
  </section>`;
}

export function ProductLookup() {
  const [state, lookUp] = useLookup((id) => `/api/products/${id}`);
  return html`<section class="panel">
    <h2>Product</h2>
    <${LookupForm} testid="product-lookup" label="product id" placeholder="product id" onSubmit=${lookUp} />
    <div data-testid="product-result" data-status=${state.status}><${Answer} state=${state}>${(data) => html`<${ProductAnswer} data=${data} />`}<//></div>
  </section>`;
}
