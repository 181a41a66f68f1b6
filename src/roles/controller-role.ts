// `opendepot controller`: the controllers against the Kubernetes API. Each controller group holds its own Lease
// (opendepot-<group>), so replicas can split the work, and only the lease holder of a group reconciles it. Losing
// a lease exits the process (as client-go does): a restarted pod rejoins cleanly instead of half-running.
import { hostname } from "node:os";
import { uuidv7 } from "../api/uuid.ts";
import { parseDuration } from "../kits/duration.ts";
import { checks, type FlagSpec, parseListen, UsageError } from "../cli/flags.ts";
import { LeaderElector } from "../controllers/leader-election.ts";
import type { ControllerManager } from "../controllers/manager.ts";
import { CacheSet } from "../store/cache-set.ts";
import { createLogger, type Level } from "../log.ts";
import { runtime } from "../runtime/index.ts";
import { storageFactory } from "../storage/factory.ts";
import { buildManager, CONTROLLER_FLAGS, CONTROLLER_NAMES, parseControllerList, type ControllerName } from "./controller-manager.ts";
import { KUBE_FLAGS, kubeFromFlags, onShutdown } from "./kube-flags.ts";
import { asFieldManager, FIELD_MANAGERS } from "../store/field-manager.ts";
import { STORAGE_POLICY_FLAGS, storagePolicyFromFlags } from "./storage-policy.ts";
import { startTempSweeper } from "./temp-sweeper.ts";
import { ensureKeysSecret } from "./keys-bootstrap.ts";
import { setLeader } from "../metrics/controllers.ts";
import { listenMetrics, metricsHandler, metricsListenFlag, metricsPlacement } from "./metrics-listener.ts";

export const CONTROLLER_ROLE_FLAGS: FlagSpec[] = [
  ...KUBE_FLAGS,
  { name: "only", env: "OPENDEPOT_ONLY", description: "Deprecated alias of --controllers (give one of the two)", check: checks.listOf(CONTROLLER_NAMES) },
  ...CONTROLLER_FLAGS,
  { name: "leader-elect", env: "OPENDEPOT_LEADER_ELECT", boolean: true, default: "true", description: "Elect one active replica per controller group with Leases" },
  { name: "leader-election-namespace", env: "POD_NAMESPACE", default: "opendepot-system", description: "Namespace of the Leases" },
  { name: "lease-duration", env: "OPENDEPOT_LEASE_DURATION", default: "15s", description: "How long a lease is valid without renewal", check: checks.duration },
  { name: "renew-deadline", env: "OPENDEPOT_RENEW_DEADLINE", default: "10s", description: "How long the leader keeps trying to renew before giving up", check: checks.duration },
  { name: "retry-period", env: "OPENDEPOT_RETRY_PERIOD", default: "2s", description: "Interval between acquire/renew attempts", check: checks.duration },
  { name: "health-listen", env: "OPENDEPOT_HEALTH_LISTEN", default: "0.0.0.0:8082", description: "Address of /healthz and /readyz (empty disables)", check: checks.listen(true) },
  metricsListenFlag("health", "health", "on --health-listen"),
  { name: "default-storage-dir", env: "OPENDEPOT_DEFAULT_STORAGE_DIR", description: "Filesystem storage for resources without a storageConfig" },
  ...STORAGE_POLICY_FLAGS,
  { name: "bootstrap-keys-secret", env: "OPENDEPOT_BOOTSTRAP_KEYS_SECRET", description: "Create this Secret (URL-signing key + provider signing key) in the pod's namespace on start when it is absent; an existing one is never changed" },
  { name: "log-level", env: "OPENDEPOT_LOG_LEVEL", default: "info", description: "debug, info, warn or error", check: checks.oneOf(["debug", "info", "warn", "error"]) },
];

export async function runController(flags: Record<string, string | undefined>) {
  const log = createLogger({ level: flags["log-level"] as Level, fields: { role: "controller" } });
  if (flags.only !== undefined && flags.controllers !== CONTROLLER_NAMES.join(",")) throw new UsageError("give one of --controllers and --only (a deprecated alias), not both");
  const names = parseControllerList(flags.only ?? flags.controllers);
  if (!names.length) throw new Error("no controllers selected");
  const kube = kubeFromFlags(flags, { role: "controller", log });
  log.info("connecting to Kubernetes", { source: kube.connection.source, server: kube.connection.server, namespaces: kube.namespaces ?? "all" });
  if (flags["bootstrap-keys-secret"]) await ensureKeysSecret(kube.store, flags["leader-election-namespace"]!, flags["bootstrap-keys-secret"], log);
  const defaultRoot = flags["default-storage-dir"];
  const policy = await storagePolicyFromFlags(flags, { kind: "kubernetes", ownNamespace: flags["leader-election-namespace"]! }, log, defaultRoot);
  // One set of caches for every controller group of this process: a kind two groups read is listed and held once.
  const caches = new CacheSet(kube.store, { log });
  const deps = { store: kube.store, storageFor: storageFactory({ defaultRoot, policy: policy.current }), storagePolicy: policy.current, log, flags, namespaces: kube.namespaces, caches };
  if (names.includes("version")) startTempSweeper({ workDir: flags["work-dir"], storageRoots: [defaultRoot], log });
  const identity = `${hostname()}_${uuidv7()}`;
  const groups: { name: ControllerName; manager: ControllerManager; elector?: LeaderElector; running: boolean }[] = [];

  if (flags["leader-elect"] === "true") {
    for (const name of names) {
      const group = { name, manager: buildManager([name], deps), running: false } as (typeof groups)[number];
      group.elector = new LeaderElector({
        store: asFieldManager(kube.store, FIELD_MANAGERS.leaderElection),
        namespace: flags["leader-election-namespace"]!,
        name: `opendepot-${name}`,
        identity,
        leaseDurationMs: parseDuration(flags["lease-duration"]!),
        renewDeadlineMs: parseDuration(flags["renew-deadline"]!),
        retryPeriodMs: parseDuration(flags["retry-period"]!),
        log,
        onStartedLeading: async () => {
          await group.manager.start();
          group.running = true;
          setLeader(name, true);
        },
        onStoppedLeading: () => {
          setLeader(name, false);
          log.error("exiting after losing leadership", { controller: name });
          process.exit(1);
        },
      });
      setLeader(name, false);
      group.elector.start();
      groups.push(group);
    }
  } else {
    const manager = buildManager(names, deps);
    await manager.start();
    groups.push({ name: names[0]!, manager, running: true });
  }

  const metrics = metricsPlacement(flags["metrics-listen"], "health");
  const metricsOnHealth = metrics.kind === "shared" && flags["health-listen"] ? await metricsHandler() : undefined;
  const metricsServer = metrics.kind === "own" ? await listenMetrics(metrics, log) : undefined;

  const health = flags["health-listen"]
    ? runtime.serve({
        ...parseListen(flags["health-listen"]),
        fetch: (req) => {
          const path = new URL(req.url).pathname;
          if (path === "/healthz") return Response.json({ status: "ok" });
          if (path === "/metrics" && metricsOnHealth) return metricsOnHealth();
          if (path === "/readyz") {
            const readiness = controllerReadiness(groups);
            return Response.json(readiness.body, { status: readiness.ready ? 200 : 503 });
          }
          return new Response("not found", { status: 404 });
        },
      })
    : undefined;
  log.info("controller role started", { controllers: names, leaderElection: flags["leader-elect"] === "true", identity });

  onShutdown(async (signal) => {
    log.info("shutting down", { signal });
    await health?.stop();
    await metricsServer?.stop();
    // Finish in-flight work first, then hand the leases over so a standby starts at once.
    await Promise.all(groups.map((g) => (g.running ? g.manager.stop() : undefined)));
    await Promise.all(groups.map((g) => g.elector?.stop()));
    caches.stop();
  });
  return { groups };
}

interface GroupState {
  name: string;
  manager: Pick<ControllerManager, "unsynced">;
  elector?: { lastError?: string };
  running: boolean;
}

/**
 * /readyz of the controller role. A standby is ready; a replica that cannot even reach its Lease (missing
 * namespace, RBAC) is not, nor is a leading group whose caches do not reflect the store yet (first list not done,
 * or relisting after a lost watch): its reconciles would act on a partial picture.
 */
export function controllerReadiness(groups: GroupState[]): { ready: boolean; body: Record<string, unknown> } {
  const failing = groups.filter((g) => g.elector?.lastError).map((g) => ({ controller: g.name, error: g.elector!.lastError }));
  const syncing = groups.filter((g) => g.running).flatMap((g) => g.manager.unsynced().map((kind) => ({ controller: g.name, cache: kind })));
  if (failing.length || syncing.length) return { ready: false, body: { status: "not ready", ...(failing.length ? { failing } : {}), ...(syncing.length ? { unsynced: syncing } : {}) } };
  return { ready: true, body: { status: "ok", leading: groups.filter((g) => g.running).map((g) => g.name) } };
}
