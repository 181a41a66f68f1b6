// A module Version's documentation (artifacts/module-docs.ts), kept in ConfigMap `<version>-docs` (key docs.json)
// owned by the Version, so it goes when the Version goes. Written only when its content changes. Documentation is
// a by-product of a sync: nothing here fails the sync; problems are reported in the Version's `DocsExtracted`
// condition (files that did not parse, limits hit, a ConfigMap that could not be written).
import { ConfigMap, type VersionObject } from "../api/kinds.ts";
import { LABELS, type KubeObject } from "../api/meta.ts";
import { MODULE_DOCS_KEY, moduleDocsConfigMapName, type ModuleDocs } from "../api/module-docs.ts";
import { extractModuleDocs } from "../artifacts/module-docs.ts";
import { readArchiveModuleSources } from "../artifacts/module-docs-archive.ts";
import type { ModuleSources } from "../artifacts/module-docs-files.ts";
import type { ArtifactLocation } from "../storage/locate.ts";
import { StorageError } from "../storage/types.ts";
import type { Logger } from "../log.ts";
import { isAlreadyExists } from "../store/errors.ts";
import type { ResourceStore } from "../store/types.ts";
import { ownerReference } from "./children.ts";
import { describeError, type ConditionInput } from "./conditions.ts";

export const DOCS_CONDITION = "DocsExtracted";

export type { ModuleSources } from "../artifacts/module-docs-files.ts";

/** Extracts, stores, and says how it went as the Version's DocsExtracted condition. */
export async function documentModuleVersion(store: ResourceStore, v: VersionObject, sources: ModuleSources, log: Logger): Promise<ConditionInput> {
  // Always a valid name: cut with a hash like the README ConfigMap's when the Version name is long (api/naming.ts).
  const name = moduleDocsConfigMapName(v.metadata.name);
  let docs: ModuleDocs;
  try {
    docs = await extractModuleDocs(sources.files, {}, sources.skipped);
  } catch (e) {
    log.warn("module documentation could not be extracted", { error: e });
    return { type: DOCS_CONDITION, status: "False", reason: "ExtractionFailed", message: describeError(e) };
  }
  try {
    await saveModuleDocs(store, v, name, JSON.stringify(docs));
  } catch (e) {
    log.warn("module documentation could not be stored", { configMap: name, error: e });
    return { type: DOCS_CONDITION, status: "False", reason: "DocsNotStored", message: `ConfigMap ${name}: ${describeError(e)}` };
  }
  if (docs.errors.length) log.info("module documentation is incomplete: some files do not parse", { files: docs.errors.map((e) => e.file) });
  return docsCondition(docs, name);
}

/**
 * Documents a Version published before docs existed, once, from its stored archive (no upstream fetch). A storage
 * error leaves it undocumented for a later reconcile to retry; an unreadable archive is reported.
 */
export async function documentStoredModule(store: ResourceStore, v: VersionObject, location: ArtifactLocation, format: "zip" | "tar.gz", log: Logger, tmpDir?: string): Promise<ConditionInput | undefined> {
  let sources: ModuleSources;
  try {
    const stored = await location.storage.get(location.key);
    sources = await readArchiveModuleSources(stored.body, format, { tmpDir });
  } catch (e) {
    log.warn("stored module archive could not be read for its documentation", { error: e });
    if (e instanceof StorageError) return undefined;
    return { type: DOCS_CONDITION, status: "False", reason: "ExtractionFailed", message: `stored archive could not be read: ${describeError(e)}` };
  }
  return documentModuleVersion(store, v, sources, log);
}

export function docsCondition(docs: ModuleDocs, configMap: string): ConditionInput {
  const counts = `${docs.root.inputs.length} inputs, ${docs.root.outputs.length} outputs, ${docs.submodules.length} submodules, ${docs.examples.length} examples`;
  if (docs.errors.length) {
    const list = docs.errors.slice(0, 5).map((e) => `${e.file}: ${e.message}`).join("; ");
    const more = docs.errors.length > 5 ? `; and ${docs.errors.length - 5} more` : "";
    return { type: DOCS_CONDITION, status: "False", reason: "ParseErrors", message: `${docs.errors.length} file(s) not documented: ${list}${more} (${counts} in ConfigMap ${configMap})` };
  }
  if (docs.truncated) {
    const why = docs.skipped.length ? `${docs.skipped.length} file(s) skipped, first ${docs.skipped[0]!.file}: ${docs.skipped[0]!.message}` : "trimmed to the size limit";
    return { type: DOCS_CONDITION, status: "True", reason: "Truncated", message: `Documentation is partial: ${why} (${counts} in ConfigMap ${configMap})` };
  }
  return { type: DOCS_CONDITION, status: "True", reason: "Extracted", message: `${counts} in ConfigMap ${configMap}` };
}

async function saveModuleDocs(store: ResourceStore, v: VersionObject, name: string, json: string): Promise<void> {
  const ns = v.metadata.namespace ?? "default";
  const data = { [MODULE_DOCS_KEY]: json };
  const labels = labelsFor(v, ns);
  const existing = await store.get<KubeObject & { data?: Record<string, string> }>(ConfigMap, ns, name);
  if (!existing) {
    try {
      await store.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns, labels, ownerReferences: [ownerReference(v)] }, data });
      return;
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    const raced = await store.get<KubeObject & { data?: Record<string, string> }>(ConfigMap, ns, name);
    if (raced?.data?.[MODULE_DOCS_KEY] === json) return;
  } else if (existing.data?.[MODULE_DOCS_KEY] === json) return;
  await store.patch(ConfigMap, ns, name, { type: "merge", patch: { data } });
}

/** The README ConfigMap's labels, each kept only if it is a valid label value (names can be longer than 63). */
function labelsFor(v: VersionObject, ns: string): Record<string, string> {
  const candidates = {
    [LABELS.module]: v.metadata.labels?.[LABELS.module] ?? v.spec.moduleConfigRef?.name ?? "",
    [LABELS.namespace]: ns,
    [LABELS.version]: v.metadata.name,
  };
  return Object.fromEntries(Object.entries(candidates).filter(([, value]) => /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/.test(value) && value !== ""));
}
