// Classified failures, and the helpers that classify HTTP answers.
// Mirrors sdk/src/error.rs.

/** The WIT `error-kind` spellings. The engine decides retries from the kind. */
export const ErrorKind = Object.freeze({
  InvalidInput: 'invalid-input',
  Auth: 'auth',
  RateLimited: 'rate-limited',
  Transient: 'transient',
  Permanent: 'permanent',
});

const KINDS = new Set(Object.values(ErrorKind));

/** The longest body excerpt `WeftError.fromStatus` puts into a message, in bytes. */
export const SNIPPET_MAX = 300;

/**
 * A failure the connector reports to the host (the WIT `plugin-error`).
 * The message is shown to the workflow's author: say what failed and where,
 * and never include a secret.
 */
export class WeftError extends Error {
  constructor(kind, message, retryAfterMs = null) {
    super(String(message));
    if (!KINDS.has(kind)) {
      throw new TypeError(
        `WeftError: unknown kind ${JSON.stringify(kind)} (one of ${[...KINDS].join(', ')})`,
      );
    }
    this.name = 'WeftError';
    this.kind = kind;
    this.retryAfterMs = retryAfterMs == null ? null : checkMs(retryAfterMs);
  }

  static invalidInput(message) {
    return new WeftError(ErrorKind.InvalidInput, message);
  }
  static auth(message) {
    return new WeftError(ErrorKind.Auth, message);
  }
  static rateLimited(message, retryAfterMs = null) {
    return new WeftError(ErrorKind.RateLimited, message, retryAfterMs);
  }
  static transient(message, retryAfterMs = null) {
    return new WeftError(ErrorKind.Transient, message, retryAfterMs);
  }
  static permanent(message) {
    return new WeftError(ErrorKind.Permanent, message);
  }
  /** The host asked for an action this connector does not offer. */
  static unknownAction(name) {
    return WeftError.invalidInput(`unknown action \`${name}\``);
  }

  /**
   * Classify an HTTP status: 401, 403, 407 -> auth; 408, 425 -> transient;
   * 429 -> rate-limited; other 4xx -> invalid-input; 501, 505 -> permanent;
   * other 5xx -> transient; anything else -> permanent.
   */
  static fromStatus(status, bodySnippet = '') {
    let kind;
    if (status === 401 || status === 403 || status === 407) kind = ErrorKind.Auth;
    else if (status === 408 || status === 425) kind = ErrorKind.Transient;
    else if (status === 429) kind = ErrorKind.RateLimited;
    else if (status >= 400 && status <= 499) kind = ErrorKind.InvalidInput;
    else if (status === 501 || status === 505) kind = ErrorKind.Permanent;
    else if (status >= 500 && status <= 599) kind = ErrorKind.Transient;
    else kind = ErrorKind.Permanent;
    return new WeftError(kind, statusMessage(status, bodySnippet));
  }

  /** Set the retry hint (milliseconds, or null); returns this. */
  withRetryAfterMs(ms) {
    this.retryAfterMs = ms == null ? null : checkMs(ms);
    return this;
  }

  /** Prefix the message with where the failure happened; returns this. */
  context(where) {
    this.message = `${where}: ${this.message}`;
    return this;
  }

  toString() {
    const hint = this.retryAfterMs == null ? '' : ` (retry after ${this.retryAfterMs} ms)`;
    return `${this.kind}: ${this.message}${hint}`;
  }
}

function checkMs(ms) {
  const n = Number(ms);
  if (!Number.isFinite(n) || n < 0) {
    throw new TypeError(`WeftError: retryAfterMs must be a non-negative number, got ${ms}`);
  }
  return Math.ceil(n);
}

/**
 * What the host receives for anything `invoke` threw: a WeftError as it is;
 * anything else as a `permanent` error carrying its message.
 */
export function classify(thrown) {
  if (thrown instanceof WeftError) return thrown;
  if (thrown instanceof Error) {
    const name = thrown.name && thrown.name !== 'Error' ? `${thrown.name}: ` : '';
    return WeftError.permanent(`${name}${thrown.message}`);
  }
  return WeftError.permanent(`uncaught exception: ${describeValue(thrown)}`);
}

function describeValue(v) {
  try {
    return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function statusMessage(status, body) {
  const reason = REASONS[status];
  let message = reason ? `HTTP ${status} ${reason}` : `HTTP ${status}`;
  const cut = snippet(body ?? '', SNIPPET_MAX);
  if (cut) message += `: ${cut}`;
  return message;
}

/**
 * Trim `text`, collapse it to one line and cut it to at most `max` UTF-8 bytes
 * (on a character boundary), marking a cut with `…`.
 */
export function snippet(text, max = SNIPPET_MAX) {
  // eslint-disable-next-line no-control-regex
  const oneLine = String(text).trim().replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  let bytes = 0;
  let out = '';
  for (const ch of oneLine) {
    const n = utf8Length(ch);
    if (bytes + n > max) return `${out}…`;
    bytes += n;
    out += ch;
  }
  return out;
}

function utf8Length(ch) {
  const c = ch.codePointAt(0);
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

const REASONS = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone',
  411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 422: 'Unprocessable Content',
  425: 'Too Early', 429: 'Too Many Requests', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};

/**
 * Parse a `Retry-After` value (delay in seconds, or an HTTP-date) into
 * milliseconds from `now` (ms since the epoch). A past date gives 0; garbage null.
 */
export function parseRetryAfter(value, now = Date.now()) {
  const v = String(value ?? '').trim();
  if (!v) return null;
  if (/^[0-9]+$/.test(v)) return Math.min(Number(v) * 1000, Number.MAX_SAFE_INTEGER);
  if (/^[0-9]*\.?[0-9]+$/.test(v)) return Math.round(Math.min(Number(v), 1e12) * 1000);
  if (/^[-+]/.test(v)) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** Parse a `retry-after-ms` header value (integer or fractional milliseconds). */
export function parseRetryAfterMsHeader(value) {
  const v = String(value ?? '').trim();
  if (!/^[0-9]*\.?[0-9]+$/.test(v)) return null;
  return Math.ceil(Number(v));
}
