// Google Cloud Storage V4 signed URLs (GOOG4-RSA-SHA256), as specified in "Signatures" of the GCS docs and checked
// against Google's conformance cases (fixtures/gcs-v4-signatures.json). The RSA signature itself comes from a
// BlobSigner: the service-account key, or the IAM signBlob API when only workload identity is available.
import { createHash } from "node:crypto";

export interface BlobSigner {
  /** Service account e-mail: the credential of the signature. */
  email: string;
  /** RSA-SHA256 (PKCS#1 v1.5) signature of `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export interface SignedUrlInput {
  bucket: string;
  /** Object name; absent for bucket-level URLs. */
  object?: string;
  method: string;
  /** Lifetime in seconds (GCS allows at most 7 days). */
  expiration: number;
  timestamp: Date;
  headers?: Record<string, string>;
  queryParameters?: Record<string, string>;
  /** "https" by default; ignored when the endpoint says its own scheme. */
  scheme?: string;
  urlStyle?: "PATH_STYLE" | "VIRTUAL_HOSTED_STYLE" | "BUCKET_BOUND_HOSTNAME";
  bucketBoundHostname?: string;
  /** Host (and port) to sign for; wins over every endpoint below. */
  hostname?: string;
  /** Endpoint of the client (`host:port` or a URL); wins over the emulator host. */
  clientEndpoint?: string;
  /** STORAGE_EMULATOR_HOST-style endpoint. */
  emulatorHostname?: string;
  /** Universe domain (default googleapis.com). */
  universeDomain?: string;
}

export interface SignedUrl {
  url: string;
  canonicalRequest: string;
  stringToSign: string;
}

/** RFC 3986 percent-encoding (unreserved characters kept), as GCS canonicalizes. */
export function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const compact = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");

/** Scheme and host[:port] of the URL, with the precedence of Google's clients: hostname > client endpoint > emulator. */
function endpointOf(i: SignedUrlInput): { scheme: string; host: string } {
  const split = (value: string, fallbackScheme: string) => {
    const m = /^(https?):\/\/([^/]+)\/?$/.exec(value);
    return m ? { scheme: m[1]!, host: m[2]! } : { scheme: fallbackScheme, host: value.replace(/\/+$/, "") };
  };
  const scheme = i.scheme ?? "https";
  if (i.hostname) return split(i.hostname, scheme);
  if (i.clientEndpoint) return split(i.clientEndpoint, scheme);
  if (i.emulatorHostname) return split(i.emulatorHostname, scheme);
  return { scheme, host: `storage.${i.universeDomain ?? "googleapis.com"}` };
}

export async function signedUrlV4(i: SignedUrlInput, signer: BlobSigner): Promise<SignedUrl> {
  if (!Number.isInteger(i.expiration) || i.expiration < 1 || i.expiration > 604_800) {
    throw new RangeError(`V4 signed URL lifetime must be 1..604800 s, got ${i.expiration}`);
  }
  const { scheme, host: endpointHost } = endpointOf(i);
  const objectPath = i.object === undefined ? "" : `/${i.object.split("/").map(rfc3986).join("/")}`;
  const bucketPath = `/${rfc3986(i.bucket)}${objectPath}`;
  let host = endpointHost;
  let path = bucketPath;
  if (i.urlStyle === "VIRTUAL_HOSTED_STYLE") {
    host = `${i.bucket}.${endpointHost}`;
    path = objectPath || "/";
  } else if (i.urlStyle === "BUCKET_BOUND_HOSTNAME") {
    host = i.bucketBoundHostname ?? endpointHost;
    path = objectPath || "/";
  }

  const datetime = compact(i.timestamp);
  const scope = `${datetime.slice(0, 8)}/auto/storage/goog4_request`;
  // Host is signed without a port, as the service sees it.
  const headers = new Map<string, string>([["host", host.replace(/:\d+$/, "")]]);
  for (const [k, v] of Object.entries(i.headers ?? {})) headers.set(k.toLowerCase(), v.replace(/[ \t]+/g, " ").trim());
  const headerNames = [...headers.keys()].sort();
  const signedHeaders = headerNames.join(";");

  const query: [string, string][] = [
    ["X-Goog-Algorithm", "GOOG4-RSA-SHA256"],
    ["X-Goog-Credential", `${signer.email}/${scope}`],
    ["X-Goog-Date", datetime],
    ["X-Goog-Expires", String(i.expiration)],
    ["X-Goog-SignedHeaders", signedHeaders],
    ...Object.entries(i.queryParameters ?? {}),
  ];
  const canonicalQuery = query
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const payload = headers.get("x-goog-content-sha256") ?? "UNSIGNED-PAYLOAD";
  const canonicalRequest = [
    i.method.toUpperCase(),
    path,
    canonicalQuery,
    headerNames.map((h) => `${h}:${headers.get(h)}\n`).join(""),
    signedHeaders,
    payload,
  ].join("\n");
  const stringToSign = ["GOOG4-RSA-SHA256", datetime, scope, createHash("sha256").update(canonicalRequest).digest("hex")].join("\n");
  const signature = Buffer.from(await signer.sign(new TextEncoder().encode(stringToSign))).toString("hex");
  return { url: `${scheme}://${host}${path}?${canonicalQuery}&X-Goog-Signature=${signature}`, canonicalRequest, stringToSign };
}
