// Reading a manifests directory: multi-document YAML files into validated objects, or issues that name the file,
// the document (1-based) and the offending field. Documents are split on `---` lines here rather than by the YAML
// parser, because Bun.YAML reports syntax errors without positions and a user needs to know which document broke.
import { readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { ConfigMap, Namespace, OUR_KINDS, Secret, kindFor, type KindDescriptor } from "../api/kinds.ts";
import { APPLIED_FROM_ANNOTATION, type KubeObject } from "../api/meta.ts";
import { applyDefaults, validateObject } from "../api/validate.ts";
import { runtime } from "../runtime/index.ts";
import { shapeProblem } from "./document-shape.ts";
import { isPlainObject } from "../kits/json.ts";
import { yamlErrorAt } from "./yaml-position.ts";

/** Largest manifest file read (the admin API's default body limit). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** The kinds a manifests directory may hold. */
export const MANIFEST_KINDS: readonly KindDescriptor[] = [...OUR_KINDS, Namespace, Secret, ConfigMap];

export interface ManifestIssue {
  /** The file as displayed: the directory joined with the path inside it. */
  file: string;
  /** 1-based document index within the file; absent for file-level problems. */
  doc?: number;
  field?: string;
  message: string;
  /** One line for people: `manifests/bad.yaml doc 2: spec.versions[0].version: Expected string`. */
  text: string;
}

export interface ManifestDocument {
  /** Path relative to the directory (what the applied-from annotation records). */
  file: string;
  doc: number;
  descriptor: KindDescriptor;
  /** Ready to create: server fields and status stripped, namespace and defaults filled, annotation set. */
  object: KubeObject;
  /** Identity within the store: kind, namespace, name. */
  key: string;
  /** For people: `Module default/vpc`. */
  ref: string;
}

export interface ManifestFile {
  rel: string;
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

export function issue(file: string, doc: number | undefined, field: string | undefined, message: string): ManifestIssue {
  const where = doc === undefined ? file : `${file} doc ${doc}`;
  return { file, doc, field, message, text: `${where}: ${field ? `${field}: ` : ""}${message}` };
}

export const objectKey = (d: KindDescriptor, namespace: string | undefined, name: string) => `${d.kind}/${namespace ?? ""}/${name}`;
export const objectRef = (d: KindDescriptor, namespace: string | undefined, name: string) => `${d.kind} ${namespace ? `${namespace}/` : ""}${name}`;

/**
 * Every *.yaml / *.yml below `directory`, sorted by relative path. Names starting with '.' are skipped: editor
 * swap files, and the `..data` / `..2024_…` entries of a mounted ConfigMap, whose files are also reachable through
 * the top-level symlinks (which are followed).
 */
export async function listManifestFiles(directory: string): Promise<ManifestFile[]> {
  const out: ManifestFile[] = [];
  const visited = new Set<string>();
  const walk = async (dir: string, relDir: string) => {
    const real = await realpath(dir);
    if (visited.has(real)) return; // symlink loop
    visited.add(real);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      const info = await stat(path).catch(() => undefined); // dangling symlink, or removed meanwhile
      if (!info) continue;
      if (info.isDirectory()) await walk(path, rel);
      else if (info.isFile() && /\.ya?ml$/i.test(entry.name)) out.push({ rel, path, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino });
    }
  };
  await walk(directory, "");
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

const SEPARATOR = /^---\s*$/;
const BLANK_OR_COMMENT = /^\s*(#.*)?$/;

/** Split on `---` lines; a leading part before the first separator that holds only comments is not a document. */
export function splitDocuments(text: string): string[] {
  return splitDocumentsAt(text).map((d) => d.source);
}

/** splitDocuments, with the 1-based line of the file each document starts on. */
function splitDocumentsAt(text: string): { source: string; firstLine: number }[] {
  const docs: { lines: string[]; firstLine: number }[] = [{ lines: [], firstLine: 1 }];
  text.split(/\r?\n/).forEach((line, i) => {
    if (SEPARATOR.test(line)) docs.push({ lines: [], firstLine: i + 2 });
    else docs[docs.length - 1]!.lines.push(line);
  });
  if (docs.length > 1 && docs[0]!.lines.every((l) => BLANK_OR_COMMENT.test(l))) docs.shift();
  return docs.map((d) => ({ source: d.lines.join("\n"), firstLine: d.firstLine }));
}

/** Parse and validate one file's documents. Null/empty documents are skipped but still count in the numbering. */
export function parseManifestFile(display: string, rel: string, text: string): { documents: ManifestDocument[]; issues: ManifestIssue[] } {
  const documents: ManifestDocument[] = [];
  const issues: ManifestIssue[] = [];
  // The admin API's body limits apply to files too: a manifest is input like any other.
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_MANIFEST_BYTES) return { documents, issues: [issue(display, undefined, undefined, `file is ${bytes} bytes, more than the limit of ${MAX_MANIFEST_BYTES}; nothing in it was applied`)] };
  splitDocumentsAt(text).forEach(({ source, firstLine }, i) => {
    const doc = i + 1;
    let value: unknown;
    try {
      value = runtime.parseYaml(source);
    } catch (e) {
      const at = yamlErrorAt(source);
      const why = at ? `${at.message} (line ${firstLine + at.line - 1}, column ${at.column})` : e instanceof Error ? e.message.replace(/^YAML Parse error:\s*/i, "") : String(e);
      issues.push(issue(display, doc, undefined, `invalid YAML: ${why}`));
      return;
    }
    if (value === null || value === undefined) return;
    const shape = shapeProblem(value);
    if (shape) {
      issues.push(issue(display, doc, undefined, `document refused: ${shape}`));
      return;
    }
    if (!isPlainObject(value)) {
      issues.push(issue(display, doc, undefined, "a manifest must be a YAML mapping (an object with apiVersion, kind and metadata)"));
      return;
    }
    const result = toDocument(rel, doc, value as KubeObject);
    if ("errors" in result) issues.push(...result.errors.map((e) => issue(display, doc, e.field || undefined, e.message)));
    else documents.push(result);
  });
  return { documents, issues };
}

function toDocument(rel: string, doc: number, raw: KubeObject): ManifestDocument | { errors: { field: string; message: string }[] } {
  const errors = validateObject(raw);
  if (errors.length) return { errors };
  const d = kindFor(raw.apiVersion, raw.kind)!;
  if (!MANIFEST_KINDS.includes(d)) {
    return { errors: [{ field: "kind", message: `${raw.kind} cannot be applied from a manifest; allowed kinds: ${MANIFEST_KINDS.map((k) => k.kind).join(", ")}` }] };
  }
  const obj = structuredClone(raw);
  // Status is the controllers' to write; server-set metadata is the store's.
  delete obj.status;
  const meta = obj.metadata;
  for (const f of ["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"]) delete meta[f];
  if (d.namespaced) meta.namespace = meta.namespace || "default";
  else delete meta.namespace;
  meta.annotations = { ...meta.annotations, [APPLIED_FROM_ANNOTATION]: rel };
  if (meta.labels && Object.keys(meta.labels).length === 0) delete meta.labels;
  // Defaults filled as the store will, so an unchanged document compares equal to what is stored.
  applyDefaults(obj, d);
  return { file: rel, doc, descriptor: d, object: obj, key: objectKey(d, meta.namespace, meta.name), ref: objectRef(d, meta.namespace, meta.name) };
}
