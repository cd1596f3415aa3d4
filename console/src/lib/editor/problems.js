// Validation problems (JSON pointers into the definition) placed on the
// editor: on the step they are about and on the field of its form.
import { locate } from "../graph/model.js";

/** @typedef {{ path: string; message: string }} Problem */
/** @typedef {Problem & { step?: string; field: string; warning?: boolean; hint?: boolean }} Placed */
/* `hint`: an error on a step the author has just added and not yet edited, shown gently (still an error). */

/**
 * Where a problem is: its step (if any) and its field, relative to the step
 * (`input/filter`) or to the top (`triggers/schedule/cron`). A missing
 * required property is put on the property's own field.
 * @param {import("../graph/model.js").Definition | null | undefined} def the definition that was validated
 * @param {Problem} problem
 * @param {boolean} [warning]
 * @returns {Placed}
 */
export function place(def, problem, warning = false) {
  const { step, field } = locate(def, problem.path);
  const m = /^missing required property `([^`]+)`/.exec(problem.message);
  const f = m ? (field ? `${field}/` : "") + m[1].replaceAll("~", "~0").replaceAll("/", "~1") : field;
  return { ...problem, step, field: f, warning };
}

/**
 * The field among `fields` (paths like `input/filter`) a problem's field
 * belongs to: itself, else the nearest field that holds it (`input/messages`
 * for `input/messages/0/role`); null when none does.
 * @param {string[]} fields
 * @param {string} field
 * @returns {string | null}
 */
export function owner(fields, field) {
  let best = null;
  for (const f of fields) {
    if (f === field) return f;
    if (field.startsWith(f + "/") && (!best || f.length > best.length)) best = f;
  }
  return best;
}
