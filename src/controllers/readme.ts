// The module README, kept in a ConfigMap `<version>-readme` owned by the Version, for the Registry Explorer. The
// layout (v0.9's base64 data key README.md, or gzip for large READMEs) lives in api/readme-configmap.ts with its
// reader; the name and labels follow the Kubernetes limits via api/naming.ts.
import { ConfigMap, type VersionObject } from "../api/kinds.ts";
import { LABELS, type KubeObject } from "../api/meta.ts";
import { derivedName, ownerMarks, ownerNameFrom } from "../api/naming.ts";
import { README_GZIP_KEY, README_KEY, README_TRUNCATED_ANNOTATION, readmeConfigMapContent } from "../api/readme-configmap.ts";
import type { ModuleReadme } from "../artifacts/repackage.ts";
import { isAlreadyExists } from "../store/errors.ts";
import { deepEqual } from "../store/patch.ts";
import type { ResourceStore } from "../store/types.ts";
import { ownerReference } from "./children.ts";

export { README_KEY, readmeFromConfigMap } from "../api/readme-configmap.ts";

/** The name of the README ConfigMap of Version `versionName` (`<version>-readme`, cut with a hash past 253). */
export const readmeConfigMapName = (versionName: string) => derivedName(versionName, "readme");

export async function saveReadme(store: ResourceStore, v: VersionObject, readme: ModuleReadme): Promise<{ name: string; key: string }> {
  const name = readmeConfigMapName(v.metadata.name);
  const ns = v.metadata.namespace ?? "default";
  const content = readmeConfigMapContent(readme.content);
  const marks = ownerMarks({
    [LABELS.module]: ownerNameFrom(v.metadata, LABELS.module) ?? v.spec.moduleConfigRef?.name ?? "",
    [LABELS.namespace]: ns,
    [LABELS.version]: v.metadata.name,
  });
  const annotations: Record<string, string> = { ...marks.annotations, ...(content.truncatedFromBytes ? { [README_TRUNCATED_ANNOTATION]: String(content.truncatedFromBytes) } : {}) };
  const key = content.data ? README_KEY : README_GZIP_KEY;
  const existing = await store.get<KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> }>(ConfigMap, ns, name);
  if (!existing) {
    try {
      await store.create({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, namespace: ns, labels: marks.labels, ...(Object.keys(annotations).length ? { annotations } : {}), ownerReferences: [ownerReference(v)] },
        ...(content.data ? { data: content.data } : {}),
        ...(content.binaryData ? { binaryData: content.binaryData } : {}),
      });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  } else if (!deepEqual(existing.data ?? {}, content.data ?? {}) || !deepEqual(existing.binaryData ?? {}, content.binaryData ?? {})) {
    // A merge patch (the chart grants patch, not update): null drops the other layout's map and a stale note.
    await store.patch(ConfigMap, ns, name, {
      type: "merge",
      patch: {
        data: content.data ?? null,
        binaryData: content.binaryData ?? null,
        metadata: { labels: marks.labels, annotations: { ...annotations, ...(content.truncatedFromBytes ? {} : { [README_TRUNCATED_ANNOTATION]: null }) } },
      },
    });
  }
  return { name, key };
}
