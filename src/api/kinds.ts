// Descriptors of every kind the store knows: our five CRD kinds (with schemas and printer columns) and the core
// Kubernetes kinds we use. The store, the CRD generator and the Kubernetes-compatible API all read this table.
// A descriptor names its schemas rather than holding them: the schemas (TypeBox, types.ts) are loaded only where
// objects are validated or CRDs are built (kind-schemas.ts), never by the serving path, which reads this table.
import type { TSchema } from "@sinclair/typebox";
import { API_VERSION, GROUP, VERSION, type KubeObject, type ObjectMeta } from "./meta.ts";
import type * as T from "./types.ts";

/** The name of a schema exported by types.ts (e.g. "ModuleSpec"); kind-schemas.ts resolves it. */
export type SchemaName = { [K in keyof typeof T]: (typeof T)[K] extends TSchema ? K : never }[keyof typeof T];

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "boolean" | "date" | "number";
  jsonPath: string;
  priority?: number;
}

export interface KindDescriptor {
  group: string; // "" for the core group
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Present for our own kinds: the schemas validated on write and published in the CRD, by name in types.ts. */
  spec?: SchemaName;
  status?: SchemaName;
  /** Whether `spec` is required on the object. */
  specRequired?: boolean;
  printerColumns?: PrinterColumn[];
}

export const apiVersionOf = (d: KindDescriptor) => (d.group ? `${d.group}/${d.version}` : d.version);

const ours = (kind: string, plural: string, spec: SchemaName, status: SchemaName, printerColumns: PrinterColumn[]): KindDescriptor => ({
  group: GROUP,
  version: VERSION,
  kind,
  plural,
  namespaced: true,
  spec,
  status,
  specRequired: true,
  printerColumns,
});

const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export const Depot = ours("Depot", "depots", "DepotSpec", "DepotStatus", [
  { name: "Modules", type: "string", jsonPath: ".status.modules" },
  { name: "Providers", type: "string", jsonPath: ".status.providers" },
  { name: "Interval", type: "integer", jsonPath: ".spec.pollingIntervalMinutes" },
  { name: "Ready", type: "string", jsonPath: ".status.conditions[?(@.type==\"Ready\")].status" },
  age,
]);
export const Module = ours("Module", "modules", "ModuleSpec", "ModuleStatus", [
  { name: "LatestVersion", type: "string", jsonPath: ".status.latestServedVersion" },
  { name: "Provider", type: "string", jsonPath: ".spec.moduleConfig.provider" },
  { name: "Source", type: "string", jsonPath: ".spec.moduleConfig.repoUrl" },
  { name: "Synced", type: "boolean", jsonPath: ".status.synced" },
  { name: "Ready", type: "string", jsonPath: ".status.conditions[?(@.type==\"Ready\")].status" },
  age,
]);
export const Provider = ours("Provider", "providers", "ProviderSpec", "ProviderStatus", [
  // No "Name" column: .spec.providerConfig.name is usually unset (it defaults to the resource's NAME, shown anyway).
  { name: "LatestVersion", type: "string", jsonPath: ".status.latestServedVersion" },
  { name: "Namespace", type: "string", jsonPath: ".spec.providerConfig.namespace", priority: 1 },
  { name: "Synced", type: "boolean", jsonPath: ".status.synced" },
  { name: "Ready", type: "string", jsonPath: ".status.conditions[?(@.type==\"Ready\")].status" },
  age,
]);
export const Version = ours("Version", "versions", "VersionSpec", "VersionStatus", [
  { name: "Type", type: "string", jsonPath: ".spec.type" },
  { name: "Version", type: "string", jsonPath: ".spec.version" },
  { name: "OS", type: "string", jsonPath: ".spec.operatingSystem", priority: 1 },
  { name: "Arch", type: "string", jsonPath: ".spec.architecture", priority: 1 },
  { name: "Synced", type: "boolean", jsonPath: ".status.synced" },
  { name: "Checksum", type: "string", jsonPath: ".status.checksum" },
  { name: "Status", type: "string", jsonPath: ".status.syncStatus", priority: 1 },
  age,
]);
export const GroupBinding = ours("GroupBinding", "groupbindings", "GroupBindingSpec", "GroupBindingStatus", [
  { name: "Expression", type: "string", jsonPath: ".spec.expression" },
  age,
]);

const core = (group: string, version: string, kind: string, plural: string, namespaced: boolean): KindDescriptor => ({
  group,
  version,
  kind,
  plural,
  namespaced,
});

export const Namespace = core("", "v1", "Namespace", "namespaces", false);
export const Secret = core("", "v1", "Secret", "secrets", true);
export const ConfigMap = core("", "v1", "ConfigMap", "configmaps", true);
export const Lease = core("coordination.k8s.io", "v1", "Lease", "leases", true);

export const OUR_KINDS = [Depot, Module, Provider, Version, GroupBinding] as const;
export const ALL_KINDS: readonly KindDescriptor[] = [...OUR_KINDS, Namespace, Secret, ConfigMap, Lease];

export function kindFor(apiVersion: string, kind: string): KindDescriptor | undefined {
  return ALL_KINDS.find((d) => apiVersionOf(d) === apiVersion && d.kind === kind);
}

// ---- Typed objects ----
interface Typed<K extends string, S, St> extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
  status?: St;
}
export type DepotObject = Typed<"Depot", T.DepotSpec, T.DepotStatus>;
export type ModuleObject = Typed<"Module", T.ModuleSpec, T.ModuleStatus>;
export type ProviderObject = Typed<"Provider", T.ProviderSpec, T.ProviderStatus>;
export type VersionObject = Typed<"Version", T.VersionSpec, T.VersionStatus>;
export type GroupBindingObject = Typed<"GroupBinding", T.GroupBindingSpec, T.GroupBindingStatus>;
