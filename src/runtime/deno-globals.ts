// The few `Deno.*` APIs the Deno implementation uses, typed here instead of through Deno's own lib: this file is
// also type-checked by tsc under Bun (where no `Deno` global exists), and `deno check` checks it against the real
// global (a structural subset, so both agree). Reached through `globalThis` so that loading it never fails on Bun.

export interface DenoServeInfo {
  remoteAddr: { transport: string; hostname?: string; port?: number };
  /** Settles once the response has been sent (or the client went away). */
  completed: Promise<void>;
}

export interface DenoHttpServer {
  readonly addr: { hostname: string; port: number };
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}

export interface DenoServeOptions {
  hostname: string;
  port: number;
  cert?: string;
  key?: string;
  onListen?: (addr: { hostname: string; port: number }) => void;
  onError?: (error: unknown) => Response | Promise<Response>;
  handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>;
}

export interface DenoChildStatus {
  success: boolean;
  code: number;
  signal: string | null;
}

export interface DenoChild {
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly status: Promise<DenoChildStatus>;
  kill(signal?: string): void;
}

export interface DenoCommandOptions {
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
  clearEnv?: boolean;
  stdin: "null";
  stdout: "piped";
  stderr: "piped";
}

export interface DenoApi {
  readonly version: { deno: string };
  serve(options: DenoServeOptions): DenoHttpServer;
  Command: new (command: string, options: DenoCommandOptions) => { spawn(): DenoChild };
}

export function deno(): DenoApi {
  const api = (globalThis as unknown as { Deno?: DenoApi }).Deno;
  if (!api) throw new Error("src/runtime/deno.ts runs only on Deno");
  return api;
}
