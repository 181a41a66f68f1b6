// An in-process registry (embedded store, filesystem storage, controllers, server on a loopback port) for tests
// that need to look at and tamper with state directly. Same wiring as `opendepot standalone`.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KindDescriptor } from "../../src/api/kinds.ts";
import type { KubeObject } from "../../src/api/meta.ts";
import { SigningKey } from "../../src/artifacts/signing.ts";
import { parseFlags } from "../../src/cli/flags.ts";
import type { ControllerManager } from "../../src/controllers/manager.ts";
import { createLogger, silentLogger, type Logger } from "../../src/log.ts";
import { CONTROLLER_FLAGS, startControllers } from "../../src/roles/controllers.ts";
import { startRegistryServer } from "../../src/roles/registry-server.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import type { ResourceStore } from "../../src/store/types.ts";
import { storageFactory } from "../../src/storage/factory.ts";
import { waitFor } from "./ports.ts";

let sharedKey: Promise<SigningKey> | undefined;
const signingKey = () => (sharedKey ??= SigningKey.generate({ name: "Test Registry", email: "test@example.com", rsaBits: 2048 }));

export interface Harness {
  root: string;
  store: EmbeddedStore;
  storageFor: ReturnType<typeof storageFactory>;
  manager: ControllerManager;
  url: string;
  logs: Record<string, unknown>[];
  get<T extends KubeObject>(kind: KindDescriptor, name: string, namespace?: string): Promise<T | undefined>;
  /** Wait until the object exists and `ok(obj)` holds. */
  until<T extends KubeObject>(kind: KindDescriptor, name: string, ok: (obj: T) => boolean, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export async function startHarness(options: { env: Record<string, string>; flags?: string[]; verbose?: boolean; namespaces?: string[]; controllerStore?: (store: EmbeddedStore) => ResourceStore }): Promise<Harness> {
  const root = await mkdtemp(join(tmpdir(), "opendepot-harness-"));
  const store = EmbeddedStore.open(join(root, "store.db"), { namespaces: options.namespaces });
  const storageFor = storageFactory({ defaultRoot: join(root, "artifacts") });
  const logs: Record<string, unknown>[] = [];
  const log: Logger = options.verbose ? createLogger({ level: "debug" }) : createLogger({ level: "debug", write: (l) => logs.push(JSON.parse(l)) });
  const flags = parseFlags(CONTROLLER_FLAGS, ["--resync-interval", "1s", ...(options.flags ?? [])], options.env);
  const manager = (await startControllers({ store: options.controllerStore?.(store) ?? store, storageFor, log, flags }))!;
  const server = await startRegistryServer({ store, storageFor, signer: await signingKey(), urlKey: new Uint8Array(32).fill(9), urlTtlSeconds: 900, log: silentLogger });
  const http = server.listen("127.0.0.1", 0);
  const get = <T extends KubeObject>(kind: KindDescriptor, name: string, namespace = "default") => store.get<T>(kind, namespace, name);
  return {
    root,
    store,
    storageFor,
    manager,
    url: http.url.toString().replace(/\/$/, ""),
    logs,
    get,
    until: async <T extends KubeObject>(kind: KindDescriptor, name: string, ok: (obj: T) => boolean, timeoutMs = 30_000) => {
      try {
        return await waitFor(async () => {
          const o = await get<T>(kind, name);
          return o && ok(o) ? o : undefined;
        }, timeoutMs, `${kind.kind} ${name}`);
      } catch (e) {
        // Say what the object looked like and what the controllers complained about, not just "timed out".
        const o = await get<T>(kind, name);
        const problems = logs.filter((l) => l.level === "warn" || l.level === "error").slice(-8);
        throw new Error(`${(e as Error).message}\nlast seen: ${JSON.stringify(o ? { spec: o.spec, status: o.status } : "absent")}\nrecent problems: ${JSON.stringify(problems)}`);
      }
    },
    async stop() {
      await http.stop(true);
      server.stop();
      await manager.stop();
      await store.close();
    },
  };
}
