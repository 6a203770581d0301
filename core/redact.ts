/**
 * Takes passwords out of text before it is logged or printed. Connection strings reach log and
 * error lines in many ways (a setting echoed back, a driver message, an error's context), so
 * the logger and the CLI's error printer run everything through here instead of trusting each
 * caller to remember.
 */

/** What replaces a password. */
export const REDACTED = '***';

/**
 * `scheme://user:password@host` → `scheme://user:***@host`, for any scheme, anywhere in the
 * text; also libpq's `password=...` keyword form. The user name stays: it helps diagnosis.
 * The password runs to the last `@` before the host, as URL parsers read it.
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*):[^\s/?#]*@/gi;
const KEYWORD_PASSWORD = /\b(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']+)/gi;

export function redactSecrets(text: string): string {
  if (!text.includes('@') && !/password/i.test(text)) return text;
  return text.replace(URL_CREDENTIALS, `$1:${REDACTED}@`).replace(KEYWORD_PASSWORD, `$1${REDACTED}`);
}

/**
 * One value known to be a URL (a setting): everything between `user:` and the LAST `@` is the
 * password, spaces and all, even when the URL is too malformed for a parser. Without an `@`
 * the value is returned as is; any other text in it goes through redactSecrets.
 */
export function redactUrl(value: string): string {
  const match = /^(\s*[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):(.*)@/is.exec(value);
  return match ? `${match[1]}:${REDACTED}@${value.slice(match[0].length)}` : redactSecrets(value);
}

/**
 * The same over a log line's fields: strings anywhere inside (nested objects, arrays, errors'
 * messages) are redacted; other values pass through. Returns the input itself when nothing
 * needed changing, so the common case allocates nothing.
 */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    const message = redactSecrets(value.message);
    return message === value.message ? value : { name: value.name, message };
  }
  if (Array.isArray(value)) {
    let changed = false;
    const items = value.map((item) => {
      const redacted = redactValue(item, depth + 1);
      changed ||= redacted !== item;
      return redacted;
    });
    return changed ? items : value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  let changed = false;
  const entries = Object.entries(value).map(([key, item]) => {
    const redacted = redactValue(item, depth + 1);
    changed ||= redacted !== item;
    return [key, redacted] as const;
  });
  return changed ? Object.fromEntries(entries) : value;
}
