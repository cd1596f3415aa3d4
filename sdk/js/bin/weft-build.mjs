#!/usr/bin/env node
// weft-build: build a JavaScript connector project into a WebAssembly component.
//
//   node node_modules/@weft/sdk/bin/weft-build.mjs [DIR] [--engine js|qjs]
//        [--entry FILE] [--out FILE] [--with-wasi-http]
//
// DIR (default: the current directory) holds package.json; its `name` names
// the output, DIR/dist/<name>.wasm (a scope such as `@acme/` is dropped), and
// its entry is `weft.entry`, else `main`, else src/index.js, a module whose
// default export is `defineConnector({...})`. The entry is bundled with the SDK
// by esbuild (the engines take one module), then componentized against the
// SDK's copy of wit/plugin.wit, world `connector`:
//   --engine js   componentize-js (SpiderMonkey, non-AOT; the default), with
//                 its `http` and `fetch-event` features off (they import
//                 wasi:http, which Weft refuses: outbound HTTP goes through
//                 the `http` import);
//   --engine qjs  componentize-qjs (QuickJS; much smaller components).
// --with-wasi-http keeps componentize-js's fetch() (a component Weft refuses:
// for tests). The last line printed on stdout is the output path; failures
// exit 1 with a message on stderr.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve, relative, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

const SDK = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WIT = join(SDK, 'wit', 'plugin.wit');
const WORLD = 'connector';

function fail(message) {
  process.stderr.write(`weft-build: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { dir: '.', engine: 'js', entry: null, out: null, wasiHttp: false };
  const rest = [...argv];
  let dirSet = false;
  while (rest.length) {
    const a = rest.shift();
    const value = () => {
      if (!rest.length) fail(`${a} needs a value`);
      return rest.shift();
    };
    if (a === '--engine') opts.engine = value();
    else if (a.startsWith('--engine=')) opts.engine = a.slice(9);
    else if (a === '--entry') opts.entry = value();
    else if (a === '--out' || a === '-o') opts.out = value();
    else if (a === '--with-wasi-http') opts.wasiHttp = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 20).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
      process.exit(0);
    } else if (a.startsWith('-')) fail(`unknown option ${a} (see --help)`);
    else if (dirSet) fail(`unexpected argument ${a}: give one project directory`);
    else {
      opts.dir = a;
      dirSet = true;
    }
  }
  if (opts.engine !== 'js' && opts.engine !== 'qjs') fail(`--engine must be js or qjs, not ${opts.engine}`);
  return opts;
}

async function load(what, specifier, hint) {
  try {
    return await import(specifier);
  } catch (e) {
    fail(`${what} is not installed (${e.code ?? e.message}): ${hint}`);
  }
}

function fromSdk(pkg) {
  // Resolve a dependency of the SDK from the SDK's own node_modules (also
  // when the SDK is symlinked into the project).
  const p = join(SDK, 'node_modules', ...pkg.split('/'));
  return existsSync(p) ? p : null;
}

async function importDep(pkg, sub, what) {
  const base = fromSdk(pkg);
  const hint = `run \`npm install\` in ${base ? SDK : 'your project'} (the SDK depends on ${pkg})`;
  if (!base) {
    try {
      return await import(pkg + (sub ? `/${sub}` : ''));
    } catch (e) {
      fail(`${what} (${pkg}) is not installed: ${hint}`);
    }
  }
  const manifest = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8'));
  let file = sub;
  if (!file) {
    const ex = manifest.exports;
    file = (typeof ex === 'string' ? ex : ex?.['.']?.import ?? ex?.import ?? ex?.['.']?.default ?? ex?.default) ?? manifest.main ?? 'index.js';
  }
  return load(what, join(base, file), hint);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dir = resolve(opts.dir);
  const pkgPath = join(dir, 'package.json');
  if (!existsSync(pkgPath)) fail(`${pkgPath} not found: a JavaScript connector project has a package.json`);
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  } catch (e) {
    fail(`${pkgPath} is not valid JSON: ${e.message}`);
  }
  if (typeof pkg.name !== 'string' || !pkg.name) fail(`${pkgPath}: "name" is missing (it names dist/<name>.wasm)`);
  const name = pkg.name.replace(/^@[^/]+\//, '');
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) fail(`${pkgPath}: "name" ${JSON.stringify(pkg.name)} is not a plain package name`);
  const entryRel = opts.entry ?? pkg.weft?.entry ?? pkg.main ?? 'src/index.js';
  const entry = isAbsolute(entryRel) ? entryRel : join(dir, entryRel);
  if (!existsSync(entry)) fail(`the entry ${entry} does not exist (set "main" in package.json or pass --entry)`);
  const out = opts.out ? resolve(opts.out) : join(dir, 'dist', `${name}.wasm`);
  const work = join(dirname(out), '.weft-build');
  mkdirSync(work, { recursive: true });

  const esbuild = await importDep('esbuild', 'lib/main.js', 'esbuild');
  const build = esbuild.build ?? esbuild.default?.build;
  // The user's module must default-export a connector.
  const common = {
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: ['weft:*'],
    // A project may import @weft/sdk through a symlink to the SDK.
    nodePaths: [join(dir, 'node_modules'), join(SDK, '..')],
    alias: { '@weft/sdk': join(SDK, 'src', 'index.js') },
    define: { __WEFT_ENGINE__: JSON.stringify(opts.engine) },
    logLevel: 'silent',
    write: false,
    metafile: true,
  };
  let probe;
  try {
    probe = await build({ ...common, entryPoints: [entry] });
  } catch (e) {
    fail(`could not bundle ${relative(process.cwd(), entry) || entry}:\n${formatEsbuild(e)}`);
  }
  const exported = Object.values(probe.metafile.outputs)[0]?.exports ?? [];
  if (!exported.includes('default')) {
    fail(`${entry} has no default export: end it with \`export default defineConnector({ manifest, ... })\``);
  }
  const shim = [
    `import connector from ${JSON.stringify(entry)};`,
    `if (!connector || typeof connector.describe !== 'function' || typeof connector.invoke !== 'function') {`,
    `  throw new Error(${JSON.stringify(`${entryRel}: the default export is not a connector (use defineConnector from @weft/sdk)`)});`,
    `}`,
    `export const plugin = {`,
    `  describe() { return connector.describe(); },`,
    `  invoke(ctx, action, input, config) { return connector.invoke(ctx, action, input, config); },`,
    `};`,
  ].join('\n');
  let bundled;
  try {
    bundled = await build({ ...common, stdin: { contents: shim, resolveDir: dir, sourcefile: 'weft-entry.js', loader: 'js' } });
  } catch (e) {
    fail(`could not bundle ${entry}:\n${formatEsbuild(e)}`);
  }
  const bundlePath = join(work, `${name}.${opts.engine}.mjs`);
  writeFileSync(bundlePath, bundled.outputFiles[0].contents);

  let bytes;
  if (opts.engine === 'js') {
    const { componentize } = await importDep('@bytecodealliance/componentize-js', null, 'componentize-js');
    const disableFeatures = opts.wasiHttp ? [] : ['http', 'fetch-event'];
    try {
      ({ component: bytes } = await componentize({ sourcePath: bundlePath, witPath: WIT, worldName: WORLD, disableFeatures }));
    } catch (e) {
      fail(`componentize-js failed for ${entry}: ${e?.message ?? e}`);
    }
  } else {
    const qjs = await importDep('componentize-qjs', null, 'componentize-qjs');
    const componentize = qjs.componentize ?? qjs.default?.componentize;
    try {
      ({ component: bytes } = await componentize({
        witPath: WIT,
        jsSource: readFileSync(bundlePath, 'utf8'),
        jsPath: bundlePath,
        world: WORLD,
        sync: true,
      }));
    } catch (e) {
      fail(`componentize-qjs failed for ${entry}: ${e?.message ?? e}`);
    }
    bytes = await dropQjsInit(bytes);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  process.stdout.write(`${out}\n`);
}

// componentize-qjs leaves its build-time set-up export at the component's
// root, `init: func(shim: string, script: string, entry-path: option<string>,
// disable-gc: bool) -> result<_, string>` (already run and snapshotted by its
// Wizer step). A Weft host reads a root `init` as the pre-initialisation export
// of the `connector-with-init` world (`init: func()`) and refuses this one, so
// the root export (and the alias only it uses) is removed, through the
// component's text form with jco's wasm-tools (print, edit, parse).
async function dropQjsInit(bytes) {
  const tools = await importDep('@bytecodealliance/jco', null, 'jco');
  let text;
  try {
    text = await tools.print(bytes);
  } catch (e) {
    fail(`could not print the componentize-qjs component to remove its root \`init\` export: ${e?.message ?? e}`);
  }
  const lines = text.split('\n');
  // The root scope is indented by two spaces; the export is near the end.
  const at = lines.findIndex(
    (l, i) =>
      /^  \(alias export \d+ "init" \(func \(;(\d+);\)\)\)$/.test(l) &&
      new RegExp(`^  \\(export \\(;\\d+;\\) "init" \\(func ${l.match(/\(;(\d+);\)/)[1]}\\)\\)$`).test(lines[i + 1] ?? ''),
  );
  if (at < 0) {
    fail('the componentize-qjs component has no root `init` export of the expected shape: this componentize-qjs version is not supported (0.4.5 is)');
  }
  lines.splice(at, 2);
  // Nothing after it at the root may name a function by index (it would shift).
  if (lines.slice(at).some((l) => /^  \S/.test(l) && l.includes('(func '))) {
    fail('the componentize-qjs component has root functions after its `init` export: this componentize-qjs version is not supported (0.4.5 is)');
  }
  try {
    return await tools.parse(lines.join('\n'));
  } catch (e) {
    fail(`could not rebuild the componentize-qjs component without its root \`init\` export: ${e?.message ?? e}`);
  }
}

function formatEsbuild(e) {
  const errors = e?.errors ?? [];
  if (!errors.length) return String(e?.message ?? e);
  return errors
    .map((m) => (m.location ? `  ${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : `  ${m.text}`))
    .join('\n');
}

main().catch((e) => fail(e?.stack ?? String(e)));
