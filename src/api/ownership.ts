// Who owns which part of a Module or Provider (see docs/ownership.md). Ownership is by field, not by managedFields,
// so that every writer (the manifests directory, kubectl apply in its client-side and server-side forms, the Depot,
// the controllers) can obey it without knowing the others' field-manager names:
//
// - spec.versions        the person: manifests and kubectl. No controller ever writes it.
// - spec.depotVersions   the Depot named by label opendepot.defdev.io/depot. Nobody else writes it.
// - the Module/Provider controller serves the union; a Version goes only when no owner lists it any more (or the
//   owner's own versionHistoryLimit trims it), and the deletion is logged with the owner that dropped it.
import { DEPOT_VERSIONS_ANNOTATION, LABELS } from "./meta.ts";

/** The owner name of spec.versions in logs and in the wanted-by annotation. */
export const DECLARED_OWNER = "spec.versions";
export const depotOwner = (depot: string) => `depot/${depot}`;
/** The owner named when versionHistoryLimit trims a version. */
export const HISTORY_LIMIT_OWNER = "versionHistoryLimit";

/** On a Version: the owners (comma-separated) that list it, kept up to date by its Module/Provider controller. */
export const WANTED_BY_ANNOTATION = "opendepot.defdev.io/wanted-by";
/** On a Version about to be deleted by its controller: which owner's change asked for the deletion. */
export const DELETION_REQUESTED_BY_ANNOTATION = "opendepot.defdev.io/deletion-requested-by";
/** On an object applied from a manifests directory: the directory (absolute path), so that only it prunes it. */
export const APPLIED_FROM_DIRECTORY_ANNOTATION = "opendepot.defdev.io/applied-from-directory";

/**
 * What controllers write into objects that a person also declares. Appliers that replace what they declare (the
 * manifests directory) keep these from the stored object unless the applied configuration names them itself.
 */
export const CONTROLLER_OWNED = {
  spec: ["depotVersions"] as readonly string[],
  labels: [LABELS.depot] as readonly string[],
  annotations: [DEPOT_VERSIONS_ANNOTATION] as readonly string[],
};
