// The module README, kept in a ConfigMap `<version>-readme` owned by the Version (v0.9's layout: data key
// README.md holding the README base64-encoded), for the Registry Explorer.
import { ConfigMap, type VersionObject } from "../api/kinds.ts";
import { LABELS, type KubeObject } from "../api/meta.ts";
import type { ModuleReadme } from "../artifacts/repackage.ts";
import { isAlreadyExists } from "../store/errors.ts";
import type { ResourceStore } from "../store/types.ts";
import { ownerReference } from "./children.ts";

export const README_KEY = "README.md";

export async function saveReadme(store: ResourceStore, v: VersionObject, readme: ModuleReadme): Promise<{ name: string; key: string }> {
  const name = `${v.metadata.name}-readme`.slice(0, 253);
  const ns = v.metadata.namespace ?? "default";
  const data = { [README_KEY]: Buffer.from(readme.content, "utf8").toString("base64") };
  const labels = {
    [LABELS.module]: v.metadata.labels?.[LABELS.module] ?? v.spec.moduleConfigRef?.name ?? "",
    [LABELS.namespace]: ns,
    [LABELS.version]: v.metadata.name,
  };
  const existing = await store.get<KubeObject & { data?: Record<string, string> }>(ConfigMap, ns, name);
  if (!existing) {
    try {
      await store.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns, labels, ownerReferences: [ownerReference(v)] }, data });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  } else if (existing.data?.[README_KEY] !== data[README_KEY]) {
    await store.patch(ConfigMap, ns, name, { type: "merge", patch: { data, metadata: { labels } } });
  }
  return { name, key: README_KEY };
}
