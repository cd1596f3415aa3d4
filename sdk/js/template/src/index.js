import { defineConnector, Manifest, Action, WeftError } from '@weft/sdk';

const manifest = new Manifest('{name}', '0.1.0', 'Greets people by name.').action(
  new Action('greet', 'Say hello to someone.')
    .input({
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', description: 'Who to greet.' } },
    })
    .output({
      type: 'object',
      required: ['message'],
      properties: { message: { type: 'string' } },
    }),
);

export default defineConnector({
  manifest,
  actions: {
    greet(call) {
      // Checked against the action's input schema: a missing or non-string
      // name is an `invalid-input` error naming the field.
      const input = call.input();
      if (!input.name.trim()) throw WeftError.invalidInput('input.name: must not be empty');
      return { message: `Hello, ${input.name}!` };
    },
  },
});
