// Keeps extracted documentation under a byte budget (it is stored in a ConfigMap, whose object limit is 1 MiB).
// What goes first is what matters least: long descriptions and defaults, then examples, then submodules (from the
// last one), then the root module's entries from the end of their lists. Anything removed sets `truncated`.
import type { ModuleDocs, ModuleDocsModule } from "../api/module-docs.ts";

const SHORT_TEXT = 500;
const SMALL_DEFAULT = 256;

const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

export function trimToSize(docs: ModuleDocs, maxBytes: number): ModuleDocs {
  let current = size(docs);
  if (current <= maxBytes) return docs;
  docs.truncated = true;

  const all = [docs.root, ...docs.submodules, ...docs.examples];
  for (const m of all) shorten(m);
  current = size(docs);

  // Examples, then submodules, each from the last: emptied but still listed, so their existence is known.
  for (const m of [...docs.examples].reverse().concat([...docs.submodules].reverse())) {
    if (current <= maxBytes) break;
    const before = size(m);
    empty(m);
    current -= before - size(m);
  }

  if (current > maxBytes) {
    for (const list of [docs.root.inputs, docs.root.outputs]) for (const item of list) delete item.description;
    current = size(docs);
  }
  for (const list of [docs.root.moduleCalls, docs.root.outputs, docs.root.inputs] as unknown[][]) {
    while (current > maxBytes && list.length) current -= size(list.pop()) + 1;
  }

  // Only reachable with a budget smaller than the skeleton itself: keep the root's path and the flags.
  if (size(docs) > maxBytes) {
    empty(docs.root);
    docs.submodules = [];
    docs.examples = [];
    docs.errors = docs.errors.slice(0, 1);
    docs.skipped = docs.skipped.slice(0, 1);
  }
  return docs;
}

function shorten(m: ModuleDocsModule): void {
  for (const i of m.inputs) {
    if (i.description && i.description.length > SHORT_TEXT) i.description = `${i.description.slice(0, SHORT_TEXT)}…`;
    if (i.type && i.type.length > SHORT_TEXT) i.type = `${i.type.slice(0, SHORT_TEXT)}…`;
    if ("default" in i && size(i.default ?? null) > SMALL_DEFAULT) {
      delete i.default;
      i.defaultTruncated = true;
    }
  }
  for (const o of m.outputs) if (o.description && o.description.length > SHORT_TEXT) o.description = `${o.description.slice(0, SHORT_TEXT)}…`;
}

function empty(m: ModuleDocsModule): void {
  m.inputs = [];
  m.outputs = [];
  m.requiredProviders = [];
  m.resources = [];
  m.dataSources = [];
  m.moduleCalls = [];
}
