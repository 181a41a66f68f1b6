// Kubernetes object metadata and the constants of the opendepot.defdev.io API group.
import { Type, type Static } from "@sinclair/typebox";

export const GROUP = "opendepot.defdev.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export const FINALIZER = "opendepot.defdev.io/finalizer";
export const GITHUB_APP_SECRET = "opendepot-github-application-secret";

export const LABELS = {
  module: "opendepot.defdev.io/module",
  namespace: "opendepot.defdev.io/namespace",
  provider: "opendepot.defdev.io/provider",
  providerOS: "opendepot.defdev.io/provider-os",
  providerArch: "opendepot.defdev.io/provider-arch",
  version: "opendepot.defdev.io/version",
  public: "opendepot.defdev.io/public",
  /** On Modules and Providers a Depot manages (instead of an ownerReference, so deleting the Depot keeps them). */
  depot: "opendepot.defdev.io/depot",
} as const;

/**
 * Legacy (before spec.depotVersions): the versions a Depot had added to spec.versions. A Depot that finds it moves
 * those versions to spec.depotVersions in one write and removes the annotation.
 */
export const DEPOT_VERSIONS_ANNOTATION = "opendepot.defdev.io/depot-versions";

/** Annotation recording which manifest file an object was applied from (standalone manifests directory). */
export const APPLIED_FROM_ANNOTATION = "opendepot.defdev.io/applied-from";

export const OwnerReference = Type.Object({
  apiVersion: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  uid: Type.String(),
  controller: Type.Optional(Type.Boolean()),
  blockOwnerDeletion: Type.Optional(Type.Boolean()),
});
export type OwnerReference = Static<typeof OwnerReference>;

/** The subset of ObjectMeta we read and write. Unknown metadata fields are kept by the store, not validated. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  [extra: string]: unknown;
}

/** metav1.Condition. */
export const Condition = Type.Object({
  type: Type.String({ maxLength: 316, description: "Condition type: Ready or Synced." }),
  status: Type.Union([Type.Literal("True"), Type.Literal("False"), Type.Literal("Unknown")], { description: "True, False or Unknown." }),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0, description: "The metadata.generation the condition was set for." })),
  lastTransitionTime: Type.String({ format: "date-time", description: "When the status last changed." }),
  reason: Type.String({ maxLength: 1024, description: "Machine-readable reason in CamelCase." }),
  message: Type.String({ maxLength: 32768, description: "Human-readable details." }),
}, { description: "A Kubernetes status condition (metav1.Condition)." });
export type Condition = Static<typeof Condition>;

/** Any object the store holds: typed kinds and the core kinds alike. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}
