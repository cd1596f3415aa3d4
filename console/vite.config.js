import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The build goes to WEFT_CONSOLE_OUT (the scripts use $CARGO_TARGET_DIR/console,
// outside the clone), else to dist/. `npm run dev` proxies the API to a running
// `weft serve` (WEFT_SERVER, default http://127.0.0.1:8080).
const server = process.env.WEFT_SERVER || "http://127.0.0.1:8080";
export default defineConfig({
  plugins: [svelte()],
  build: {
    outDir: process.env.WEFT_CONSOLE_OUT || "dist",
    emptyOutDir: true,
    target: "es2022",
    // No inline scripts or data: URLs for modules (the CSP forbids them).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { "/v1": server, "/hooks": server, "/resume": server, "/openapi.json": server },
  },
});
