// Node has no `weft:plugin/*` modules: for the SDK's unit tests, resolve them
// to a stand-in that records calls and answers from `globalThis.weftHost`.
import { register } from 'node:module';

const stub = (iface, fns) =>
  'data:text/javascript,' +
  encodeURIComponent(
    fns.map((f) => `export function ${f === 'delete' ? 'del' : f}(...a) { return globalThis.weftHost.${iface}.${f}(...a); }`).join('\n') +
      (fns.includes('delete') ? '\nexport { del as delete };' : ''),
  );

const modules = {
  'weft:plugin/log@0.1.0': stub('log', ['write']),
  'weft:plugin/state@0.1.0': stub('state', ['get', 'set', 'delete']),
  'weft:plugin/http@0.1.0': stub('http', ['send']),
};

register(
  'data:text/javascript,' +
    encodeURIComponent(`
const modules = ${JSON.stringify(modules)};
export async function resolve(specifier, context, next) {
  if (specifier in modules) return { url: modules[specifier], shortCircuit: true };
  return next(specifier, context);
}`),
);
