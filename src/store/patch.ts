// JSON merge patch (RFC 7386) and JSON patch (RFC 6902) over plain JSON values, as the Kubernetes API applies
// them. Patches arrive from HTTP clients, so every malformed operation is a StoreError("Invalid") naming the
// operation, and `__proto__` keys are written as data properties, never through the prototype setter.
import { StoreError } from "./errors.ts";
import type { JsonPatchOp, Patch } from "./types.ts";
import { deepEqual, isPlainObject } from "../kits/json.ts";


type Json = unknown;
type JsonObject = Record<string, unknown>;

function setOwn(obj: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * RFC 7386: objects merge recursively, `null` removes a member, anything else replaces. Returns a new value and
 * never mutates its inputs (unpatched subtrees of `target` are shared with the result).
 */
export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const result: JsonObject = {};
  if (isPlainObject(target)) for (const [k, v] of Object.entries(target)) setOwn(result, k, v);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else setOwn(result, k, applyMergePatch(result[k], v));
  }
  return result;
}

class PatchError extends Error {}

/** `/a/b~1c/0` → `["a", "b/c", "0"]`; `""` is the whole document. */
export function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== "string") throw new PatchError("path must be a string");
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new PatchError(`invalid JSON pointer "${pointer}": must start with '/'`);
  return pointer
    .slice(1)
    .split("/")
    .map((token) => {
      if (/~(?![01])/.test(token)) throw new PatchError(`invalid JSON pointer "${pointer}": '~' must be followed by 0 or 1`);
      return token.replace(/~1/g, "/").replace(/~0/g, "~");
    });
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

function arrayIndex(arr: unknown[], token: string, pointer: string, allowEnd: boolean): number {
  if (allowEnd && token === "-") return arr.length;
  if (!ARRAY_INDEX.test(token)) throw new PatchError(`invalid array index "${token}" in "${pointer}"`);
  const i = Number(token);
  if (i > arr.length || (!allowEnd && i === arr.length)) throw new PatchError(`array index ${i} out of range in "${pointer}"`);
  return i;
}

function resolve(doc: Json, tokens: string[], pointer: string): Json {
  let cur = doc;
  for (const token of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, token, pointer, false)];
    else if (isPlainObject(cur) && Object.hasOwn(cur, token)) cur = cur[token];
    else throw new PatchError(`path "${pointer}" does not exist`);
  }
  return cur;
}

/** The container holding the last token of `tokens` (which must be non-empty). */
function parentOf(doc: Json, tokens: string[], pointer: string): Json {
  const parent = resolve(doc, tokens.slice(0, -1), pointer);
  if (!Array.isArray(parent) && !isPlainObject(parent)) throw new PatchError(`path "${pointer}" does not exist`);
  return parent;
}

function add(doc: Json, tokens: string[], pointer: string, value: Json): Json {
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, pointer, true), 0, value);
  else setOwn(parent as JsonObject, last, value);
  return doc;
}

function remove(doc: Json, tokens: string[], pointer: string): { doc: Json; removed: Json } {
  if (tokens.length === 0) throw new PatchError("cannot remove the whole document");
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const [removed] = parent.splice(arrayIndex(parent, last, pointer, false), 1);
    return { doc, removed };
  }
  const obj = parent as JsonObject;
  if (!Object.hasOwn(obj, last)) throw new PatchError(`path "${pointer}" does not exist`);
  const removed = obj[last];
  delete obj[last];
  return { doc, removed };
}

function replace(doc: Json, tokens: string[], pointer: string, value: Json): Json {
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent[arrayIndex(parent, last, pointer, false)] = value;
  else {
    if (!Object.hasOwn(parent as JsonObject, last)) throw new PatchError(`path "${pointer}" does not exist`);
    setOwn(parent as JsonObject, last, value);
  }
  return doc;
}

function requireValue(op: JsonPatchOp): Json {
  if (!Object.hasOwn(op, "value") || op.value === undefined) throw new PatchError(`"${op.op}" needs a value`);
  return structuredClone(op.value);
}

function applyOp(doc: Json, op: JsonPatchOp): Json {
  const tokens = parsePointer(op.path);
  if ((op.op === "move" || op.op === "copy") && typeof op.from !== "string") throw new PatchError(`"${op.op}" needs a "from" pointer`);
  switch (op.op) {
    case "add":
      return add(doc, tokens, op.path, requireValue(op));
    case "remove":
      return remove(doc, tokens, op.path).doc;
    case "replace":
      return replace(doc, tokens, op.path, requireValue(op));
    case "move": {
      const from = parsePointer(op.from);
      if (op.path !== op.from && op.path.startsWith(`${op.from}/`)) throw new PatchError(`cannot move "${op.from}" into its own child "${op.path}"`);
      if (op.path === op.from) {
        resolve(doc, from, op.from!);
        return doc;
      }
      const { doc: rest, removed } = remove(doc, from, op.from!);
      return add(rest, tokens, op.path, removed);
    }
    case "copy": {
      const value = structuredClone(resolve(doc, parsePointer(op.from), op.from!));
      return add(doc, tokens, op.path, value);
    }
    case "test": {
      const expected = requireValue(op);
      if (!deepEqual(resolve(doc, tokens, op.path), expected)) throw new PatchError(`test failed: value at "${op.path}" is not ${JSON.stringify(expected)}`);
      return doc;
    }
    default:
      throw new PatchError(`unknown operation ${JSON.stringify((op as { op: unknown }).op)}`);
  }
}

/** RFC 6902, atomically: the input is never mutated and any failing operation rejects the whole patch. */
export function applyJsonPatch(doc: Json, ops: JsonPatchOp[]): Json {
  if (!Array.isArray(ops)) throw new StoreError("Invalid", "json patch must be an array of operations");
  let result = structuredClone(doc);
  ops.forEach((op, i) => {
    try {
      if (!isPlainObject(op)) throw new PatchError("operation must be an object");
      result = applyOp(result, op);
    } catch (e) {
      if (!(e instanceof PatchError)) throw e;
      const what = isPlainObject(op) ? ` (${String(op.op)} ${String(op.path)})` : "";
      throw new StoreError("Invalid", `json patch operation ${i}${what}: ${e.message}`);
    }
  });
  return result;
}

export function applyPatch(doc: Json, patch: Patch): Json {
  if (patch.type === "merge") {
    if (!isPlainObject(patch.patch)) throw new StoreError("Invalid", "merge patch must be a JSON object");
    return applyMergePatch(doc, patch.patch);
  }
  if (patch.type === "json") return applyJsonPatch(doc, patch.patch);
  throw new StoreError("Invalid", `unknown patch type ${JSON.stringify((patch as { type: unknown }).type)}`);
}
