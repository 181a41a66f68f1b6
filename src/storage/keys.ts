// Object keys. Built only from validated resource fields, namespaced by Kubernetes namespace and kind so that two
// resources can never share a key: `[prefix/]<namespace>/<modules|providers>/<name>/<uuid7>.<ext>`.
import { isArtifactFileName, isNamespaceName, isObjectName } from "../api/naming.ts";
import { StorageError } from "./types.ts";

export type ArtifactKind = "Module" | "Provider";

export function objectKey(parts: { prefix?: string; namespace: string; kind: ArtifactKind; name: string; fileName: string }): string {
  const { namespace, kind, name, fileName } = parts;
  if (!isNamespaceName(namespace)) throw new StorageError("Invalid", `invalid namespace for object key: ${JSON.stringify(namespace)}`);
  if (!isObjectName(name)) throw new StorageError("Invalid", `invalid resource name for object key: ${JSON.stringify(name)}`);
  if (!isArtifactFileName(fileName)) throw new StorageError("Invalid", `invalid artifact file name: ${JSON.stringify(fileName)} (expected <uuid7>.zip or <uuid7>.tar.gz)`);
  const prefix = normalizePrefix(parts.prefix);
  return `${prefix}${namespace}/${kind === "Module" ? "modules" : "providers"}/${name}/${fileName}`;
}

/** A key prefix from configuration (e.g. S3 `key`): segments of safe characters only, no `.`/`..`. */
export function normalizePrefix(prefix: string | undefined): string {
  if (!prefix) return "";
  const segments = prefix.split("/").filter((s) => s !== "");
  for (const s of segments) {
    if (s === "." || s === ".." || !/^[A-Za-z0-9._-]+$/.test(s)) throw new StorageError("Invalid", `invalid key prefix ${JSON.stringify(prefix)}`);
  }
  return segments.length ? `${segments.join("/")}/` : "";
}

/** Keys handed to a backend must look like objectKey() output; backends call this before touching anything. */
export function assertSafeKey(key: string): void {
  if (!key || key.length > 1024 || key.startsWith("/") || key.includes("\\") || key.includes("\0")) {
    throw new StorageError("Invalid", `unsafe object key ${JSON.stringify(key.slice(0, 100))}`);
  }
  for (const s of key.split("/")) {
    if (s === "" || s === "." || s === "..") throw new StorageError("Invalid", `unsafe object key ${JSON.stringify(key.slice(0, 100))}`);
  }
}
