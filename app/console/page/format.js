/**
 * How the console writes numbers and times: thousands separators, 64-bit offsets kept exact
 * (they arrive as decimal strings), rates with one decimal, times relative to the snapshot.
 */

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const RATE = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** A count or an offset (a number, or a decimal string of any size) with thousands separators; '–' when absent. */
export function formatCount(value) {
  if (value === null || value === undefined || value === '') return '–';
  if (typeof value === 'string') {
    // Offsets and lags are 64-bit: BigInt keeps every digit a Number would round away.
    return /^-?\d+$/.test(value) ? INTEGER.format(BigInt(value)) : value;
  }
  return INTEGER.format(value);
}

/** Records per second: one decimal, thousands separators ("1,234.5/s"). */
export function formatRate(perSecond) {
  return `${RATE.format(perSecond ?? 0)}/s`;
}

/** Bytes in B, KiB or MiB. */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${INTEGER.format(bytes)} B`;
  if (bytes < 1024 * 1024) return `${RATE.format(bytes / 1024)} KiB`;
  return `${RATE.format(bytes / 1024 / 1024)} MiB`;
}

/** How long before `now` an ISO time was ("just now", "12 s ago", "3 min ago", "2 h ago", else the date); '–' when absent. */
export function formatAgo(iso, now) {
  if (!iso) return '–';
  const seconds = Math.round((Date.parse(now) - Date.parse(iso)) / 1000);
  if (Number.isNaN(seconds)) return iso;
  if (seconds < 2) return 'just now';
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return formatTime(iso);
}

/** An ISO time as "2026-12-03 13:21:05" (UTC, to the second), as the logs write it. */
export function formatTime(iso) {
  if (!iso) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** An ISO time's clock time in UTC ("13:21:05"), for tables whose rows are all recent. */
export function formatClock(iso) {
  const full = formatTime(iso);
  return /^\d{4}-\d\d-\d\d /.test(full) ? full.slice(11, 19) : full;
}

/** Whether a decimal-string lag is above zero. */
export function hasLag(lag) {
  return typeof lag === 'string' ? /^\d+$/.test(lag) && BigInt(lag) > 0n : lag > 0;
}
