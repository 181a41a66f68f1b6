// What every role that talks to the Kubernetes API shares: where the API is, which namespaces to watch.
import type { FlagSpec } from "../cli/flags.ts";
import { runtime } from "../runtime/index.ts";
import { KubeClient } from "../store/kube/client.ts";
import { resolveConnection } from "../store/kube/config.ts";
import { KubeStore } from "../store/kube/store.ts";
import { parseWatchNamespaces } from "../store/multi-namespace-cache.ts";
import type { StoreLogger } from "../store/types.ts";
import pkg from "../../package.json" with { type: "json" };

export const KUBE_FLAGS: FlagSpec[] = [
  { name: "kubeconfig", env: "KUBECONFIG", description: "kubeconfig to reach the Kubernetes API (default: in-cluster, then ~/.kube/config)" },
  { name: "watch-namespace", env: "WATCH_NAMESPACE", description: "Namespace(s) to watch, comma-separated (default: all)" },
];

/** `opendepot/<version> (<role>)`: what the API server's audit log and `managedFields` callers see. */
export const userAgentOf = (role: string) => `opendepot/${pkg.version} (${role}; ${runtime.name} ${runtime.version})`;

export function kubeFromFlags(flags: Record<string, string | undefined>, options: { role: string; log?: StoreLogger }) {
  const connection = resolveConnection(flags.kubeconfig);
  const client = new KubeClient(connection, { userAgent: userAgentOf(options.role), log: options.log });
  // Writes that name no field manager (there should be none) still say which role made them.
  const store = new KubeStore(client, { fieldManager: `opendepot-${options.role}` });
  return { connection, client, store, namespaces: parseWatchNamespaces(flags["watch-namespace"]) };
}

/** Run until SIGTERM/SIGINT, then `stop` once and exit 0. */
export function onShutdown(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void stop(signal).finally(() => process.exit(0));
  };
  process.on("SIGTERM", () => handler("SIGTERM"));
  process.on("SIGINT", () => handler("SIGINT"));
}
