// Reading a storage policy document (YAML or JSON, from the operator): strict shape, bounded size, and an error
// that names the offending field, so a typo never silently widens or narrows what tenants may use.
import { runtime } from "../runtime/index.ts";
import { BACKENDS, type StoragePolicyDocument, type StorageRule } from "./policy.ts";

export const POLICY_MAX_BYTES = 256 * 1024;

export class PolicyDocumentError extends Error {}

const RULE_FIELDS = ["backends", "endpoints", "buckets", "azureAccounts", "filesystemRoots"] as const;

function stringList(where: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string" || s === "" || s.length > 1024)) {
    throw new PolicyDocumentError(`${where}: expected a list of non-empty strings`);
  }
  return v as string[];
}

function parseRule(where: string, v: unknown): StorageRule {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new PolicyDocumentError(`${where}: expected a mapping`);
  const rule: StorageRule = {};
  for (const [k, value] of Object.entries(v)) {
    if (!(RULE_FIELDS as readonly string[]).includes(k)) throw new PolicyDocumentError(`${where}.${k}: unknown field (expected one of ${RULE_FIELDS.join(", ")})`);
    const list = stringList(`${where}.${k}`, value);
    if (k === "backends") {
      for (const b of list) if (!(BACKENDS as readonly string[]).includes(b)) throw new PolicyDocumentError(`${where}.backends: unknown backend ${JSON.stringify(b)} (expected ${BACKENDS.join(", ")})`);
      rule.backends = list as StorageRule["backends"];
    } else if (k === "endpoints") {
      for (const e of list) {
        if (e === "*") continue;
        let u: URL;
        try {
          u = new URL(e);
        } catch {
          throw new PolicyDocumentError(`${where}.endpoints: ${JSON.stringify(e)} is not a URL`);
        }
        if (u.protocol !== "https:" && u.protocol !== "http:") throw new PolicyDocumentError(`${where}.endpoints: ${JSON.stringify(e)} is not http(s)`);
      }
      rule.endpoints = list;
    } else if (k === "filesystemRoots") {
      for (const r of list) if (!r.startsWith("/")) throw new PolicyDocumentError(`${where}.filesystemRoots: ${JSON.stringify(r)} is not an absolute path`);
      rule.filesystemRoots = list;
    } else {
      rule[k as "buckets" | "azureAccounts"] = list;
    }
  }
  return rule;
}

/** Parses and validates a policy document; throws PolicyDocumentError naming the field. */
export function parsePolicyDocument(text: string, source = "storage policy"): StoragePolicyDocument {
  if (Buffer.byteLength(text) > POLICY_MAX_BYTES) throw new PolicyDocumentError(`${source}: larger than ${POLICY_MAX_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = text.trim() === "" ? {} : runtime.parseYaml(text);
  } catch (e) {
    throw new PolicyDocumentError(`${source}: not valid YAML/JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new PolicyDocumentError(`${source}: expected a mapping`);
  const doc: StoragePolicyDocument = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === "trustedNamespaces") doc.trustedNamespaces = stringList(`${source}: trustedNamespaces`, v);
    else if (k === "default") doc.default = parseRule(`${source}: default`, v);
    else if (k === "namespaces") {
      if (typeof v !== "object" || v === null || Array.isArray(v)) throw new PolicyDocumentError(`${source}: namespaces: expected a mapping of namespace → rule`);
      doc.namespaces = {};
      for (const [ns, rule] of Object.entries(v)) doc.namespaces[ns] = parseRule(`${source}: namespaces.${ns}`, rule);
    } else throw new PolicyDocumentError(`${source}: ${k}: unknown field (expected trustedNamespaces, default, namespaces)`);
  }
  return doc;
}
