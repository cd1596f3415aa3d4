// A workflow as an MCP tool, for the workflow page: its settings (`mcp`),
// its input and output described in words, the definition with changed
// settings, and where the server's problems belong on the form. The rules
// mirror the server's (host/engine/src/input.rs, validate/contract.rs,
// host/mcp/src/workflow_tools.rs); the server stays the authority.
//
// Self-contained (no imports), so tests/mcp-unit.test.mjs loads it in Node.

type Obj = Record<string, unknown>;

/** The `mcp` settings of a definition as the form edits them. */
export type McpForm = { expose: boolean; name: string; description: string };

/** One property of an input or output schema, in words. */
export type Property = { name: string; type: string; required: boolean; description: string };

/** Longest tool name (`MAX_TOOL_NAME`). */
export const MAX_TOOL_NAME = 64;
/** Longest `mcp.description` (`MAX_TOOL_DESCRIPTION`). */
export const MAX_TOOL_DESCRIPTION = 1000;
/** The management tools: a workflow tool with one of these names is offered with the id's tail appended. */
export const MANAGEMENT_TOOLS = [
  "list_workflows", "get_workflow", "validate_workflow", "create_workflow", "update_workflow", "set_workflow_active",
  "run_workflow", "get_run", "list_runs", "cancel_run", "list_connectors", "search_marketplace",
];

const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);
const text = (v: unknown) => (typeof v === "string" ? v : "");

/** A workflow name as the default tool name: lower-case ASCII letters and digits, every other run one `_`. */
export function snakeCase(name: string): string {
  let out = "";
  let gap = false;
  for (const c of name) {
    if (/^[A-Za-z0-9]$/.test(c)) {
      if (gap && out) out += "_";
      gap = false;
      out += c.toLowerCase();
    } else gap = true;
  }
  out = out.slice(0, MAX_TOOL_NAME).replace(/_+$/, "");
  return out || "workflow";
}

/** The form's values from a definition's `mcp` (absent: not exposed). */
export function mcpOf(def: Obj): McpForm {
  const m = isObj(def.mcp) ? def.mcp : {};
  return { expose: m.expose === true, name: text(m.name), description: text(m.description) };
}

/** Whether the form says something else than the definition. */
export function changed(def: Obj, form: McpForm): boolean {
  const was = mcpOf(def);
  return was.expose !== form.expose || was.name !== form.name.trim() || was.description !== form.description.trim();
}

/**
 * The definition with `mcp` as the form says, everything else as it was.
 * Blank name and description are left out (the defaults apply); turning
 * exposure off keeps a name or description for the next time, and a
 * definition that had no `mcp` gets none while nothing is set.
 */
export function withMcp(def: Obj, form: McpForm): Obj {
  const name = form.name.trim();
  const description = form.description.trim();
  const next: Obj = { ...def };
  if (!form.expose && !name && !description) {
    if (isObj(def.mcp)) next.mcp = { expose: false };
    return next;
  }
  const mcp: Obj = { expose: form.expose };
  if (name) mcp.name = name;
  if (description) mcp.description = description;
  next.mcp = mcp;
  return next;
}

/** What the assistant reads as the tool's description: `mcp.description`, else the workflow's, else a sentence. */
export function toolDescription(def: Obj): string {
  const m = mcpOf(def);
  return m.description || text(def.description) || `Runs the workflow "${text(def.name)}".`;
}

/** The name the MCP server lists the tool under when `name` is a management tool's (the id's last 6 characters appended). */
export function listedName(name: string, workflowId: string): string {
  if (!MANAGEMENT_TOOLS.includes(name)) return name;
  return `${name.slice(0, 57)}_${workflowId.slice(-6)}`;
}

/** A schema's type in words: `string`, `integer or null`, `one of "a", "b"`, `array of string`, `any`. */
export function typeOf(schema: unknown): string {
  if (schema === true || !isObj(schema)) return "any";
  if ("const" in schema) return `exactly ${JSON.stringify(schema.const)}`;
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  const t = schema.type;
  const types = typeof t === "string" ? [t] : Array.isArray(t) ? t.filter((x): x is string => typeof x === "string") : [];
  if (types.length) {
    return types
      .map((x) => (x === "array" && isObj(schema.items) ? `array of ${typeOf(schema.items)}` : x))
      .join(" or ");
  }
  const alts = (Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : null) as unknown[] | null;
  if (alts?.length) return alts.map(typeOf).join(" or ");
  if (isObj(schema.properties)) return "object";
  return "any";
}

/** The properties of an object schema, one each, in the schema's order; null when it lists none. */
export function propertiesOf(schema: unknown): Property[] | null {
  if (!isObj(schema) || !isObj(schema.properties)) return null;
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(schema.properties).map(([name, p]) => ({
    name,
    type: typeOf(p),
    required: required.has(name),
    description: isObj(p) ? text(p.description) : "",
  }));
}

/** The tool's `outputSchema`: the first top-level respond step's `output_schema`, as the MCP server picks it. */
export function outputSchemaOf(def: Obj): unknown {
  const steps = Array.isArray(def.steps) ? def.steps : [];
  for (const s of steps) {
    if (isObj(s) && s.kind === "respond" && s.output_schema !== undefined) return s.output_schema;
  }
  return undefined;
}

/**
 * Which part of the form a definition problem belongs to: a field of `mcp`, the schemas (an exposed
 * workflow's input and output schemas must be objects), or elsewhere.
 */
export function fieldOf(path: string): "expose" | "name" | "description" | "schema" | "other" {
  if (path === "/mcp/name" || path.startsWith("/mcp/name/")) return "name";
  if (path === "/mcp/description" || path.startsWith("/mcp/description/")) return "description";
  if (path === "/mcp" || path.startsWith("/mcp/")) return "expose";
  if (path === "/input_schema" || path.startsWith("/input_schema/") || /\/output_schema(\/|$)/.test(path)) return "schema";
  return "other";
}
