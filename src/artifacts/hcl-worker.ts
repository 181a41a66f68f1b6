// Worker side of the HCL parser: HashiCorp's HCL parser (Go, compiled to WebAssembly, shipped in @cdktf/hcl2json)
// run here so that a slow parse never blocks the controller's event loop, and so that a parse that hangs or
// crashes the Go runtime can be ended by terminating the worker.
//
// We load the package's wasm ourselves instead of through its bridge.js: the bridge hands the Go program the real
// `fs` module (we give it the runtime's stub, which refuses every file operation), waits forever when the wasm
// fails to load, and finds the wasm next to its own file, which a `bun build --compile` binary does not have. The
// runtime adapter knows where the wasm is (Bun: a `with { type: "file" }` import, embedded in a compiled binary).
import { gunzipSync } from "node:zlib";
import { runtime } from "../runtime/index.ts";
import "@cdktf/hcl2json/wasm/wasm_exec.js";

declare const self: Worker;

export type HclWorkerRequest = { id: number; filename: string; text: string };
export type HclWorkerResponse =
  | { id: number; ok: true; json: string }
  | { id: number; ok: false; message: string }
  /** The call threw inside the Go program (e.g. the wasm stack overflowed on deep nesting): its state is not to be trusted. */
  | { id: number; ok: false; broken: string }
  | { id: 0; ok: false; fatal: string };

type GoCallback = (err: string | null, result?: string) => void;
type GoExports = { parse?: (filename: string, text: string, cb: GoCallback) => void };
type GoRuntime = { importObject: Record<string, Record<string, unknown>>; run(instance: WebAssembly.Instance): Promise<void>; exited: boolean };

const exportsRoot: GoExports = {};

// What the Go runtime prints (its stub fs sends stdout/stderr to console.log) is kept for the error message
// instead of landing in the process's JSON log stream.
let goOutput = "";
const goFs = (globalThis as unknown as { fs: { writeSync(fd: number, buf: Uint8Array): number } }).fs;
goFs.writeSync = (_fd, buf) => {
  goOutput = (goOutput + new TextDecoder().decode(buf)).slice(-4096);
  return buf.length;
};
const lastGoLine = () => goOutput.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";

async function start(): Promise<void> {
  const Go = (globalThis as unknown as { Go: new () => GoRuntime }).Go;
  const go = new Go();
  const wasm = gunzipSync(await runtime.readBytes(runtime.files.hclWasmGz));
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject as never);
  // The Go side registers its functions on this global (its name is fixed in the package's Go code).
  (globalThis as Record<string, unknown>).__parse_terraform_config_wasm__ = exportsRoot;
  void go.run(instance).then(() => post({ id: 0, ok: false, fatal: `the HCL parser's Go runtime exited${lastGoLine() ? `: ${lastGoLine()}` : ""}` }));
  if (typeof exportsRoot.parse !== "function") throw new Error("the HCL parser did not register its parse function");
}

function post(message: HclWorkerResponse): void {
  self.postMessage(message);
}

const ready = start();
ready.catch(() => {}); // reported to the caller on its first request, not as an unhandled rejection

self.onmessage = async (event: MessageEvent<HclWorkerRequest>) => {
  const { id, filename, text } = event.data;
  try {
    await ready;
  } catch (e) {
    post({ id: 0, ok: false, fatal: `the HCL parser could not start: ${(e as Error).message}` });
    return;
  }
  try {
    exportsRoot.parse!(filename, text, (err, result) => {
      if (err) post({ id, ok: false, message: String(err) });
      else post({ id, ok: true, json: result ?? "null" });
    });
  } catch (e) {
    post({ id, ok: false, broken: String((e as Error)?.message ?? e) });
  }
};
