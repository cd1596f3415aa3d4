// The host imports of the `weft:plugin/connector` world, and the small
// differences between the two engines' bindings (componentize-js/jco and
// componentize-qjs) kept in one place:
// - a u64 is a BigInt with componentize-js, a number with componentize-qjs;
// - an import's `result` error is thrown, as a ComponentError whose `payload`
//   is the WIT error with componentize-js, as the error itself otherwise;
// - an interface is a module's named exports, or its default export.
import * as logModule from 'weft:plugin/log@0.1.0';
import * as stateModule from 'weft:plugin/state@0.1.0';
import * as httpModule from 'weft:plugin/http@0.1.0';

/* global __WEFT_ENGINE__ */
/** `js` (componentize-js, SpiderMonkey) or `qjs` (componentize-qjs, QuickJS). */
export const engine = typeof __WEFT_ENGINE__ === 'string' ? __WEFT_ENGINE__ : 'js';

function iface(module, name) {
  if (typeof module[name] === 'function') return module;
  if (module.default && typeof module.default[name] === 'function') return module.default;
  return module;
}

const logApi = iface(logModule, 'write');
const stateApi = iface(stateModule, 'get');
const httpApi = iface(httpModule, 'send');

/** A u64 for the host: BigInt under componentize-js, number under componentize-qjs. */
export function u64(n) {
  return engine === 'js' ? BigInt(n) : Number(n);
}

/** A u64 from the host, as a number (saturating at Number.MAX_SAFE_INTEGER). */
export function fromU64(n) {
  const v = Number(n);
  return v > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : v;
}

/** Call a `result`-returning import: `{ ok }` or `{ err }` (the WIT error value). */
export function callResult(f, ...args) {
  try {
    return { ok: f(...args) };
  } catch (e) {
    if (e && typeof e === 'object' && 'payload' in e) return { err: e.payload };
    if (e && typeof e === 'object' && 'tag' in e) return { err: e };
    throw e;
  }
}

export function logWrite(level, message, fields) {
  logApi.write(level, message, fields);
}

export function stateGet(key) {
  return callResult(stateApi.get, key);
}

export function stateSet(key, value) {
  return callResult(stateApi.set, key, value);
}

export function stateDelete(key) {
  return callResult(stateApi.delete, key);
}

export function httpSend(request) {
  return callResult(httpApi.send, request);
}
