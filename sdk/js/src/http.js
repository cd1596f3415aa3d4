// Outbound HTTP under the host's egress policy. Mirrors sdk/src/http.rs.
// The host performs the request: it checks the destination, injects the
// credential named by `.credential(slot)`, follows redirects, decompresses.
import { WeftError, snippet, parseRetryAfter, parseRetryAfterMsHeader, SNIPPET_MAX } from './errors.js';
import { httpSend } from './host.js';
import { encode, decode } from './utf8.js';

/** An outbound request, built fluently and sent with `send()`. */
export class Request {
  constructor(method, url) {
    this.method = String(method);
    this.baseUrl = String(url);
    this.params = [];
    this.headers = [];
    this.bodyBytes = null;
    this.slot = null;
    this.timeout = null;
    this.invalid = null;
  }
  header(name, value) {
    this.headers.push([String(name), String(value)]);
    return this;
  }
  /** Append a query parameter; name and value are percent-encoded. */
  query(name, value) {
    this.params.push([String(name), String(value)]);
    return this;
  }
  /** JSON body; sets `content-type: application/json` unless one is set. */
  json(value) {
    let text;
    try {
      text = JSON.stringify(value);
    } catch (e) {
      this.invalid = `could not serialize the JSON body: ${e.message}`;
      return this;
    }
    if (text === undefined) {
      this.invalid = 'could not serialize the JSON body: the value has no JSON form';
      return this;
    }
    if (!this.hasHeader('content-type')) this.headers.push(['content-type', 'application/json']);
    this.bodyBytes = encode(text);
    return this;
  }
  /** Raw body: a string (sent as UTF-8) or bytes. */
  body(body) {
    this.bodyBytes = typeof body === 'string' ? encode(body) : Uint8Array.from(body);
    return this;
  }
  /** Ask the host to inject the credential bound to slot `slot`. */
  credential(slot) {
    this.slot = String(slot);
    return this;
  }
  /** Per-request timeout; the step's deadline always applies too. */
  timeoutMs(ms) {
    this.timeout = Math.max(0, Math.min(0xffffffff, Math.floor(Number(ms))));
    return this;
  }
  hasHeader(name) {
    const n = name.toLowerCase();
    return this.headers.some(([k]) => k.toLowerCase() === n);
  }
  /** The full URL, query parameters included. */
  get url() {
    return appendQuery(this.baseUrl, this.params);
  }

  /**
   * Send and read the whole response. A 4xx/5xx is not thrown here (see
   * `Response.errorForStatus`); a host failure throws a classified WeftError
   * whose `httpError` is the WIT `http-error` ({tag, val}).
   */
  send() {
    if (this.invalid) throw httpFailure({ tag: 'invalid-request', val: this.invalid });
    const url = this.url;
    const r = httpSend({
      method: this.method,
      url,
      headers: this.headers.map(([k, v]) => [k, v]),
      body: this.bodyBytes ?? undefined,
      credential: this.slot ?? undefined,
      timeoutMs: this.timeout ?? undefined,
    });
    if ('err' in r) throw httpFailure(r.err);
    return new Response(r.ok.status, r.ok.headers, r.ok.body, url);
  }
}

function req(method) {
  return (url) => new Request(method, url);
}

/** `http.get(url)`, `http.post(url)`, ... and `http.request(method, url)`. */
export const http = Object.freeze({
  request: (method, url) => new Request(method, url),
  get: req('GET'),
  post: req('POST'),
  put: req('PUT'),
  patch: req('PATCH'),
  delete: req('DELETE'),
  Request,
});

/** The message and classification of a WIT `http-error`. */
export function httpFailure(err) {
  const tag = err?.tag;
  const val = err?.val;
  let e;
  switch (tag) {
    case 'denied': e = WeftError.permanent(`egress denied: ${val}`); break;
    case 'credential-not-found': e = WeftError.auth(`credential not found: ${val}`); break;
    case 'credential-not-bound': e = WeftError.auth(`credential not bound to this host: ${val}`); break;
    case 'invalid-request': e = WeftError.invalidInput(`invalid request: ${val}`); break;
    case 'timeout': e = WeftError.transient('request timed out'); break;
    case 'connect': e = WeftError.transient(`connection failed: ${val}`); break;
    case 'protocol': e = WeftError.transient(`HTTP protocol error: ${val}`); break;
    case 'too-many-redirects': e = WeftError.permanent(`too many redirects (followed ${val})`); break;
    default: e = WeftError.permanent(`http: unexpected host error ${JSON.stringify(err)}`);
  }
  e.httpError = { tag, val };
  return e;
}

/** A complete response. */
export class Response {
  constructor(status, headers, body, url) {
    this.status = Number(status);
    this.headers = (headers ?? []).map(([k, v]) => [k, v]);
    this.body = body instanceof Uint8Array ? body : Uint8Array.from(body ?? []);
    this.url = url;
  }
  get isSuccess() {
    return this.status >= 200 && this.status < 300;
  }
  /** The first header with this name (case-insensitive), or undefined. */
  header(name) {
    const n = name.toLowerCase();
    return this.headers.find(([k]) => k.toLowerCase() === n)?.[1];
  }
  /** The body as text (invalid UTF-8 becomes U+FFFD). */
  text() {
    return decode(this.body);
  }
  get isJson() {
    return isJsonContentType(this.header('content-type'));
  }
  /** The body parsed as JSON; a body that is not JSON is a `permanent` error naming the URL. */
  json() {
    try {
      return JSON.parse(this.text());
    } catch (e) {
      throw WeftError.permanent(
        `${redactUrl(this.url)} answered HTTP ${this.status} with a body that is not JSON: ${e.message}`,
      );
    }
  }
  /** `retry-after-ms`, else `Retry-After` (seconds or HTTP-date), in ms; or null. */
  retryAfterMs() {
    const ms = this.header('retry-after-ms');
    const fromMs = ms === undefined ? null : parseRetryAfterMsHeader(ms);
    if (fromMs != null) return fromMs;
    const ra = this.header('retry-after');
    return ra === undefined ? null : parseRetryAfter(ra);
  }
  /** This response for statuses below 400; throws the classified error otherwise. */
  errorForStatus() {
    if (this.status < 400) return this;
    throw this.statusError();
  }
  /** The classified error for this status (body snippet, retry hint, URL without query). */
  statusError() {
    return WeftError.fromStatus(this.status, snippet(this.text(), SNIPPET_MAX))
      .withRetryAfterMs(this.retryAfterMs())
      .context(redactUrl(this.url));
  }
}

export function isJsonContentType(value) {
  const mime = String(value ?? '').split(';')[0].trim().toLowerCase();
  return mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
}

/** Percent-encode one query name or value (RFC 3986 unreserved kept; space is %20). */
export function encodeQueryComponent(s) {
  let out = '';
  for (const b of encode(s)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Append `params` to `url`'s query string (before any `#fragment`). */
export function appendQuery(url, params) {
  if (!params.length) return url;
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? '' : url.slice(hash);
  let sep = '';
  if (!base.includes('?')) sep = '?';
  else if (!base.endsWith('?') && !base.endsWith('&')) sep = '&';
  const q = params.map(([k, v]) => `${encodeQueryComponent(k)}=${encodeQueryComponent(v)}`).join('&');
  return `${base}${sep}${q}${fragment}`;
}

/** `url` without user info, query and fragment: safe to put in messages. */
export function redactUrl(url) {
  const s = String(url);
  const cut = s.search(/[?#]/);
  const u = cut < 0 ? s : s.slice(0, cut);
  const schemeEnd = u.indexOf('://');
  if (schemeEnd < 0) return u;
  const rest = u.slice(schemeEnd + 3);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const at = authority.lastIndexOf('@');
  return at < 0 ? u : `${u.slice(0, schemeEnd + 3)}${rest.slice(at + 1)}`;
}
