// Types of @weft/sdk (the API in src/). The WIT-level types the SDK speaks to
// the host with are in wit/plugin.wit; `npm run types` writes jco's
// TypeScript for them into types/wit/ (generated, not committed).

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON Schema object (the SDK checks a subset: see `validate`). */
export type JsonSchema = { [key: string]: unknown };

/** The WIT `error-kind` spellings. */
export declare const ErrorKind: {
  readonly InvalidInput: 'invalid-input';
  readonly Auth: 'auth';
  readonly RateLimited: 'rate-limited';
  readonly Transient: 'transient';
  readonly Permanent: 'permanent';
};
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** A classified failure: throw it from a handler. */
export declare class WeftError extends Error {
  constructor(kind: ErrorKind, message: string, retryAfterMs?: number | null);
  readonly kind: ErrorKind;
  retryAfterMs: number | null;
  /** Set when the failure came from the `http` import: the WIT `http-error`. */
  httpError?: { tag: HttpErrorTag; val?: string | number };
  /** Set when the failure came from the `state` import: the WIT `state-error`. */
  stateError?: { tag: 'not-granted' | 'too-large' | 'unavailable'; val?: unknown };
  static invalidInput(message: string): WeftError;
  static auth(message: string): WeftError;
  static rateLimited(message: string, retryAfterMs?: number | null): WeftError;
  static transient(message: string, retryAfterMs?: number | null): WeftError;
  static permanent(message: string): WeftError;
  static unknownAction(name: string): WeftError;
  /** 401/403/407 auth; 408/425 transient; 429 rate-limited; other 4xx invalid-input; 501/505 permanent; other 5xx transient. */
  static fromStatus(status: number, bodySnippet?: string): WeftError;
  withRetryAfterMs(ms: number | null): this;
  context(where: string): this;
}

export type HttpErrorTag =
  | 'denied' | 'credential-not-found' | 'credential-not-bound' | 'invalid-request'
  | 'timeout' | 'connect' | 'protocol' | 'too-many-redirects';

export declare class Action {
  constructor(name: string, description?: string);
  readonly name: string;
  readonly description: string;
  inputSchema: JsonSchema;
  outputSchema: JsonSchema;
  input(schema: JsonSchema): this;
  output(schema: JsonSchema): this;
}

export declare class CredentialSlot {
  constructor(name: string, description?: string);
  readonly name: string;
  readonly hosts: string[];
  optional: boolean;
  host(pattern: string): this;
  setOptional(optional?: boolean): this;
}

export interface ActionObject {
  name: string;
  description?: string;
  input?: JsonSchema;
  output?: JsonSchema;
}

export interface CredentialSlotObject {
  name: string;
  description?: string;
  hosts?: string[];
  optional?: boolean;
}

export interface ManifestObject {
  name: string;
  version: string;
  description?: string;
  actions?: Array<Action | ActionObject>;
  hosts?: string[];
  credentials?: Array<CredentialSlot | CredentialSlotObject>;
  state?: boolean;
  config?: JsonSchema;
}

export declare class Manifest {
  constructor(name: string, version: string, description?: string);
  readonly name: string;
  readonly version: string;
  readonly actions: Action[];
  readonly hosts: string[];
  readonly credentials: CredentialSlot[];
  usesState: boolean;
  configSchema: JsonSchema | null;
  action(action: Action | ActionObject): this;
  /** An outbound host pattern: `api.example.com`, `*.example.com` or `*`. */
  host(pattern: string): this;
  credential(slot: CredentialSlot | CredentialSlotObject): this;
  state(usesState?: boolean): this;
  config(schema: JsonSchema): this;
  findAction(name: string): Action | undefined;
}

export declare class Context {
  readonly workflowId: string;
  readonly runId: string;
  readonly stepId: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Stable across retries of the same step. */
  readonly idempotencyKey: string;
  readonly deadlineUnixMs: number;
  remainingMs(): number;
}

/** A function that checks a value and returns it (throw to refuse). */
export type Validator<T> = (value: unknown) => T;

export declare class Call {
  readonly action: string;
  readonly context: Context;
  readonly inputValue: JsonValue;
  readonly configValue: JsonValue;
  /** The input checked against the action's input schema (or the schema/validator given). */
  input<T = any>(schemaOrValidator?: JsonSchema | Validator<T> | null): T;
  /** The config (a missing one reads as `{}`), checked like `input` when a schema/validator is given. */
  config<T = any>(schemaOrValidator?: JsonSchema | Validator<T> | null): T;
}

export type Handler = (call: Call) => unknown;

export interface ConnectorDefinition {
  manifest: Manifest | ManifestObject;
  /** One handler per action name. */
  actions?: Record<string, Handler>;
  /** Or one function for every action (`call.action` says which). */
  invoke?: Handler;
}

/** The `weft:plugin/plugin` export; `export default` it from src/index.js. */
export interface Connector {
  readonly manifest: Manifest;
  describe(): unknown;
  invoke(ctx: unknown, action: string, input: string, config: string): string;
}

export declare function defineConnector(definition: ConnectorDefinition): Connector;

export declare class Request {
  constructor(method: string, url: string);
  readonly method: string;
  readonly url: string;
  header(name: string, value: string): this;
  query(name: string, value: string | number | boolean): this;
  json(value: unknown): this;
  body(body: string | Uint8Array | number[]): this;
  /** The host injects the secret bound to this slot; the connector never sees it. */
  credential(slot: string): this;
  timeoutMs(ms: number): this;
  hasHeader(name: string): boolean;
  /** Throws a classified WeftError when the host could not complete the request. */
  send(): Response;
}

export declare class Response {
  readonly status: number;
  readonly headers: Array<[string, string]>;
  readonly body: Uint8Array;
  readonly url: string;
  readonly isSuccess: boolean;
  readonly isJson: boolean;
  header(name: string): string | undefined;
  text(): string;
  json<T = any>(): T;
  retryAfterMs(): number | null;
  /** This response below 400; throws the classified WeftError otherwise. */
  errorForStatus(): this;
  statusError(): WeftError;
}

export declare const http: {
  request(method: string, url: string): Request;
  get(url: string): Request;
  post(url: string): Request;
  put(url: string): Request;
  patch(url: string): Request;
  delete(url: string): Request;
  Request: typeof Request;
};

export declare const state: {
  get(key: string): Uint8Array | null;
  set(key: string, value: string | Uint8Array): void;
  delete(key: string): boolean;
  getText(key: string): string | null;
  getJson<T = any>(key: string): T | null;
  setJson(key: string, value: unknown): void;
};

export type LogFields = Record<string, unknown> | Array<[string, string]>;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export declare const log: {
  write(level: LogLevel, message: string, fields?: LogFields): void;
  trace(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
};

export declare function validate<T = unknown>(schema: JsonSchema, value: T, root: string): T;
export declare function parseRetryAfter(value: string, now?: number): number | null;
export declare function snippet(text: string, max?: number): string;
export declare function redactUrl(url: string): string;
export declare function appendQuery(url: string, params: Array<[string, string]>): string;
export declare function encodeQueryComponent(s: string): string;
/** `js` (componentize-js) or `qjs` (componentize-qjs): the engine the component was built for. */
export declare const engine: 'js' | 'qjs';
