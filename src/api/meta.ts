// Kubernetes object metadata and the constants of the opendepot.defdev.io API group. No TypeBox here (the schemas
// are in meta-schemas.ts): every layer imports this file, the serving path included.
import type { Condition as ConditionSchema, OwnerReference as OwnerReferenceSchema } from "./meta-schemas.ts";

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

export type OwnerReference = OwnerReferenceSchema;

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
export type Condition = ConditionSchema;

/** Any object the store holds: typed kinds and the core kinds alike. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}
