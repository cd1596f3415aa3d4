// Structured step logs. Bounded by the host: past the per-step budget records
// are dropped and the log ends with a truncation marker.
import { logWrite } from './host.js';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error']);

function write(level, message, fields = {}) {
  if (!LEVELS.has(level)) throw new TypeError(`log: unknown level ${JSON.stringify(level)}`);
  const pairs = Array.isArray(fields)
    ? fields.map(([k, v]) => [String(k), String(v)])
    : Object.entries(fields ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
  logWrite(level, String(message), pairs);
}

/** `log.info('sent', { id: '7' })`; fields are an object or `[key, value]` pairs. */
export const log = Object.freeze({
  write,
  trace: (message, fields) => write('trace', message, fields),
  debug: (message, fields) => write('debug', message, fields),
  info: (message, fields) => write('info', message, fields),
  warn: (message, fields) => write('warn', message, fields),
  error: (message, fields) => write('error', message, fields),
});
