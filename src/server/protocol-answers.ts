// The answers of the fixed protocol GETs (discovery, module versions and download, provider versions and package
// metadata) for an address that is already validated: authorize (401/403), find (404), answer from the index's
// precomputed documents (200, or 304 for a matching If-None-Match). The Elysia routes and the fast path in front
// of them (fast-path.ts) both call these, so they answer byte for byte alike. `requestId`, when given, is put on
// the response as it is built, with the security headers (the fast path); without it the listener adds both.
import type { VersionObject } from "../api/kinds.ts";
import { base64ToHex } from "../artifacts/hash.ts";
import { MODULES_PREFIX, PROVIDERS_PREFIX, ArtifactUrls, type BuildAddress, type ModuleAddress } from "./artifact-urls.ts";
import { lifecyclePolicy, type RegistryTarget, type ServerContext } from "./context.ts";
import { documentOf, noneMatch, type ProtocolDocument } from "./document.ts";
import { isHeadOnly } from "./head.ts";
import { errorResponse, notFound, SECURITY_HEADERS } from "./http.ts";
import { yankRefusal } from "./lifecycle.ts";

export type Answer = Response | Promise<Response>;

/** What the discovery document advertises beyond the two services. */
export interface DiscoveryExtras {
  /** `login.v1` document, present only when OIDC sign-in is configured. */
  login?: Record<string, unknown>;
}

export function discoveryDocument(extras: DiscoveryExtras = {}): ProtocolDocument {
  return documentOf(
    JSON.stringify({
      "modules.v1": `${MODULES_PREFIX}/`,
      "providers.v1": `${PROVIDERS_PREFIX}/`,
      ...(extras.login ? { "login.v1": extras.login } : {}),
    }),
    "discovery",
  );
}

const DEFAULT_PROTOCOLS = ["5.0"];

/**
 * OpenTofu's optional `packages` map: every servable platform of the version with its `h1:` (status.h1) and `zh:`
 * (the zip's SHA-256, as in SHA256SUMS) hashes, so one `tofu init` locks all platforms. Terraform ignores it.
 */
export function packagesOf(builds: readonly VersionObject[]): Record<string, { hashes: string[]; package_size?: number }> {
  const out: Record<string, { hashes: string[]; package_size?: number }> = {};
  for (const b of [...builds].sort((x, y) => `${x.spec.operatingSystem}_${x.spec.architecture}`.localeCompare(`${y.spec.operatingSystem}_${y.spec.architecture}`))) {
    const hashes = [...(b.status?.h1?.startsWith("h1:") ? [b.status.h1] : []), `zh:${base64ToHex(b.status!.checksum!)}`];
    out[`${b.spec.operatingSystem}_${b.spec.architecture}`] = { hashes, ...(typeof b.status?.archiveSizeBytes === "number" ? { package_size: b.status.archiveSizeBytes } : {}) };
  }
  return out;
}

/**
 * OpenTofu (User-Agent `OpenTofu/…`) gets its direct-install answer: `200` with `{"location", "use_registry_credentials":
 * false}` (the URL is signed, so no token is needed or sent) plus the header; everyone else the classic `204` + header,
 * which every Terraform and OpenTofu version understands (peers.md §4.2).
 */
export function isOpenTofu(request: Request): boolean {
  const agent = request.headers.get("user-agent");
  return agent !== null && /^opentofu\//i.test(agent);
}

/**
 * A document as a response: 304 when the client holds it already, else the bytes (none for HEAD, but their length).
 * With a request id, every header the listener would add is on it already (see serve.ts).
 */
export function documentResponse(doc: ProtocolDocument, request: Request, requestId?: string): Response {
  if (noneMatch(request.headers.get("if-none-match"), doc.etag)) {
    return new Response(null, { status: 304, headers: requestId === undefined ? { etag: doc.etag } : { etag: doc.etag, ...SECURITY_HEADERS, "x-request-id": requestId } });
  }
  if (!isHeadOnly(request)) {
    const response = doc.template.clone() as Response; // clone() is typed as undici's Response
    if (requestId !== undefined) response.headers.set("x-request-id", requestId);
    return response;
  }
  const headers = new Headers(doc.headers);
  if (requestId !== undefined) headers.set("x-request-id", requestId);
  headers.set("content-length", String(doc.bytes.length));
  return new Response(null, { headers });
}

/** The metadata document of one build, for one URL-expiry window and one set of signing keys. */
interface MetadataEntry {
  expires: number;
  keyIds: string;
  doc: ProtocolDocument;
}

const then = (value: Response | undefined | Promise<Response | undefined>, next: () => Answer): Answer | Promise<Response> =>
  value instanceof Promise ? value.then((denied) => denied ?? next()) : (value ?? next());

export class ProtocolAnswers {
  private readonly links: ArtifactUrls;
  /**
   * Metadata documents by the index's per-version build list (a new list whenever any build of that provider
   * changes, so an entry can never outlive what it was built from) and platform: one build per expiry window.
   */
  private readonly metadata = new WeakMap<readonly VersionObject[], Map<string, MetadataEntry>>();

  private readonly metadataByAddress = new WeakMap<object, { changes: number; expires: number; keyIds: string; v: VersionObject; doc: ProtocolDocument }>();
  private readonly versionsMemo = new WeakMap<object, { changes: number; until: number | undefined; doc: ProtocolDocument | undefined }>();

  constructor(private readonly ctx: ServerContext) {
    this.links = new ArtifactUrls(ctx);
  }

  private authorize(request: Request, target: RegistryTarget) {
    return this.ctx.gatekeeper.authorize(request, target);
  }

  /** A module is addressed as ns/name/system; a Module that declares its system must be asked for by it. */
  private knownModule(ns: string, name: string, system: string): boolean {
    const { index } = this.ctx;
    const declared = index.module(ns, name);
    if (!declared) return index.hasModule(ns, name); // inline Versions: no Module, so no declared system
    const provider = declared.spec.moduleConfig.provider;
    return !provider || provider.toLowerCase() === system;
  }

  private module(request: Request, m: Omit<ModuleAddress, "version">, next: () => Answer): Answer {
    return then(this.authorize(request, { kind: "module", namespace: m.ns, name: m.name }), () =>
      this.knownModule(m.ns, m.name, m.system) ? next() : notFound(`module ${m.ns}/${m.name}/${m.system}`),
    );
  }

  private provider(request: Request, ns: string, type: string, next: () => Answer): Answer {
    return then(this.authorize(request, { kind: "provider", namespace: ns, name: type }), () =>
      this.ctx.index.hasProvider(ns, type) ? next() : notFound(`provider ${ns}/${type}`),
    );
  }

  moduleVersions(request: Request, m: Omit<ModuleAddress, "version">, requestId?: string): Answer {
    return then(this.authorize(request, { kind: "module", namespace: m.ns, name: m.name }), () => {
      const doc = this.moduleVersionsOf(m);
      return doc ? documentResponse(doc, request, requestId) : notFound(`module ${m.ns}/${m.name}/${m.system}`);
    });
  }

  /**
   * The versions document of a module address, or undefined for no such module. The fast path hands in the same
   * address object for the same path, so the answer is remembered on it (no key strings built, no map lookups by
   * them) for as long as the index has not changed and time has not made the document stale.
   */
  private moduleVersionsOf(m: Omit<ModuleAddress, "version">): ProtocolDocument | undefined {
    const { index } = this.ctx;
    const known = this.versionsMemo.get(m);
    if (known && known.changes === index.changes && (known.until === undefined || index.now() < known.until)) return known.doc;
    const changes = index.changes;
    const doc = this.knownModule(m.ns, m.name, m.system) ? index.moduleVersionsDocument(m.ns, m.name) : undefined;
    this.versionsMemo.set(m, { changes, until: doc && index.staleAt("Module", m.ns, m.name), doc });
    return doc;
  }

  moduleDownload(request: Request, m: ModuleAddress, requestId?: string): Answer {
    return this.module(request, m, () => {
      const v = this.ctx.index.moduleVersion(m.ns, m.name, m.version);
      if (!v) return notFound(`module ${m.ns}/${m.name}/${m.system} version ${m.version}`);
      const refusal = yankRefusal(v, lifecyclePolicy(this.ctx));
      if (refusal) return errorResponse(404, `module ${m.ns}/${m.name}/${m.system} ${refusal}`);
      const location = this.links.moduleArchive(m, v);
      const policy: Record<string, string> = requestId === undefined ? {} : { ...SECURITY_HEADERS, "x-request-id": requestId };
      if (!isOpenTofu(request)) return new Response(null, { status: 204, headers: { "x-terraform-get": location, ...policy } });
      return new Response(JSON.stringify({ location, use_registry_credentials: false }), {
        status: 200,
        headers: { "content-type": "application/json", "x-terraform-get": location, "cache-control": "private, no-store", ...policy },
      });
    });
  }

  providerVersions(request: Request, ns: string, type: string, requestId?: string): Answer {
    return this.provider(request, ns, type, () => documentResponse(this.ctx.index.providerVersionsDocument(ns, type), request, requestId));
  }

  providerMetadata(request: Request, build: BuildAddress, requestId?: string): Answer {
    const { ns, type, version, os, arch } = build;
    return then(this.authorize(request, { kind: "provider", namespace: ns, name: type }), () => {
      const { index } = this.ctx;
      // The fast path hands in the same address object for the same path: its last answer holds while nothing
      // changed (index, URL-expiry window, signing keys); the yank check is made every time (it depends on time).
      const expires = this.links.expiresAt();
      const keyIds = this.keyIds();
      const known = this.metadataByAddress.get(build);
      let found = known && known.changes === index.changes && known.expires === expires && known.keyIds === keyIds ? known : undefined;
      if (!found) {
        const changes = index.changes;
        if (!index.hasProvider(ns, type)) return notFound(`provider ${ns}/${type}`);
        const v = index.providerBuild(ns, type, version, os, arch);
        if (!v) return notFound(`provider ${ns}/${type} version ${version} for ${os}_${arch}`);
        found = { changes, expires, keyIds, v, doc: this.metadataDocument(build, v, expires, keyIds) };
        this.metadataByAddress.set(build, found);
      }
      const refusal = yankRefusal(found.v, lifecyclePolicy(this.ctx));
      if (refusal) return errorResponse(404, `provider ${ns}/${type} ${refusal}`);
      return documentResponse(found.doc, request, requestId);
    });
  }

  /** The signing key and the published ones, as one string; rebuilt only when either changes (asked per request). */
  private keyIds(): string {
    const { signer } = this.ctx;
    // A ring hands out the same (readonly) key list until it is reloaded; the signing key is compared too.
    const keys = signer.activeKeys ?? signer;
    const known = this.keyIdsMemo;
    if (known !== undefined && known.keys === keys && known.keyId === signer.keyId) return known.value;
    const value = `${signer.keyId}:${(signer.activeKeys ?? [signer]).map((k) => k.keyId).join(",")}`;
    this.keyIdsMemo = { keys, keyId: signer.keyId, value };
    return value;
  }
  private keyIdsMemo: { keys: object; keyId: string; value: string } | undefined;

  private metadataDocument(build: BuildAddress, v: VersionObject, expires: number, keyIds: string): ProtocolDocument {
    const { ctx, links } = this;
    const builds = ctx.index.providerBuilds(build.ns, build.type, build.version);
    const keys = ctx.signer.activeKeys ?? [ctx.signer];
    let platforms = this.metadata.get(builds);
    if (!platforms) this.metadata.set(builds, (platforms = new Map()));
    const platform = `${build.os}_${build.arch}`;
    const known = platforms.get(platform);
    if (known && known.expires === expires && known.keyIds === keyIds) return known.doc;
    const doc = documentOf(
      JSON.stringify({
        protocols: v.status?.protocols?.length ? v.status.protocols : DEFAULT_PROTOCOLS,
        os: build.os,
        arch: build.arch,
        filename: v.spec.fileName!,
        download_url: links.providerZip(build.ns, build.type, v, expires),
        shasums_url: links.providerArtifact("shasums", build, v, expires),
        // Names the signing key this document chose, so a replica with an older or newer ring signs with a listed key.
        shasums_signature_url: `${links.providerArtifact("signature", build, v, expires)}&key=${ctx.signer.keyId}`,
        shasum: base64ToHex(v.status!.checksum!),
        signing_keys: {
          gpg_public_keys: keys.map((k) => ({
            key_id: k.keyId,
            ascii_armor: k.publicKeyArmored,
            ...(ctx.signingKeySourceUrl ? { source_url: ctx.signingKeySourceUrl } : {}),
          })),
        },
        packages: packagesOf(builds),
      }),
      `metadata/${build.ns}/${build.type}/${build.version}/${build.os}/${build.arch}`,
    );
    platforms.set(platform, { expires, keyIds, doc });
    return doc;
  }
}

const answersByContext = new WeakMap<ServerContext, ProtocolAnswers>();

/** One ProtocolAnswers per context, shared by the app's routes and the fast path (so they share their memos). */
export function answersFor(ctx: ServerContext): ProtocolAnswers {
  let answers = answersByContext.get(ctx);
  if (!answers) answersByContext.set(ctx, (answers = new ProtocolAnswers(ctx)));
  return answers;
}
