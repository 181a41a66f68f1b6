// Static assets of the Explorer, embedded in the server code (the CSS as a text import, the client script
// bundled by Bun ahead of time: `bun run gen:ui` writes client-bundle.ts) and served under content-hashed,
// immutable paths. Each asset is gzip-compressed at its first gzip request, not at import: the registry server
// imports this module at startup, and node:zlib is 3.5 MiB on a bare Bun (0.4 MiB more RSS at ready in standalone).
import { createHash } from "node:crypto";
import css from "./assets/app.css" with { type: "text" };
import { CLIENT_SCRIPT } from "./client-bundle.ts";

const script: string = CLIENT_SCRIPT;
const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b5cad"/><path d="M8 10l8-4 8 4v12l-8 4-8-4z" fill="none" stroke="#fff" stroke-width="2"/></svg>`;

const hash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 12);

interface Asset {
  path: string;
  body: string;
  type: string;
  /** The body gzip-compressed, made at the first call. */
  gzip(): Uint8Array<ArrayBuffer>;
}

function asset(name: string, ext: string, body: string, type: string): Asset {
  let gzipped: Uint8Array<ArrayBuffer> | undefined;
  const gzip = () => (gzipped ??= new Uint8Array(process.getBuiltinModule("node:zlib").gzipSync(new TextEncoder().encode(body))));
  return { path: `/_ui/${name}.${hash(body)}.${ext}`, body, type, gzip };
}

export const ASSETS = {
  css: asset("app", "css", css, "text/css; charset=utf-8"),
  js: asset("app", "js", script, "text/javascript; charset=utf-8"),
  icon: asset("icon", "svg", favicon, "image/svg+xml"),
};

const byPath = new Map(Object.values(ASSETS).map((a) => [a.path, a]));

export function serveAsset(path: string, request: Request): Response | undefined {
  const a = byPath.get(path);
  if (!a) return undefined;
  const gzip = /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");
  return new Response(gzip ? a.gzip() : a.body, {
    headers: { "content-type": a.type, "cache-control": "public, max-age=31536000, immutable", vary: "Accept-Encoding", ...(gzip ? { "content-encoding": "gzip" } : {}) },
  });
}
