// n8n's names over a Weft code step's items (weft import n8n; docs/IMPORT.md).
const __items = (out) => (out == null ? [] : Array.isArray(out) ? out : [out]);
const __node = (out) => {
  const a = __items(out);
  return {
    item: { json: a[0] },
    json: a[0],
    first: () => ({ json: a[0] }),
    last: () => ({ json: a[a.length - 1] }),
    all: () => a.map((json) => ({ json })),
  };
};
const $input = __node(items);
const __out = (r) => __items(r).map((i) => (i !== null && typeof i === 'object' && 'json' in i ? i.json : i));
const __as = (type, v) => {
  switch (type) {
    case 'string': return typeof v === 'string' ? v : v == null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'number': return Number(v);
    case 'boolean': return typeof v === 'string' ? v === 'true' : Boolean(v);
    default: return v;
  }
};
const __set = (o, name, v) => {
  const path = name.split('.');
  let at = o;
  for (const k of path.slice(0, -1)) at = at[k] !== null && typeof at[k] === 'object' ? at[k] : (at[k] = {});
  at[path[path.length - 1]] = v;
};
const __get = (o, name) => name.split('.').reduce((at, k) => (at == null ? undefined : at[k]), o);
const __test = (c, l, r) => {
  const op = c.operator.operation;
  switch (op) {
    case 'equals': return c.operator.type === 'number' ? Number(l) === Number(r) : l === r;
    case 'notEquals': return c.operator.type === 'number' ? Number(l) !== Number(r) : l !== r;
    case 'gt': return l > r;
    case 'gte': return l >= r;
    case 'lt': return l < r;
    case 'lte': return l <= r;
    case 'contains': return l != null && l.includes(r);
    case 'notContains': return l == null || !l.includes(r);
    case 'startsWith': return typeof l === 'string' && l.startsWith(r);
    case 'endsWith': return typeof l === 'string' && l.endsWith(r);
    case 'regex': return new RegExp(r).test(l);
    case 'exists': return l !== undefined && l !== null;
    case 'notExists': return l === undefined || l === null;
    case 'empty': return l == null || l === '' || (typeof l === 'object' && Object.keys(l).length === 0);
    case 'notEmpty': return !(l == null || l === '' || (typeof l === 'object' && Object.keys(l).length === 0));
    case 'true': return l === true;
    case 'false': return l === false;
    default: throw new Error(`the n8n operator ${c.operator.type}/${op} is not supported by the import`);
  }
};
