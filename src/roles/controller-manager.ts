// Wiring of the controller manager from flags (which controllers, their intervals and clients); used by the
// `standalone` and `controller` roles.
import { parseDuration } from "../kits/duration.ts";
import { DepotController } from "../controllers/depot-controller.ts";
import { GroupBindingController } from "../controllers/groupbinding-controller.ts";
import { ControllerManager } from "../controllers/manager.ts";
import { ModuleController } from "../controllers/module-controller.ts";
import { ProviderController } from "../controllers/provider-controller.ts";
import { Upstreams } from "../controllers/upstreams.ts";
import { VersionController } from "../controllers/version-controller.ts";
import type { Logger } from "../log.ts";
import { Version, type VersionObject } from "../api/kinds.ts";
import { versionsBySyncState } from "../metrics/controllers.ts";
import type { ResourceStore } from "../store/types.ts";
import type { CacheSet } from "../store/cache-set.ts";
import { asFieldManager, FIELD_MANAGERS } from "../store/field-manager.ts";
import type { StorageFor } from "../storage/locate.ts";
import { VersionScanner } from "../controllers/version-scan.ts";
import { OpenTofuDocsClient } from "../sources/opentofu-docs.ts";
import { scanSettingsFromFlags } from "./scan-flags.ts";
import { parseControllerList, type ControllerName } from "./controller-flags.ts";
import type { StoragePolicy } from "../storage/policy.ts";

export { CONTROLLER_FLAGS, CONTROLLER_NAMES, parseControllerList, type ControllerName } from "./controller-flags.ts";

export interface ControllerDeps {
  store: ResourceStore;
  storageFor: StorageFor;
  /** The operator's storage policy: Modules and Providers outside it report StorageNotAllowed. */
  storagePolicy?: () => StoragePolicy;
  log: Logger;
  flags: Record<string, string | undefined>;
  namespaces?: string[];
  /** The process's caches (standalone: shared with the registry server); the manager's own when absent. */
  caches?: CacheSet;
}

/** A manager holding the named controllers (not started). */
export function buildManager(names: ControllerName[], deps: ControllerDeps): ControllerManager {
  const { flags } = deps;
  // Each writer under its own field manager, so managedFields tells the Depot's version additions from the
  // controllers' and from people's edits.
  const store = asFieldManager(deps.store, FIELD_MANAGERS.controller);
  const depotStore = asFieldManager(deps.store, FIELD_MANAGERS.depot);
  const concurrency = Number(flags["version-concurrency"]);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error("--version-concurrency must be an integer from 1 to 64");
  const manager = new ControllerManager(store, {
    log: deps.log.child({ component: "controllers" }),
    namespaces: deps.namespaces,
    caches: deps.caches,
    resyncMs: parseDuration(flags["resync-interval"]!),
  });
  const upstreams = new Upstreams(store, { githubApiUrl: flags["github-api-url"], opentofuRegistryUrl: flags["opentofu-registry-url"] });
  if (names.includes("depot")) manager.add(new DepotController(depotStore, manager, { upstreams }));
  if (names.includes("module")) manager.add(new ModuleController(store, manager, deps.storagePolicy));
  if (names.includes("provider")) manager.add(new ProviderController(store, manager, deps.storagePolicy));
  if (names.includes("groupbinding")) manager.add(new GroupBindingController(store, manager));
  if (names.includes("version")) {
    const scan = scanSettingsFromFlags(flags);
    const docs = new OpenTofuDocsClient({ baseUrl: flags["opentofu-api-url"] });
    manager.add(
      new VersionController(store, manager, {
        storageFor: deps.storageFor,
        upstreams,
        tmpDir: flags["work-dir"],
        rehashIntervalMs: parseDuration(flags["rehash-interval"]!),
        concurrency,
        // Built even when scanning is off: it then lifts verdicts reached while it was on.
        scanner: (publisher, versions) => new VersionScanner(scan, { store, upstreams, docs, versions, locate: (v, fileName) => publisher.locate(v, fileName) }),
      }),
    );
    const versions = manager.cache<VersionObject>(Version);
    manager.onStop(versionsBySyncState.add(() => countBySyncState(versions.list())));
  }
  return manager;
}

/** Versions by type and sync state, from the Synced condition (v0.9's `synced` flag when there is none yet). */
export function countBySyncState(versions: VersionObject[]): [{ type: string; state: string }, number][] {
  const counts = new Map<string, number>();
  for (const v of versions) {
    const synced = v.status?.conditions?.find((c) => c.type === "Synced")?.status;
    const state = synced === "True" || (synced === undefined && v.status?.synced === true) ? "synced" : synced === "False" ? "failed" : "pending";
    const key = `${v.spec.type}/${state}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => {
    const [type, state] = key.split("/") as [string, string];
    return [{ type, state }, n];
  });
}

/** Every enabled controller (--controllers) in one manager, not started; undefined when none is enabled. */
export function buildControllers(deps: ControllerDeps): ControllerManager | undefined {
  const enabled = parseControllerList(deps.flags.controllers);
  return enabled.length ? buildManager(enabled, deps) : undefined;
}

/** Every enabled controller in one manager, started (standalone: one process, no election needed). */
export async function startControllers(deps: ControllerDeps): Promise<ControllerManager | undefined> {
  const manager = buildControllers(deps);
  await manager?.start();
  return manager;
}
