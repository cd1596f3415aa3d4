// @weft/sdk: write Weft connectors in JavaScript. See README.md.
export { defineConnector } from './connector.js';
export { Manifest, Action, CredentialSlot } from './manifest.js';
export { Call, Context } from './call.js';
export { WeftError, ErrorKind, parseRetryAfter, snippet } from './errors.js';
export { http, Request, Response, redactUrl, appendQuery, encodeQueryComponent } from './http.js';
export { state } from './state.js';
export { log } from './log.js';
export { validate } from './schema.js';
export { engine } from './host.js';
