/**
 * A self-contained HTML page (inline SVG, no scripts, no external assets) charting the
 * achieved rate against the target and the p50/p99 publish latency, second by second. Pure.
 */
export interface TimelinePoint {
  /** Seconds since the load generator started. */
  t: number;
  target: number;
  achieved: number;
  p50Ms: number;
  p99Ms: number;
  backlog: number;
}

interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  values: number[];
}

const WIDTH = 860;
const HEIGHT = 260;
const PAD = { left: 70, right: 20, top: 20, bottom: 36 };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** 1, 2, 5 x 10^n: a round upper bound for an axis. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function chart(title: string, unit: string, times: number[], series: Series[]): string {
  const maxT = Math.max(1, ...times);
  const maxY = niceCeiling(Math.max(0, ...series.flatMap((s) => s.values)));
  const x = (t: number) => PAD.left + (t / maxT) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number) => HEIGHT - PAD.bottom - (v / maxY) * (HEIGHT - PAD.top - PAD.bottom);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const value = maxY * f;
      return `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(value)}" y2="${y(value)}" stroke="#ddd"/><text x="${PAD.left - 6}" y="${y(value) + 4}" text-anchor="end">${escapeHtml(formatAxis(value))}</text>`;
    })
    .join('');
  const lines = series
    .map((s) => {
      const points = s.values.map((v, i) => `${x(times[i]!).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${points}"/>`;
    })
    .join('');
  const legend = series
    .map((s, i) => `<text x="${PAD.left + 10 + i * 140}" y="${PAD.top - 5}" fill="${s.color}">&#9644; ${escapeHtml(s.name)}</text>`)
    .join('');
  return `<h2>${escapeHtml(title)}</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11">
${grid}${lines}${legend}
<text x="${(WIDTH + PAD.left) / 2}" y="${HEIGHT - 6}" text-anchor="middle">seconds</text>
<text x="${x(maxT)}" y="${HEIGHT - PAD.bottom + 14}" text-anchor="end">${maxT.toFixed(0)}</text>
<text x="${PAD.left}" y="${HEIGHT - PAD.bottom + 14}">0</text>
<text transform="translate(14 ${HEIGHT / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(unit)}</text>
</svg>`;
}

function formatAxis(value: number): string {
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  if (value >= 10_000) return `${(value / 1000).toFixed(0)}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export function renderHtmlReport(title: string, summary: Record<string, string>, timeline: readonly TimelinePoint[]): string {
  const times = timeline.map((p) => p.t);
  const rows = Object.entries(summary)
    .map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}th{text-align:left;padding-right:16px;font-weight:normal;color:#555}td{font-variant-numeric:tabular-nums}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<table>${rows}</table>
${chart('Rate (orders/s)', 'orders/s', times, [
  { name: 'target', color: '#888', dashed: true, values: timeline.map((p) => p.target) },
  { name: 'achieved', color: '#1f77b4', values: timeline.map((p) => p.achieved) },
])}
${chart('Publish latency (from intended send time)', 'ms', times, [
  { name: 'p50', color: '#2ca02c', values: timeline.map((p) => p.p50Ms) },
  { name: 'p99', color: '#d62728', values: timeline.map((p) => p.p99Ms) },
])}
${chart('Unpublished backlog (stored - published)', 'orders', times, [{ name: 'backlog', color: '#9467bd', values: timeline.map((p) => p.backlog) }])}
</body></html>
`;
}
