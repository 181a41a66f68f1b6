// Azure Storage signatures, exactly as specified in "Authorize with Shared Key" and "Create a service SAS" /
// "Create a user delegation SAS" (string-to-sign layouts of service version 2020-12-06 and later).
import { createHmac } from "node:crypto";

export const AZURE_API_VERSION = "2023-11-03";

export interface SharedKey {
  accountName: string;
  /** base64 account key. */
  accountKey: string;
}

const hmac = (base64Key: string, text: string) => createHmac("sha256", Buffer.from(base64Key, "base64")).update(text, "utf8").digest("base64");

/**
 * The Shared Key string-to-sign of a request. `url` is the request URL as sent (its encoded path is used, as the
 * service does); headers must already hold x-ms-date and x-ms-version.
 */
export function sharedKeyStringToSign(method: string, url: URL, headers: Headers, accountName: string): string {
  const h = (name: string) => headers.get(name) ?? "";
  // Since 2015-02-21 a zero Content-Length is signed as the empty string.
  const contentLength = h("content-length") === "0" ? "" : h("content-length");
  const canonicalHeaders = [...headers.keys()]
    .filter((k) => k.startsWith("x-ms-"))
    .sort()
    .map((k) => `${k}:${(headers.get(k) ?? "").replace(/\s+/g, " ").trim()}\n`)
    .join("");
  return [
    method.toUpperCase(),
    h("content-encoding"),
    h("content-language"),
    contentLength,
    h("content-md5"),
    h("content-type"),
    "", // Date: x-ms-date is used instead
    h("if-modified-since"),
    h("if-match"),
    h("if-none-match"),
    h("if-unmodified-since"),
    h("range"),
    canonicalHeaders + canonicalizedResource(url, accountName),
  ].join("\n");
}

/** `/<account><encoded path>` then `\n<name>:<v1,v2>` per query parameter, names lower-cased and sorted. */
export function canonicalizedResource(url: URL, accountName: string): string {
  let out = `/${accountName}${url.pathname || "/"}`;
  const params = new Map<string, string[]>();
  for (const [k, v] of url.searchParams) {
    const name = k.toLowerCase();
    params.set(name, [...(params.get(name) ?? []), v]);
  }
  for (const name of [...params.keys()].sort()) out += `\n${name}:${params.get(name)!.sort().join(",")}`;
  return out;
}

export function sharedKeyAuthorization(method: string, url: URL, headers: Headers, key: SharedKey): string {
  return `SharedKey ${key.accountName}:${hmac(key.accountKey, sharedKeyStringToSign(method, url, headers, key.accountName))}`;
}

export interface SasInput {
  accountName: string;
  container: string;
  /** Blob name, unencoded. */
  blob: string;
  permissions: string;
  start?: Date;
  expiry: Date;
  /** "https" or "https,http". */
  protocol: string;
  version?: string;
}

/** SAS times are ISO 8601 UTC without milliseconds. */
export const sasTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

const resource = (i: SasInput) => `/blob/${i.accountName}/${i.container}/${i.blob}`;

/** Service SAS for one blob, signed with the account key. Returns the query string (no leading `?`). */
export function serviceSas(i: SasInput, accountKey: string): string {
  const sv = i.version ?? AZURE_API_VERSION;
  const st = i.start ? sasTime(i.start) : "";
  const se = sasTime(i.expiry);
  const toSign = [i.permissions, st, se, resource(i), "", "", i.protocol, sv, "b", "", "", "", "", "", "", ""].join("\n");
  const q = new URLSearchParams({ sv, ...(st ? { st } : {}), se, sr: "b", sp: i.permissions, spr: i.protocol, sig: hmac(accountKey, toSign) });
  return q.toString();
}

export interface UserDelegationKey {
  signedOid: string;
  signedTid: string;
  signedStart: string;
  signedExpiry: string;
  signedService: string;
  signedVersion: string;
  /** base64 key. */
  value: string;
}

/** User delegation SAS for one blob, signed with a key obtained with an Entra token. */
export function userDelegationSas(i: SasInput, key: UserDelegationKey): string {
  const sv = i.version ?? AZURE_API_VERSION;
  const st = i.start ? sasTime(i.start) : "";
  const se = sasTime(i.expiry);
  const toSign = [
    i.permissions, st, se, resource(i),
    key.signedOid, key.signedTid, key.signedStart, key.signedExpiry, key.signedService, key.signedVersion,
    "", "", "", // saoid, suoid, scid
    "", i.protocol, sv, "b", "", "", // sip, spr, sv, sr, snapshot, ses
    "", "", "", "", "", // rscc, rscd, rsce, rscl, rsct
  ].join("\n");
  const q = new URLSearchParams({
    sv, ...(st ? { st } : {}), se, sr: "b", sp: i.permissions, spr: i.protocol,
    skoid: key.signedOid, sktid: key.signedTid, skt: key.signedStart, ske: key.signedExpiry, sks: key.signedService, skv: key.signedVersion,
    sig: hmac(key.value, toSign),
  });
  return q.toString();
}
