// Writes a brotli (.br) and a gzip (.gz) copy beside every compressible file
// of the build, which the server sends to clients that accept them.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const out = process.env.WEFT_CONSOLE_OUT || new URL("../dist", import.meta.url).pathname;
const compressible = /\.(html|js|css|svg|json|txt|map|webmanifest)$/;
let raw = 0;
let br = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (compressible.test(name)) {
      const body = readFileSync(path);
      if (body.length < 512) continue;
      const b = brotliCompressSync(body, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
      });
      writeFileSync(`${path}.br`, b);
      writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }));
      raw += body.length;
      br += b.length;
    }
  }
}
walk(out);
console.log(`console: ${(raw / 1024).toFixed(1)} KiB of text, ${(br / 1024).toFixed(1)} KiB brotli, in ${out}`);
