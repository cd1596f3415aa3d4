// A small JSON Schema checker for inputs and configs: type, required,
// properties, additionalProperties (false or a schema), items, enum, const,
// minLength/maxLength, minimum/maximum, minItems/maxItems. Errors name the path
// (`input.items[2].name: ...`). Keywords it does not know are ignored.
import { WeftError } from './errors.js';

export function validate(schema, value, root) {
  const problems = [];
  check(schema, value, root, problems);
  if (problems.length) throw WeftError.invalidInput(problems[0]);
  return value;
}

function typeOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(want, v) {
  const t = typeOf(v);
  return want === t || (want === 'number' && t === 'integer');
}

function check(schema, v, path, out) {
  if (!schema || typeof schema !== 'object' || schema === true) return;
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => typeMatches(t, v))) {
      out.push(`${path}: expected ${types.join(' or ')}, got ${typeOf(v)}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
    out.push(`${path}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(v)) {
    out.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  }
  if (typeof v === 'string') {
    const n = [...v].length;
    if (schema.minLength !== undefined && n < schema.minLength) out.push(`${path}: shorter than ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && n > schema.maxLength) out.push(`${path}: longer than ${schema.maxLength} characters`);
  }
  if (typeof v === 'number') {
    if (schema.minimum !== undefined && v < schema.minimum) out.push(`${path}: less than ${schema.minimum}`);
    if (schema.maximum !== undefined && v > schema.maximum) out.push(`${path}: greater than ${schema.maximum}`);
  }
  if (Array.isArray(v)) {
    if (schema.minItems !== undefined && v.length < schema.minItems) out.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && v.length > schema.maxItems) out.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.items && typeof schema.items === 'object') {
      v.forEach((item, i) => check(schema.items, item, `${path}[${i}]`, out));
    }
  }
  if (typeOf(v) === 'object') {
    for (const key of schema.required ?? []) {
      if (!(key in v)) out.push(`${path}: missing field \`${key}\``);
    }
    const props = schema.properties ?? {};
    for (const [key, sub] of Object.entries(v)) {
      if (key in props) check(props[key], sub, `${path}.${key}`, out);
      else if (schema.additionalProperties === false) out.push(`${path}: unknown field \`${key}\``);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        check(schema.additionalProperties, sub, `${path}.${key}`, out);
      }
    }
  }
}
