// Helpers shared by the local peers tests start: free loopback ports, readiness polling, stopping by PID.
import { createServer, type AddressInfo } from "node:net";
import { sleep } from "../../src/kits/sleep.ts";

/** A loopback port that was free a moment ago (the kernel picks it; a tiny race with other processes remains). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `probe` until it returns true or `timeoutMs` passes; the last error is reported to explain a failure. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, isDead?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const dead = isDead?.();
    if (dead) throw new Error(`${what} exited before it was ready: ${dead}`);
    try {
      if (await probe()) return;
    } catch (e) {
      last = e;
    }
    await sleep(150);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
}

/** SIGTERM, then SIGKILL after a grace period; only the given child, never a name-based kill. */
/** What stopProcess needs of a child: Bun's Subprocess and the runtime adapter's ChildProcess both have it. */
export interface Stoppable {
  readonly exitCode: number | null;
  readonly signalCode: unknown;
  readonly exited: Promise<number>;
  kill(signal?: "SIGTERM" | "SIGKILL"): void;
}

export async function stopProcess(proc: Stoppable | undefined, graceMs = 3000): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const exited = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!exited) {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

/** Keeps the tail of a child's output so a failed start can say why. */
export function captureTail(stream: ReadableStream<Uint8Array> | undefined, limit = 8192): () => string {
  let tail = "";
  if (stream) {
    (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        tail = (tail + decoder.decode(chunk, { stream: true })).slice(-limit);
      }
    })().catch(() => {});
  }
  return () => tail;
}
