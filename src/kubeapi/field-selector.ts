// Field selectors (`metadata.name=x,metadata.namespace!=y`): the fields every kind supports on a real API server,
// plus the few extra ones the core kinds we serve support. Unknown fields are rejected like the API server does.
import type { KubeObject } from "../api/meta.ts";
import { badRequest } from "./status.ts";

interface Term {
  field: string;
  equal: boolean;
  value: string;
}

export interface FieldSelector {
  matches(obj: KubeObject): boolean;
  /** The value a term pins `metadata.name` to, if any (a watch on one object). */
  readonly name?: string;
}

const COMMON = ["metadata.name", "metadata.namespace"];
const EXTRA: Record<string, string[]> = { secrets: ["type"], namespaces: ["status.phase"] };

function valueOf(obj: KubeObject, field: string): string {
  switch (field) {
    case "metadata.name":
      return obj.metadata.name ?? "";
    case "metadata.namespace":
      return obj.metadata.namespace ?? "";
    case "type":
      return typeof obj.type === "string" ? obj.type : "";
    case "status.phase": {
      const status = obj.status as { phase?: unknown } | undefined;
      return typeof status?.phase === "string" ? status.phase : "";
    }
    default:
      return "";
  }
}

/** Split on unescaped commas; `\,` `\=` `\\` escape like fields.ParseSelector. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      cur += c + text[++i];
    } else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const unescape = (s: string) => s.replace(/\\(.)/g, "$1");

export function parseFieldSelector(text: string | null, resource: string): FieldSelector {
  const terms: Term[] = [];
  if (text && text.trim()) {
    if (text.length > 4096) throw badRequest("fieldSelector is too long");
    for (const raw of splitTerms(text)) {
      const t = raw.trim();
      if (!t) continue;
      const m = /^((?:[^=!\\]|\\.)+?)\s*(==|!=|=)\s*((?:[^\\]|\\.)*)$/.exec(t);
      if (!m) throw badRequest(`invalid field selector: "${t.slice(0, 100)}": expected field=value or field!=value`);
      const field = unescape(m[1]!.trim());
      if (!COMMON.includes(field) && !(EXTRA[resource] ?? []).includes(field)) {
        throw badRequest(`field label not supported: ${field.slice(0, 100)}`);
      }
      terms.push({ field, equal: m[2] !== "!=", value: unescape(m[3]!) });
    }
  }
  const pinned = terms.find((t) => t.field === "metadata.name" && t.equal);
  return {
    name: pinned?.value,
    matches: (obj) => terms.every((t) => (valueOf(obj, t.field) === t.value) === t.equal),
  };
}
