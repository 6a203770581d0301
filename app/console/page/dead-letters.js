/**
 * The dead letters: the newest first with their provenance headers; inspect one's payload;
 * select several and replay them into their source topic after an in-page confirmation.
 */
import { useState } from 'preact/hooks';
import { getJson, postJson } from './api.js';
import { formatBytes, formatCount, formatTime } from './format.js';
import { html } from './html.js';
import { useResource } from './use-resource.js';

const letterId = (letter) => `${letter.partition}:${letter.offset}`;

/** The payload as text, pretty-printed when it is JSON. */
function payloadText(payload) {
  if (payload.text === null) return null;
  try {
    return JSON.stringify(JSON.parse(payload.text), null, 2);
  } catch {
    return payload.text;
  }
}

function LetterPayload({ letter, onClose }) {
  const text = payloadText(letter.payload);
  return html`<div class="payload" data-testid="letter-payload" data-letter-shown=${letterId(letter)}>
    <div class="toolbar">
      <h3>Dead letter ${letterId(letter)} <span class="muted">from ${letter.originalTopic}[${letter.originalPartition}] @ ${formatCount(letter.originalOffset)}</span></h3>
      <button type="button" onClick=${onClose}>Close</button>
    </div>
    <table class="headers">
      <tbody>
        ${Object.entries(letter.headers).map(([name, value]) => html`<tr key=${name}><th class="mono">${name}</th><td class="mono">${value}</td></tr>`)}
      </tbody>
    </table>
    <h4>Payload ${text === null ? '(not UTF-8: base64)' : ''} · ${formatBytes(letter.size)}</h4>
    <pre class="payload-body" data-testid="letter-payload-body">${text ?? letter.payload.base64}</pre>
  </div>`;
}

function ConfirmReplay({ letters, onConfirm, onCancel }) {
  return html`<div class="overlay">
    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="confirm-replay-title" data-testid="confirm-replay">
      <h3 id="confirm-replay-title">Replay ${letters.length} dead letter${letters.length === 1 ? '' : 's'}?</h3>
      <p>Each record goes back to its source topic with a header saying it was replayed, exactly once: a letter already replayed is not sent again.</p>
      <ul class="mono">
        ${letters.slice(0, 8).map((letter) => html`<li key=${letterId(letter)}>${letterId(letter)} → ${letter.originalTopic} (${letter.errorClass})</li>`)}
        ${letters.length > 8 ? html`<li>… and ${letters.length - 8} more</li>` : null}
      </ul>
      <div class="dialog-buttons">
        <button type="button" onClick=${onCancel} data-testid="confirm-cancel">Cancel</button>
        <button type="button" class="primary" onClick=${onConfirm} data-testid="confirm-ok">OK, replay</button>
      </div>
    </div>
  </div>`;
}

export function DeadLettersPanel({ snapshot }) {
  const count = snapshot?.deadLetters.count ?? '0';
  const list = useResource('/api/dead-letters?limit=100', count);
  const [selected, setSelected] = useState(() => new Set());
  const [shown, setShown] = useState(null);
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState(null);
  const letters = list.data?.letters ?? [];

  const toggle = (id) =>
    setSelected((previous) => {
      const next = new Set(previous);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const inspect = async (letter) => {
    try {
      setShown(await getJson(`/api/dead-letters/${letter.partition}/${letter.offset}`));
    } catch (error) {
      setMessage({ tone: 'bad', text: `Could not read ${letterId(letter)}: ${error.message}` });
    }
  };
  const chosen = letters.filter((letter) => selected.has(letterId(letter)));
  const replay = async () => {
    setConfirming(false);
    try {
      const answer = await postJson('/api/dead-letters/replay', { letters: chosen.map(({ partition, offset }) => ({ partition, offset })) });
      const already = answer.alreadyReplayed > 0 ? `, ${formatCount(answer.alreadyReplayed)} already replayed before` : '';
      setMessage({ tone: 'good', text: `Replayed ${formatCount(answer.replayed)}${already}.` });
      setSelected(new Set());
    } catch (error) {
      setMessage({ tone: 'bad', text: `Replay failed: ${error.message}` });
    }
    list.reload();
  };

  return html`<section class="panel">
    <div class="toolbar">
      <h2>Dead letters <span class="count">${formatCount(count)}</span> <span class="muted topic-name">${list.data?.topic ?? ''}</span></h2>
      <button type="button" class="primary" data-testid="replay" disabled=${chosen.length === 0} onClick=${() => setConfirming(true)}>
        Replay${chosen.length > 0 ? ` ${chosen.length}` : ''}…
      </button>
    </div>
    ${message ? html`<p class=${`notice ${message.tone}`} role="status" data-testid="replay-result">${message.text}</p>` : null}
    ${list.error ? html`<p class="notice bad">Dead letters unavailable: ${list.error}</p>` : null}
    <table data-testid="dead-letters" class="data">
      <thead><tr><th></th><th>letter</th><th>dead-lettered</th><th>from</th><th>key</th><th>error</th><th class="num">size</th><th>replayed</th><th></th></tr></thead>
      <tbody>
        ${letters.length === 0 ? html`<tr class="empty"><td colspan="9">${list.loading ? 'Loading…' : 'No dead letters: every record was processed.'}</td></tr>` : null}
        ${letters.map((letter) => {
          const id = letterId(letter);
          return html`<tr key=${id} data-letter=${id} data-replayed=${letter.replayedAt ? 'yes' : 'no'} class=${shown && letterId(shown) === id ? 'selected' : ''}>
            <td><input type="checkbox" aria-label=${`select ${id}`} checked=${selected.has(id)} onChange=${() => toggle(id)} /></td>
            <td class="mono">${id}</td>
            <td>${formatTime(letter.timestamp)}</td>
            <td class="mono">${letter.originalTopic}[${letter.originalPartition}] @ ${formatCount(letter.originalOffset)}</td>
            <td class="mono">${letter.key ?? '–'}</td>
            <td><span class="error-class">${letter.errorClass}</span> <span class="error-text">${letter.errorMessage}</span></td>
            <td class="num">${formatBytes(letter.size)}</td>
            <td data-col="replayed">${letter.replayedAt ? html`<span class="badge good" title=${formatTime(letter.replayedAt)}>replayed</span>` : html`<span class="muted">no</span>`}</td>
            <td><button type="button" data-testid="inspect" onClick=${() => inspect(letter)}>Inspect</button></td>
          </tr>`;
        })}
      </tbody>
    </table>
    ${shown ? html`<${LetterPayload} letter=${shown} onClose=${() => setShown(null)} />` : null}
    ${confirming ? html`<${ConfirmReplay} letters=${chosen} onConfirm=${replay} onCancel=${() => setConfirming(false)} />` : null}
  </section>`;
}
