// A free TCP port on loopback: bind port 0, read it, release it.
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** Poll until fn() resolves truthy or the timeout passes. */
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, what = "condition", pollMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    await Bun.sleep(pollMs);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ""}`);
}

/** A Response whose JSON body tests may read without narrowing `unknown` at every step. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonResponse = Omit<Response, "json"> & { json(): Promise<any> };

/** Send a request line exactly as given (no URL normalisation, unlike fetch) and return the status code. */
export async function rawRequest(port: number, method: string, path: string): Promise<number> {
  const { promise, resolve, reject } = Promise.withResolvers<number>();
  let buf = "";
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(s, chunk) {
        buf += new TextDecoder().decode(chunk);
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
        if (m) {
          resolve(Number(m[1]));
          s.end();
        }
      },
      close() {
        reject(new Error(`connection closed before a status line: ${JSON.stringify(buf.slice(0, 100))}`));
      },
      error(_s, e) {
        reject(e);
      },
    },
  });
  socket.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  return promise;
}

/** Thrown by waitForChild when the child exited before it became ready. */
export class ChildExitedError extends Error {}

/**
 * waitFor for a child process: fails at once (not at the timeout) when the child has already exited, since it can
 * never become ready then. The caller adds the child's stderr to the error.
 */
export async function waitForChild<T>(child: { readonly exitCode: number | null }, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string, pollMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new ChildExitedError(`the child exited with code ${child.exitCode} before ${what}`);
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    await Bun.sleep(pollMs);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ""}`);
}
