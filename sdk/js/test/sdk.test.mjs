// Unit tests of the SDK's own logic (run with `npm test` in sdk/js). The host
// imports are answered by test/host-stub.mjs; the real host is exercised by
// tests/tests/polyglot_js.rs against built components.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  defineConnector, Manifest, Action, CredentialSlot, WeftError, ErrorKind,
  http, state, log, appendQuery, redactUrl, parseRetryAfter, snippet, validate,
} from '../src/index.js';

const calls = [];
globalThis.weftHost = {
  log: { write: (...a) => calls.push(['log', ...a]) },
  state: {
    store: new Map(),
    get(k) { return this.store.get(k); },
    set(k, v) { if (v.length > 10) throw { payload: { tag: 'too-large', val: 10n } }; this.store.set(k, v); },
    delete(k) { return this.store.delete(k); },
  },
  http: {
    send(req) {
      calls.push(['http', req]);
      if (req.url.includes('denied')) throw { payload: { tag: 'denied', val: 'not allowed' } };
      return { status: 429, headers: [['Retry-After', '3'], ['content-type', 'text/plain']], body: new TextEncoder().encode('slow\ndown') };
    },
  },
};

const ctx = { workflowId: 'w', runId: 'r', stepId: 's', attempt: 1, idempotencyKey: 'k', deadlineUnixMs: 0n };

test('status classification mirrors the Rust SDK', () => {
  const kind = (s) => WeftError.fromStatus(s).kind;
  assert.equal(kind(401), ErrorKind.Auth);
  assert.equal(kind(407), ErrorKind.Auth);
  assert.equal(kind(408), ErrorKind.Transient);
  assert.equal(kind(429), ErrorKind.RateLimited);
  assert.equal(kind(404), ErrorKind.InvalidInput);
  assert.equal(kind(500), ErrorKind.Transient);
  assert.equal(kind(501), ErrorKind.Permanent);
  assert.equal(kind(302), ErrorKind.Permanent);
  assert.equal(WeftError.fromStatus(404, '  no such\nthing ').message, 'HTTP 404 Not Found: no such thing');
  assert.equal(WeftError.fromStatus(599).message, 'HTTP 599');
  assert.throws(() => new WeftError('nope', 'x'), /unknown kind "nope"/);
});

test('snippets, retry-after and URLs', () => {
  assert.equal(snippet('é'.repeat(10), 5), 'éé…');
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  assert.equal(parseRetryAfter('120', now), 120000);
  assert.equal(parseRetryAfter('1.5', now), 1500);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now), 30000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), null);
  assert.equal(parseRetryAfter('-3', now), null);
  assert.equal(appendQuery('https://h/p', [['q', 'a b&c=d/é'], ['x y', '~-._']]), 'https://h/p?q=a%20b%26c%3Dd%2F%C3%A9&x%20y=~-._');
  assert.equal(appendQuery('https://h/p?a=1#top', [['b', '2']]), 'https://h/p?a=1&b=2#top');
  assert.equal(redactUrl('https://u:p@h.example/a?key=s#f'), 'https://h.example/a');
});

test('schema errors name the path', () => {
  const schema = { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } } };
  assert.throws(() => validate(schema, { items: [{ name: 'a' }, {}] }, 'input'), (e) => e.kind === 'invalid-input' && e.message === 'input.items[1]: missing field `name`');
  assert.throws(() => validate(schema, { items: [{ name: 3 }] }, 'input'), /input\.items\[0\]\.name: expected string, got integer/);
  assert.throws(() => validate(schema, 3, 'input'), /input: expected object, got integer/);
});

const connector = defineConnector({
  manifest: new Manifest('t', '0.1.0', 'test')
    .action(new Action('greet', 'g').input({ type: 'object', required: ['name'], properties: { name: { type: 'string' } } }))
    .action(new Action('boom'))
    .action(new Action('call'))
    .credential(new CredentialSlot('api-key', 'k').host('api.example.com'))
    .state(true),
  actions: {
    greet: (call) => ({ message: `Hello, ${call.input().name}!` }),
    boom: () => { throw new TypeError('bad thing'); },
    call: (call) => http.get(call.input().url).query('q', 'a b').credential('api-key').send().errorForStatus(),
  },
});

test('describe is the WIT manifest', () => {
  const m = connector.describe();
  assert.equal(m.actions[0].inputSchema, '{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}');
  assert.deepEqual(m.capabilities, { hosts: [], credentials: [{ name: 'api-key', description: 'k', hosts: ['api.example.com'], optional: false }], state: true });
  assert.equal(m.configSchema, '');
});

test('invoke: output, classified errors, thrown errors', () => {
  assert.equal(connector.invoke(ctx, 'greet', '{"name":"Ada"}', ''), '{"message":"Hello, Ada!"}');
  const err = (f) => { try { f(); } catch (e) { return e; } assert.fail('no error'); };
  assert.deepEqual(err(() => connector.invoke(ctx, 'greet', '{}', '')), { kind: 'invalid-input', message: 'input: missing field `name`', retryAfterMs: undefined });
  assert.equal(err(() => connector.invoke(ctx, 'greet', '{nope', '')).kind, 'invalid-input');
  assert.deepEqual(err(() => connector.invoke(ctx, 'nope', '{}', '')).message, 'unknown action `nope`');
  const boom = err(() => connector.invoke(ctx, 'boom', '{}', ''));
  assert.equal(boom.kind, 'permanent');
  assert.equal(boom.message, 'TypeError: bad thing');
  assert.ok(calls.some(([w, level, msg]) => w === 'log' && level === 'error' && msg.includes('bad thing')));
  const limited = err(() => connector.invoke(ctx, 'call', '{"url":"https://api.example.com/x?token=s"}', ''));
  assert.deepEqual(limited, { kind: 'rate-limited', message: 'https://api.example.com/x: HTTP 429 Too Many Requests: slow down', retryAfterMs: 3000n });
  const sent = calls.filter(([w]) => w === 'http').at(-1)[1];
  assert.equal(sent.url, 'https://api.example.com/x?token=s&q=a%20b');
  assert.equal(sent.credential, 'api-key');
  const denied = err(() => connector.invoke(ctx, 'call', '{"url":"https://denied.example/"}', ''));
  assert.equal(denied.kind, 'permanent');
  assert.equal(denied.message, 'egress denied: not allowed');
});

test('state and log', () => {
  state.setJson('k', { a: 1 });
  assert.deepEqual(state.getJson('k'), { a: 1 });
  assert.equal(state.get('missing'), null);
  assert.throws(() => state.set('big', 'x'.repeat(11)), (e) => e.kind === 'invalid-input' && e.message === 'state key `big`: state key or value over the limit of 10 bytes');
  log.info('hello', { n: 1, s: 'x' });
  assert.deepEqual(calls.at(-1), ['log', 'info', 'hello', [['n', '1'], ['s', 'x']]]);
});

test('the SDK carries the WIT of the repository', () => {
  const ours = readFileSync(new URL('../wit/plugin.wit', import.meta.url), 'utf8');
  const repo = new URL('../../../wit/plugin.wit', import.meta.url);
  let theirs;
  try { theirs = readFileSync(repo, 'utf8'); } catch { return; } // outside the repository (a published package)
  assert.equal(ours, theirs, 'sdk/js/wit/plugin.wit differs from wit/plugin.wit: copy it again');
});
