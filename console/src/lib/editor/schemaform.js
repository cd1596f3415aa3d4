// A form from an action's input JSON Schema (the subset of docs/WORKFLOWS.md
// "Input schema checking"): an object's properties become fields: a string
// an input (a textarea when it may be long), an enum a select, a number or an
// integer a numeric input, a boolean a checkbox, an array or an object a small
// JSON box, and a value of any type a box that takes JSON or text. Every text
// field may hold `{{ }}` templates (their value is known only at run time), so
// a number field keeps a template as it is. The server's validation is the
// authority: a value the form cannot read as the field's type is written as
// text and the server's problem is shown on the field.

/** @typedef {"string" | "enum" | "number" | "integer" | "boolean" | "json" | "any"} FieldKind */
/**
 * @typedef {{
 *   name: string; path: string; kind: FieldKind; required: boolean; description: string;
 *   options: unknown[]; default: unknown; multiline: boolean; minimum?: number; maximum?: number;
 * }} Field
 */

/** @param {unknown} v @returns {v is Record<string, any>} */
const isObject = (v) => !!v && typeof v === "object" && !Array.isArray(v);

/**
 * @param {unknown} schema
 * @returns {FieldKind}
 */
export function kindOf(schema) {
  if (!isObject(schema)) return "any";
  if (Array.isArray(schema.enum) && schema.enum.length && schema.enum.every((v) => ["string", "number"].includes(typeof v))) return "enum";
  switch (schema.type) {
    case "string":
      return "string";
    case "number":
      return "number";
    case "integer":
      return "integer";
    case "boolean":
      return "boolean";
    case "object":
    case "array":
      return "json";
    default:
      return "any";
  }
}

/**
 * The fields of an object schema, required ones first (then in the
 * schema's order); null when the schema does not list properties (the form
 * then offers the whole value as JSON).
 * @param {unknown} schema
 * @param {string} prefix where the value is in the step (`input`, `config`)
 * @returns {Field[] | null}
 */
export function fieldsOf(schema, prefix) {
  if (!isObject(schema) || !isObject(schema.properties)) return null;
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const fields = Object.entries(schema.properties).map(([name, p]) => {
    const kind = kindOf(p);
    const s = isObject(p) ? p : {};
    return {
      name,
      path: `${prefix}/${name.replaceAll("~", "~0").replaceAll("/", "~1")}`,
      kind,
      required: required.has(name),
      description: typeof s.description === "string" ? s.description : "",
      options: kind === "enum" ? s.enum : [],
      default: s.default,
      multiline: kind === "string" && typeof s.maxLength === "number" && s.maxLength > 1000,
      minimum: typeof s.minimum === "number" ? s.minimum : undefined,
      maximum: typeof s.maximum === "number" ? s.maximum : undefined,
    };
  });
  return [...fields.filter((f) => f.required), ...fields.filter((f) => !f.required)];
}

/** Whether a text should be read as JSON (an object, a list, a quoted string, a number, true, false, null). */
function looksJson(/** @type {string} */ t) {
  return /^\s*([{["]|-?\d|true\s*$|false\s*$|null\s*$)/.test(t) && !/^\s*{{/.test(t);
}

/**
 * What a field's text means in the definition: the value to write, or
 * `remove` (the key is left out), or an error to show without writing.
 * @param {Field} field
 * @param {string | boolean} input the text (the checked state for a boolean)
 * @returns {{ value?: unknown; remove?: boolean; error?: string }}
 */
export function toValue(field, input) {
  if (field.kind === "boolean") {
    if (input === true) return { value: true };
    return field.default === true ? { value: false } : { remove: true };
  }
  const text = String(input);
  if (text.trim() === "") return { remove: true };
  switch (field.kind) {
    case "string":
      return { value: text };
    case "enum":
      return { value: field.options.find((o) => String(o) === text) ?? text };
    case "number":
    case "integer": {
      const n = Number(text.trim());
      return /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(text) && Number.isFinite(n) ? { value: n } : { value: text };
    }
    case "json":
      try {
        return { value: JSON.parse(text) };
      } catch (e) {
        return /{{/.test(text) && !/^\s*[{[]/.test(text) ? { value: text } : { error: `Not valid JSON: ${/** @type {Error} */ (e).message}` };
      }
    default:
      if (looksJson(text)) {
        try {
          return { value: JSON.parse(text) };
        } catch {
          // Text that only starts like JSON is text.
        }
      }
      return { value: text };
  }
}

/**
 * The text a field shows for a value of the definition.
 * @param {Field} field
 * @param {unknown} value
 * @returns {string}
 */
export function toText(field, value) {
  if (value === undefined) return "";
  switch (field.kind) {
    case "string":
    case "enum":
    case "number":
    case "integer":
      return typeof value === "string" ? value : JSON.stringify(value);
    case "json":
      return typeof value === "string" ? value : JSON.stringify(value, null, 2);
    default:
      if (typeof value === "string") return looksJson(value) ? JSON.stringify(value) : value;
      return JSON.stringify(value, null, 2);
  }
}

/** A field of any type, for values without a schema (a respond body, a sub-workflow's input). */
export function anyField(/** @type {string} */ name, /** @type {string} */ path, description = "") {
  return /** @type {Field} */ ({ name, path, kind: "any", required: false, description, options: [], default: undefined, multiline: true });
}

/**
 * A field the editor knows without a schema (a condition's `if`, a respond
 * step's `status`...).
 * @param {string} path
 * @param {FieldKind} kind
 * @param {Partial<Field>} [more]
 * @returns {Field}
 */
export function makeField(path, kind, more = {}) {
  return { name: path.split("/").at(-1) ?? path, path, kind, required: false, description: "", options: [], default: undefined, multiline: false, ...more };
}
