#!/usr/bin/env node
// weft-types: writes jco's TypeScript declarations of the guest side of the
// `weft:plugin/connector` world (the shapes the SDK exchanges with the host)
// from the SDK's copy of wit/plugin.wit into types/wit/ (generated: not
// committed). `npm run types` in sdk/js.
//
// jco 1.35's `guest-types` reads the WIT through preview2-shim 0.26, which
// gives the WIT reader no preopened directory (it fails with "No such file or
// directory (os error 44)"), so this preopens the SDK's wit/ directory first.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SDK = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(SDK, 'types', 'wit'));
const transpileDir = join(SDK, 'node_modules', '@bytecodealliance', 'jco-transpile');
const require = createRequire(join(transpileDir, 'package.json'));
const shimFs = require.resolve('@bytecodealliance/preview2-shim/filesystem');
const { _setPreopens } = await import(pathToFileURL(shimFs).href);
_setPreopens({ '/wit': join(SDK, 'wit') });
const { generateGuestTypes } = await import(pathToFileURL(join(transpileDir, 'dist', 'index.js')).href);
const files = await generateGuestTypes('/wit/plugin.wit', { worldName: 'connector', name: 'connector' });
for (const [name, bytes] of Object.entries(files)) {
  const path = join(out, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}
process.stdout.write(`${Object.keys(files).length} files in ${out}\n`);
