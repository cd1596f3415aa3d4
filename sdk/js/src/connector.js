// Turning a connector definition into the `weft:plugin/plugin` export.
import { WeftError, classify } from './errors.js';
import { asManifest, toWit } from './manifest.js';
import { Call, Context, parseJsonText } from './call.js';
import { u64, fromU64 } from './host.js';
import { log } from './log.js';

// componentize-js keeps a global `fetch` even with its http feature off, and
// calling it traps (`unreachable`). Outbound HTTP goes through the `http`
// import only: make the mistake a clear error instead.
function noFetch() {
  throw WeftError.permanent(
    'fetch() is not available in a Weft connector: send requests with `http` from @weft/sdk (http.get(url).send())',
  );
}
try {
  Object.defineProperty(globalThis, 'fetch', { value: noFetch, writable: true, configurable: true });
} catch {
  // A frozen global keeps the engine's fetch, which traps.
}

/**
 * Define a connector.
 *
 *   export default defineConnector({
 *     manifest: new Manifest('greet', '0.1.0', 'Greets.').action(...),
 *     actions: { greet(call) { ... } },     // one handler per action, or:
 *     invoke(call) { switch (call.action) { ... } },
 *   });
 *
 * A handler returns the action's output (any JSON value). It throws a
 * `WeftError` to fail with a classification; anything else it throws becomes
 * a `permanent` error carrying its message.
 */
export function defineConnector(definition) {
  if (!definition || typeof definition !== 'object') {
    throw new TypeError('defineConnector: expected { manifest, invoke } or { manifest, actions }');
  }
  const manifest = asManifest(definition.manifest);
  const { actions, invoke } = definition;
  if (typeof invoke !== 'function' && (!actions || typeof actions !== 'object')) {
    throw new TypeError('defineConnector: give `invoke(call)` or `actions: { name(call) {...} }`');
  }
  if (actions) {
    for (const name of Object.keys(actions)) {
      if (!manifest.findAction(name)) {
        throw new TypeError(`defineConnector: handler \`${name}\` has no action of that name in the manifest`);
      }
    }
  }
  const wit = toWit(manifest);
  const run = (call) => {
    if (typeof invoke === 'function') return invoke(call);
    const handler = Object.hasOwn(actions, call.action) ? actions[call.action] : undefined;
    if (typeof handler !== 'function') throw WeftError.unknownAction(call.action);
    return handler(call);
  };
  return Object.freeze({
    manifest,
    /** The WIT `describe`. */
    describe: () => wit,
    /** The WIT `invoke`: JSON text in, JSON text out, a thrown plugin-error on failure. */
    invoke(ctx, action, input, config) {
      let output;
      try {
        const call = new Call(
          new Context({ ...ctx, attempt: Number(ctx?.attempt ?? 1), deadlineUnixMs: fromU64(ctx?.deadlineUnixMs ?? 0) }),
          action,
          parseJsonText('input', input),
          parseJsonText('config', config),
          manifest.findAction(action),
        );
        output = run(call);
        if (output && typeof output.then === 'function') {
          throw WeftError.permanent(
            `action \`${action}\` returned a Promise: handlers must be synchronous (the host imports are)`,
          );
        }
        const text = JSON.stringify(output === undefined ? null : output);
        if (text === undefined) throw WeftError.permanent(`action \`${action}\` returned a value with no JSON form`);
        return text;
      } catch (thrown) {
        const e = classify(thrown);
        if (!(thrown instanceof WeftError) && thrown instanceof Error && thrown.stack) {
          log.error(`uncaught ${thrown.name ?? 'Error'}: ${thrown.message}`, { stack: String(thrown.stack).slice(0, 2000) });
        }
        throw pluginError(e);
      }
    },
  });
}

/** The WIT `plugin-error` for a WeftError. */
export function pluginError(e) {
  return {
    kind: e.kind,
    message: e.message,
    retryAfterMs: e.retryAfterMs == null ? undefined : u64(e.retryAfterMs),
  };
}
