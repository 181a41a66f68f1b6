// A real valkey-server on a free loopback port (installed by .ci/install/valkey.sh), no persistence. It can be
// killed and started again on the same port, which is how the outage tests cut the registry off from it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { captureTail, freePort, stopProcess, waitUntil } from "./net.ts";

export interface ValkeyPeer {
  port: number;
  url: string;
  /** The PEM of the self-signed certificate (TLS peers only). */
  ca?: string;
  /** Run valkey-cli against this instance and return its output (trimmed). */
  cli(...args: string[]): Promise<string>;
  /** SIGKILL the server (an abrupt outage). */
  kill(): Promise<void>;
  /** Start it again on the same port (empty unless started with `persist`). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface ValkeyPeerOptions {
  password?: string;
  /** Keep data across kill/restart (append-only file, fsync always). */
  persist?: boolean;
  /** Serve TLS only, with a self-signed certificate for 127.0.0.1 (its PEM is `ca`). */
  tls?: boolean;
}

export async function startValkey(options: ValkeyPeerOptions = {}): Promise<ValkeyPeer> {
  const server = Bun.which("valkey-server");
  const cliBin = Bun.which("valkey-cli");
  if (!server || !cliBin) throw new Error("valkey-server is not installed: run .ci/install/valkey.sh");
  const port = await freePort();
  const dataDir = options.persist ? await mkdtemp(join(tmpdir(), "opendepot-valkey-")) : undefined;
  const persistence = dataDir ? ["--appendonly", "yes", "--appendfsync", "always", "--dir", dataDir] : ["--appendonly", "no"];
  let tlsArgs: string[] = [];
  let cliTls: string[] = [];
  let ca: string | undefined;
  if (options.tls) {
    const dir = await mkdtemp(join(tmpdir(), "opendepot-valkey-tls-"));
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    const gen = Bun.spawn(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdout: "ignore", stderr: "pipe" });
    if ((await gen.exited) !== 0) throw new Error(`openssl failed: ${await new Response(gen.stderr).text()}`);
    ca = await Bun.file(cert).text();
    tlsArgs = ["--port", "0", "--tls-port", String(port), "--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", cert, "--tls-auth-clients", "no"];
    cliTls = ["--tls", "--cacert", cert];
  }
  let proc: Subprocess | undefined;
  const auth = options.password ? ["--requirepass", options.password] : [];
  const cli = async (...args: string[]) => {
    const p = Bun.spawn([cliBin, "-h", "127.0.0.1", "-p", String(port), ...cliTls, ...(options.password ? ["--no-auth-warning", "-a", options.password] : []), ...args], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(p.stdout).text();
    await p.exited;
    return out.trim();
  };
  const start = async () => {
    const child = Bun.spawn([server, ...(options.tls ? tlsArgs : ["--port", String(port)]), "--bind", "127.0.0.1", "--save", "", ...persistence, ...auth], { stdout: "pipe", stderr: "pipe" });
    proc = child;
    const out = captureTail(child.stdout);
    await waitUntil("valkey-server", async () => (await cli("PING")) === "PONG", 15_000, () => (child.exitCode !== null ? out() : undefined));
  };
  await start();
  return {
    port,
    url: `${options.tls ? "rediss" : "redis"}://127.0.0.1:${port}`,
    ca,
    cli,
    async kill() {
      proc?.kill("SIGKILL");
      await proc?.exited;
    },
    restart: start,
    async stop() {
      await stopProcess(proc);
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
