// What every role that talks to the Kubernetes API shares: where the API is, which namespaces to watch.
import type { FlagSpec } from "../cli/flags.ts";
import { KubeClient } from "../store/kube/client.ts";
import { resolveConnection } from "../store/kube/config.ts";
import { KubeStore } from "../store/kube/store.ts";
import { parseWatchNamespaces } from "../store/multi-namespace-cache.ts";

export const KUBE_FLAGS: FlagSpec[] = [
  { name: "kubeconfig", env: "KUBECONFIG", description: "kubeconfig to reach the Kubernetes API (default: in-cluster, then ~/.kube/config)" },
  { name: "watch-namespace", env: "WATCH_NAMESPACE", description: "Namespace(s) to watch, comma-separated (default: all)" },
];

export function kubeFromFlags(flags: Record<string, string | undefined>) {
  const connection = resolveConnection(flags.kubeconfig);
  const client = new KubeClient(connection);
  return { connection, client, store: new KubeStore(client), namespaces: parseWatchNamespaces(flags["watch-namespace"]) };
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
