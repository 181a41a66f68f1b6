// One listener for bench/runtime.ts: `direct` uses Bun.serve, `adapter` the runtime adapter's serve (src/runtime/),
// both answering the same precomputed JSON bytes, so the difference is the adapter's wrapper alone.
import { runtime } from "../src/runtime/index.ts";

const body = new TextEncoder().encode(JSON.stringify({ modules: [{ versions: Array.from({ length: 20 }, (_, i) => ({ version: `1.${i}.0` })) }] }));
const headers = { "content-type": "application/json" };
const fetch = () => new Response(body, { headers });
const mode = process.argv[2];
const server = mode === "direct" ? Bun.serve({ hostname: "127.0.0.1", port: 0, fetch }) : runtime.serve({ hostname: "127.0.0.1", port: 0, fetch });
console.log(JSON.stringify({ port: server.port }));
