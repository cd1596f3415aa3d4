// The connector's self-description. Mirrors sdk/src/manifest.rs.

/** One action a connector offers; schemas are plain JSON Schema objects. */
export class Action {
  constructor(name, description = '') {
    this.name = String(name);
    this.description = String(description);
    this.inputSchema = {};
    this.outputSchema = {};
  }
  input(schema) {
    this.inputSchema = schema;
    return this;
  }
  output(schema) {
    this.outputSchema = schema;
    return this;
  }
}

/** A credential the connector uses by reference: the host injects the secret. */
export class CredentialSlot {
  constructor(name, description = '') {
    this.name = String(name);
    this.description = String(description);
    this.hosts = [];
    this.optional = false;
  }
  host(pattern) {
    this.hosts.push(String(pattern));
    return this;
  }
  setOptional(optional = true) {
    this.optional = Boolean(optional);
    return this;
  }
}

/** The manifest: name, version, actions and the capabilities asked for. */
export class Manifest {
  constructor(name, version, description = '') {
    this.name = String(name);
    this.version = String(version);
    this.description = String(description);
    this.actions = [];
    this.hosts = [];
    this.credentials = [];
    this.usesState = false;
    this.configSchema = null;
  }
  action(action) {
    this.actions.push(asAction(action));
    return this;
  }
  host(pattern) {
    this.hosts.push(String(pattern));
    return this;
  }
  credential(slot) {
    this.credentials.push(asSlot(slot));
    return this;
  }
  state(usesState = true) {
    this.usesState = Boolean(usesState);
    return this;
  }
  config(schema) {
    this.configSchema = schema;
    return this;
  }
  /** The action named `name`, or undefined. */
  findAction(name) {
    return this.actions.find((a) => a.name === name);
  }
}

/** A Manifest from a Manifest or a plain object `{name, version, description, actions, hosts, credentials, state, config}`. */
export function asManifest(value) {
  if (value instanceof Manifest) return value;
  if (!value || typeof value !== 'object') {
    throw new TypeError('defineConnector: `manifest` must be a Manifest or an object');
  }
  for (const key of ['name', 'version']) {
    if (typeof value[key] !== 'string' || !value[key]) {
      throw new TypeError(`defineConnector: manifest.${key} must be a non-empty string`);
    }
  }
  const m = new Manifest(value.name, value.version, value.description ?? '');
  for (const a of value.actions ?? []) m.action(a);
  for (const h of value.hosts ?? []) m.host(h);
  for (const c of value.credentials ?? []) m.credential(c);
  m.state(Boolean(value.state));
  if (value.config) m.config(value.config);
  return m;
}

function asAction(a) {
  if (a instanceof Action) return a;
  if (!a || typeof a.name !== 'string') throw new TypeError('manifest: an action needs a `name`');
  return new Action(a.name, a.description ?? '').input(a.input ?? {}).output(a.output ?? {});
}

function asSlot(c) {
  if (c instanceof CredentialSlot) return c;
  if (!c || typeof c.name !== 'string') throw new TypeError('manifest: a credential needs a `name`');
  const s = new CredentialSlot(c.name, c.description ?? '').setOptional(Boolean(c.optional));
  for (const h of c.hosts ?? []) s.host(h);
  return s;
}

/** The WIT `manifest` record. */
export function toWit(m) {
  return {
    name: m.name,
    version: m.version,
    description: m.description,
    actions: m.actions.map((a) => ({
      name: a.name,
      description: a.description,
      inputSchema: JSON.stringify(a.inputSchema ?? {}),
      outputSchema: JSON.stringify(a.outputSchema ?? {}),
    })),
    capabilities: {
      hosts: [...m.hosts],
      credentials: m.credentials.map((c) => ({
        name: c.name,
        description: c.description,
        hosts: [...c.hosts],
        optional: c.optional,
      })),
      state: m.usesState,
    },
    configSchema: m.configSchema == null ? '' : JSON.stringify(m.configSchema),
  };
}
