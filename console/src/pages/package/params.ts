// A template's parameter schema (a JSON Schema of type object) as form
// fields, and the form's values back as the parameters to send. Only the
// shapes a form can hold are checked here (required, numbers, JSON); the
// server checks the whole schema and names each problem's parameter.

type Schema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  items?: Schema;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  title?: string;
  properties?: Record<string, Schema>;
  required?: string[];
};

export type FieldKind = "string" | "text" | "integer" | "number" | "boolean" | "enum" | "list" | "json";

export type Field = {
  name: string;
  label: string;
  description: string;
  required: boolean;
  kind: FieldKind;
  schema: Schema;
  /** For a list: the type of its items. */
  item?: "string" | "integer" | "number";
  options?: unknown[];
};

export type Values = Record<string, string | number | boolean | null>;

const typeOf = (s: Schema | undefined) => (Array.isArray(s?.type) ? s.type.find((t) => t !== "null") : s?.type);

/** "timeout_ms" -> "Timeout ms". */
export function humanize(name: string): string {
  const s = name.replace(/[_-]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The fields of a parameter schema: the required ones first, in the schema's order. */
export function fields(schema: unknown): Field[] {
  const s = (schema ?? {}) as Schema;
  const order = s.required ?? [];
  const required = new Set(order);
  const rank = (n: string) => (required.has(n) ? order.indexOf(n) : order.length);
  const props = Object.entries(s.properties ?? {}).sort(([a], [b]) => rank(a) - rank(b));
  return props.map(([name, p]) => {
    const t = typeOf(p);
    const base = { name, label: p.title || humanize(name), description: p.description ?? "", required: required.has(name), schema: p };
    if (Array.isArray(p.enum) && p.enum.length) return { ...base, kind: "enum" as const, options: p.enum };
    if (t === "boolean") return { ...base, kind: "boolean" as const };
    if (t === "integer" || t === "number") return { ...base, kind: t };
    if (t === "string") {
      const long = (p.maxLength ?? 0) > 200 || (typeof p.default === "string" && (p.default.length > 70 || p.default.includes("\n")));
      return { ...base, kind: long ? ("text" as const) : ("string" as const) };
    }
    const it = typeOf(p.items);
    if (t === "array" && (it === "string" || it === "integer" || it === "number") && !p.items?.enum) return { ...base, kind: "list" as const, item: it };
    return { ...base, kind: "json" as const };
  });
}

/** The form's values for `params` (an example's), falling back to the defaults. */
export function initial(list: Field[], params: Record<string, unknown> = {}): Values {
  const out: Values = {};
  for (const f of list) {
    const v = f.name in params ? params[f.name] : f.schema.default;
    out[f.name] = toValue(f, v);
  }
  return out;
}

function toValue(f: Field, v: unknown): string | boolean {
  if (f.kind === "boolean") return v === true;
  if (v === undefined || v === null) return "";
  if (f.kind === "enum") return JSON.stringify(v);
  if (f.kind === "list" && Array.isArray(v)) return v.map(String).join("\n");
  if (f.kind === "json") return JSON.stringify(v, null, 2);
  return String(v);
}

/** The parameters to send, or the problems by field name. */
export function collect(list: Field[], values: Values): { parameters: Record<string, unknown>; errors: Record<string, string> } {
  const parameters: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of list) {
    const raw = values[f.name];
    if (f.kind === "boolean") {
      parameters[f.name] = raw === true;
      continue;
    }
    // A number input's binding holds a number (or null when empty).
    const text = typeof raw === "string" || typeof raw === "number" ? String(raw) : "";
    if (f.kind === "list") {
      const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
      if (lines.length === 0) {
        if (f.required) errors[f.name] = "Give at least one, one per line.";
        continue;
      }
      if (f.item === "string") parameters[f.name] = lines;
      else {
        const nums = lines.map(Number);
        const bad = lines.find((l, i) => !Number.isFinite(nums[i]) || (f.item === "integer" && !Number.isInteger(nums[i])));
        if (bad !== undefined) errors[f.name] = `“${bad}” is not ${f.item === "integer" ? "a whole number" : "a number"}.`;
        else parameters[f.name] = nums;
      }
      continue;
    }
    if (text.trim() === "") {
      if (f.required) errors[f.name] = "Required.";
      continue;
    }
    if (f.kind === "integer" || f.kind === "number") {
      const n = Number(text);
      if (!Number.isFinite(n) || (f.kind === "integer" && !Number.isInteger(n))) errors[f.name] = f.kind === "integer" ? "A whole number." : "A number.";
      else parameters[f.name] = n;
    } else if (f.kind === "enum") {
      parameters[f.name] = JSON.parse(text);
    } else if (f.kind === "json") {
      try {
        parameters[f.name] = JSON.parse(text);
      } catch (e) {
        errors[f.name] = `Not JSON: ${(e as Error).message}`;
      }
    } else parameters[f.name] = text;
  }
  return { parameters, errors };
}
