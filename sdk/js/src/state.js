// The key-value store scoped to (tenant, connector). Mirrors sdk/src/state.rs.
// Usable when the manifest declares `state(true)`.
import { WeftError } from './errors.js';
import { stateGet, stateSet, stateDelete, fromU64 } from './host.js';
import { encode, decode } from './utf8.js';

/** The message and classification of a WIT `state-error`. */
export function stateFailure(err, key) {
  let e;
  switch (err?.tag) {
    case 'not-granted':
      e = WeftError.permanent('state store not granted (declare `state` in the manifest; the tenant must allow it)');
      break;
    case 'too-large':
      e = WeftError.invalidInput(`state key or value over the limit of ${fromU64(err.val)} bytes`);
      break;
    case 'unavailable':
      e = WeftError.transient(`state store unavailable: ${err.val}`);
      break;
    default:
      e = WeftError.permanent(`state: unexpected host error ${JSON.stringify(err)}`);
  }
  e.stateError = err;
  return key === undefined ? e : e.context(`state key \`${key}\``);
}

function bytes(value) {
  return typeof value === 'string' ? encode(value) : Uint8Array.from(value);
}

export const state = Object.freeze({
  /** The bytes stored under `key` (a Uint8Array), or null. */
  get(key) {
    const r = stateGet(String(key));
    if ('err' in r) throw stateFailure(r.err, key);
    return r.ok == null ? null : Uint8Array.from(r.ok);
  },
  /** Store bytes (or a string, as UTF-8) under `key`. */
  set(key, value) {
    const r = stateSet(String(key), bytes(value));
    if ('err' in r) throw stateFailure(r.err, key);
  },
  /** Remove `key`; returns whether it existed. */
  delete(key) {
    const r = stateDelete(String(key));
    if ('err' in r) throw stateFailure(r.err, key);
    return Boolean(r.ok);
  },
  /** The UTF-8 text stored under `key`, or null. */
  getText(key) {
    const b = state.get(key);
    return b == null ? null : decode(b);
  },
  /** The JSON stored under `key`, or null; a value that is not JSON is `permanent`. */
  getJson(key) {
    const text = state.getText(key);
    if (text == null) return null;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw WeftError.permanent(`state key \`${key}\` does not hold JSON: ${e.message}`);
    }
  },
  /** Store `value` as JSON under `key`. */
  setJson(key, value) {
    const text = JSON.stringify(value);
    if (text === undefined) throw WeftError.invalidInput(`state key \`${key}\`: the value has no JSON form`);
    state.set(key, text);
  },
});
