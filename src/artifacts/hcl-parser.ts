// HCL native syntax → JSON through HashiCorp's own parser (hcl-worker.ts), off the event loop. One worker per
// process, started on first use and stopped when idle, so a registry that never extracts docs never pays for the
// ~10 MB Go heap. Every call is time-limited: a parse that does not answer in time ends the worker (the next call
// starts a new one), because a synchronous WebAssembly call cannot be interrupted any other way.
import type { HclWorkerRequest, HclWorkerResponse } from "./hcl-worker.ts";

/** The file is not valid HCL: `message` is the parser's diagnostic (`file:line,col-line,col: summary; detail`). */
export class HclSyntaxError extends Error {
  override readonly name = "HclSyntaxError";
}

/** The parser itself failed (did not start, crashed, or timed out); not a verdict on the file. */
export class HclParserError extends Error {
  override readonly name = "HclParserError";
}

export interface HclParser {
  /** The JSON form of a `.tf` file, as HCL's JSON conversion writes it (blocks as arrays, expressions as `${...}`). */
  parse(filename: string, text: string): Promise<unknown>;
}

export interface WorkerHclParserOptions {
  /** Per-call limit, from when the call is queued to the worker (default 60 s): a guard against a hung parser, not a budget. */
  timeoutMs?: number;
  /** Stop the worker after this long without calls (default 30 s). */
  idleMs?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class WorkerHclParser implements HclParser {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private idleTimer?: ReturnType<typeof setTimeout>;
  /** Per-call limit; adjustable for tests. */
  timeoutMs: number;
  private readonly idleMs: number;

  constructor(options: WorkerHclParserOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.idleMs = options.idleMs ?? 30_000;
  }

  parse(filename: string, text: string): Promise<unknown> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    clearTimeout(this.idleTimer);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HclParserError(`the HCL parser did not answer within ${this.timeoutMs} ms (${filename})`));
        this.fail(new HclParserError(`the HCL parser was restarted: ${filename} did not finish in time`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, filename, text } satisfies HclWorkerRequest);
    });
  }

  /** Ends the worker now; pending calls fail. */
  close(): void {
    this.fail(new HclParserError("the HCL parser was closed"));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    // A module worker: Deno runs no other kind (Bun runs both).
    const worker = new Worker(workerSpecifier(), { type: "module" });
    // An idle parser never keeps the process alive (Bun; Deno's workers have no unref, the idle timer ends them).
    (worker as { unref?: () => void }).unref?.();
    worker.onmessage = (event: MessageEvent<HclWorkerResponse>) => this.answer(event.data);
    worker.onerror = (event) => this.fail(new HclParserError(`the HCL parser failed: ${event.message}`));
    this.worker = worker;
    return worker;
  }

  private answer(message: HclWorkerResponse): void {
    if ("fatal" in message) return this.fail(new HclParserError(message.fatal));
    const call = this.pending.get(message.id);
    if (!call) return;
    this.pending.delete(message.id);
    clearTimeout(call.timer);
    if ("broken" in message) {
      // The Go program was interrupted mid-call; a fresh worker serves the next call.
      call.reject(new HclParserError(`the HCL parser failed on this file: ${message.broken}`));
      return this.fail(new HclParserError("the HCL parser was restarted after a failure on another file"));
    }
    if (message.ok) {
      try {
        call.resolve(JSON.parse(message.json));
      } catch (e) {
        call.reject(new HclParserError(`the HCL parser returned unreadable JSON: ${(e as Error).message}`));
      }
    } else call.reject(new HclSyntaxError(cleanDiagnostic((message as { message: string }).message)));
    if (this.pending.size === 0) {
      this.idleTimer = setTimeout(() => this.stopWorker(), this.idleMs);
      this.idleTimer.unref?.();
    }
  }

  private fail(error: Error): void {
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(error);
    }
    this.pending.clear();
    this.stopWorker();
  }

  private stopWorker(): void {
    clearTimeout(this.idleTimer);
    this.worker?.terminate();
    this.worker = undefined;
  }
}

/**
 * From source, the worker sits beside this file. In a `bun build --compile` binary every module's import.meta.url
 * is the binary itself (`file:///$bunfs/root/opendepot`) and entrypoints are stored by their path relative to the
 * bundle root, which is `src/` for `bun build --compile src/main.ts src/artifacts/hcl-worker.ts` (Containerfile).
 */
function workerSpecifier(): string {
  if (import.meta.url.includes("/$bunfs/")) return new URL("./artifacts/hcl-worker.ts", import.meta.url).href;
  return new URL("./hcl-worker.ts", import.meta.url).href;
}

/** `parse config: [f.tf:2,10-3,1: Invalid expression; ...]` → `f.tf:2,10-3,1: Invalid expression; ...`. */
function cleanDiagnostic(raw: string): string {
  const m = /^parse config: \[([\s\S]*)\]$/.exec(raw.trim());
  return (m ? m[1]! : raw).trim();
}

let shared: WorkerHclParser | undefined;

/** The process-wide parser. */
export function sharedHclParser(): WorkerHclParser {
  shared ??= new WorkerHclParser();
  return shared;
}
