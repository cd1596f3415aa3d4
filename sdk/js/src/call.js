// One call of an action. Mirrors sdk/src/call.rs.
import { WeftError } from './errors.js';
import { validate } from './schema.js';

/** Facts about the step attempt being executed. */
export class Context {
  constructor(c = {}) {
    this.workflowId = c.workflowId ?? '';
    this.runId = c.runId ?? '';
    this.stepId = c.stepId ?? '';
    this.attempt = Number(c.attempt ?? 1);
    /** Stable across retries of the same step: pass it to remote APIs as an idempotency key. */
    this.idempotencyKey = c.idempotencyKey ?? '';
    /** Milliseconds since the Unix epoch when the host stops the attempt. */
    this.deadlineUnixMs = Number(c.deadlineUnixMs ?? 0);
  }
  /** Milliseconds left before the deadline (0 when passed). */
  remainingMs() {
    return Math.max(0, this.deadlineUnixMs - Date.now());
  }
}

export class Call {
  /**
   * @param {Context} context
   * @param {string} action
   * @param {unknown} input  parsed JSON
   * @param {unknown} config parsed JSON (null when none)
   * @param {object} [actionSpec] the manifest's Action, whose input schema `input()` checks
   */
  constructor(context, action, input, config, actionSpec) {
    this.context = context instanceof Context ? context : new Context(context);
    this.action = action;
    this.inputValue = input;
    this.configValue = config;
    this.actionSpec = actionSpec;
  }

  /**
   * The input, checked. With no argument, against the action's input schema
   * from the manifest; with a JSON Schema object, against it; with a function,
   * that function's return value (it should throw to refuse; a plain Error
   * becomes `invalid-input` naming `input`).
   */
  input(schemaOrValidator) {
    return checked('input', this.inputValue, schemaOrValidator ?? this.actionSpec?.inputSchema);
  }

  /** The config, checked like `input`; a missing config reads as `{}`. */
  config(schemaOrValidator) {
    const value = this.configValue == null ? {} : this.configValue;
    return checked('config', value, schemaOrValidator);
  }
}

function checked(root, value, how) {
  if (typeof how === 'function') {
    try {
      return how(value);
    } catch (e) {
      if (e instanceof WeftError) throw e;
      throw WeftError.invalidInput(`${root}: ${e?.message ?? e}`);
    }
  }
  if (how && typeof how === 'object') return validate(how, value, root);
  return value;
}

/** Parse JSON text from the host: empty means null; bad JSON is invalid-input. */
export function parseJsonText(what, text) {
  if (!text || !text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw WeftError.invalidInput(`${what} is not valid JSON: ${e.message}`);
  }
}
