// The runtime the process runs on. A static import, so Bun loads it at no cost and `bun build --compile` bundles
// it; Deno never sees bun.ts: deno.json's import map redirects "./src/runtime/bun.ts" to "./src/runtime/deno.ts"
// (import-map keys that start with "./" match resolved file URLs), so `deno check`/`deno run` load the Deno
// implementation through this very line. See src/runtime/README.md.
export { runtime } from "./bun.ts";
export type * from "./types.ts";
