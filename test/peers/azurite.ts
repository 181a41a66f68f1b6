// Azurite (Microsoft's Azure Storage emulator, npm devDependency) on loopback for the Azure Blob tests. It checks
// SharedKey and SAS signatures like the real service. Blob service only, data in a temp dir removed at stop.
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime, type ChildProcess } from "../../src/runtime/index.ts";
import { captureTail, freePort, stopProcess, waitUntil } from "./net.ts";

export interface AzuritePeer {
  /** Account URL (path-style): http://127.0.0.1:PORT/devstoreaccount1 */
  accountUrl: string;
  accountName: string;
  /** The well-known emulator key (public, documented by Microsoft; not a secret). */
  accountKey: string;
  stop(): Promise<void>;
}

export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const MAIN = join(import.meta.dirname, "..", "..", "node_modules", "azurite", "dist", "src", "blob", "main.js");

export interface AzuriteOptions {
  /** Serve HTTPS with this PEM certificate and key, and accept Entra (OAuth) bearer tokens ("--oauth basic"). */
  oauthTls?: { cert: string; key: string };
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuritePeer> {
  if (!existsSync(MAIN)) throw new Error(`azurite is not installed (${MAIN}): run bun install (devDependency) / .ci/install/azurite.sh`);
  // Azurite is a Node program; Node is on the machine image (and installed by .ci/install/azurite.sh otherwise).
  const node = runtime.which("node");
  if (!node) throw new Error("node not found: azurite needs Node.js (.ci/install/azurite.sh installs it)");
  const dir = await mkdtemp(join(tmpdir(), "opendepot-azurite-"));
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const stop = async () => {
    await stopProcess(proc);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const tls: string[] = [];
    if (options.oauthTls) {
      await writeFile(join(dir, "cert.pem"), options.oauthTls.cert);
      await writeFile(join(dir, "key.pem"), options.oauthTls.key);
      tls.push("--cert", join(dir, "cert.pem"), "--key", join(dir, "key.pem"), "--oauth", "basic");
    }
    const child = runtime.spawn([node, MAIN, "--blobHost", "127.0.0.1", "--blobPort", String(port), "--location", dir, "--disableTelemetry", "--silent", ...tls]);
    proc = child;
    const out = captureTail(child.stdout);
    const err = captureTail(child.stderr);
    const accountUrl = `${options.oauthTls ? "https" : "http"}://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
    await waitUntil(
      "azurite",
      async () => {
        // Any HTTP answer (an unauthenticated request gets 403) means the server is listening.
        const res = await runtime.fetch(`${accountUrl}?comp=list`, { signal: AbortSignal.timeout(2000), ...(options.oauthTls ? { tls: { ca: options.oauthTls.cert } } : {}) });
        await res.arrayBuffer();
        return res.status > 0;
      },
      30_000,
      () => (child.exitCode !== null ? `exit ${child.exitCode}: ${out()} ${err()}` : undefined),
    );
    return { accountUrl, accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
