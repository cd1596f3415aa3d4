// webhook-relay: delivers events to a webhook receiver (any service that
// accepts `POST {base_url}/events` with a bearer API key), numbering them with
// a per-tenant sequence kept in the connector's state, and passing the step's
// idempotency key so a retried step is delivered once.
import { defineConnector, Manifest, Action, CredentialSlot, WeftError, http, state, log } from '@weft/sdk';

const DEFAULT_BASE_URL = 'https://hooks.example.com';
const SEQUENCE = 'sequence';

// The receiver is configurable (`base_url`), so the connector asks for any host
// the tenant allows (`*`) and the key goes wherever the tenant binds it.
const manifest = new Manifest('webhook-relay', '0.1.0', 'Relays events to a webhook receiver, numbered and idempotent.')
  .host('*')
  .credential(new CredentialSlot('api-key', "The receiver's API key (sent as a bearer token).").host('*'))
  .state(true)
  .config({
    type: 'object',
    properties: {
      base_url: { type: 'string', description: `The receiver's base URL (default ${DEFAULT_BASE_URL}).` },
    },
    additionalProperties: false,
  })
  .action(
    new Action('deliver', 'POST an event to {base_url}/events with the next sequence number.')
      .input({
        type: 'object',
        required: ['event'],
        properties: {
          event: { type: 'string', minLength: 1, description: 'The event type, e.g. `order.paid`.' },
          payload: { description: 'Any JSON value sent along.' },
        },
        additionalProperties: false,
      })
      .output({
        type: 'object',
        required: ['sequence', 'status'],
        properties: {
          sequence: { type: 'integer' },
          status: { type: 'integer' },
          id: { type: ['string', 'null'] },
        },
      }),
  )
  .action(
    new Action('last', 'The sequence number of the last delivered event (0 before any).')
      .input({ type: 'object', additionalProperties: false })
      .output({ type: 'object', required: ['sequence'], properties: { sequence: { type: 'integer' } } }),
  );

function lastSequence() {
  const text = state.getText(SEQUENCE);
  if (text == null) return 0;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw WeftError.permanent(`state key \`${SEQUENCE}\` holds ${JSON.stringify(text)}, not a sequence number`);
  }
  return n;
}

export default defineConnector({
  manifest,
  actions: {
    deliver(call) {
      const { base_url: baseUrl = DEFAULT_BASE_URL } = call.config(manifest.configSchema);
      const { event, payload = null } = call.input();
      const sequence = lastSequence() + 1;
      const response = http
        .post(`${baseUrl.replace(/\/+$/, '')}/events`)
        .credential('api-key')
        .header('idempotency-key', call.context.idempotencyKey)
        .json({ sequence, event, payload })
        .timeoutMs(10_000)
        .send() // refused, timed out, ... -> a classified error
        .errorForStatus(); // 401 -> auth, 429 -> rate-limited with its hint, 5xx -> transient
      // Counted only once the receiver took it.
      state.set(SEQUENCE, String(sequence));
      const body = response.isJson ? response.json() : {};
      log.info('delivered', { event, sequence: String(sequence), status: String(response.status) });
      return { sequence, status: response.status, id: typeof body?.id === 'string' ? body.id : null };
    },
    last() {
      return { sequence: lastSequence() };
    },
  },
});
