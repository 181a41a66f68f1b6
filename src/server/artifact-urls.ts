// The one owner of the registry's artifact URLs: the path of every downloadable artifact (module archive, provider
// zip, SHA256SUMS and its signature), minting signed absolute URLs for them, and checking that a request carries
// exactly such a URL. Terraform sends no credentials to artifact URLs, so this check is the authorisation: anything
// unknown, altered, expired or minted for a replaced artifact is refused with a 403.
import type { VersionObject } from "../api/kinds.ts";
import { protocolVersion } from "../api/naming.ts";
import { base64ToHex } from "../artifacts/hash.ts";
import { shasumsDocument } from "../artifacts/shasums.ts";
import { absolute, type ServerContext } from "./context.ts";
import { errorResponse, Refusal } from "./http.ts";
import { nameParam, namespaceParam, platformParam, systemParam, versionParam } from "./params.ts";
import type { QueryParams } from "./url-signer.ts";

export const MODULES_PREFIX = "/opendepot/modules/v1";
export const PROVIDERS_PREFIX = "/opendepot/providers/v1";

/** The three signed artifacts of one provider build. */
export type ProviderArtifact = "zip" | "shasums" | "signature";

export interface ModuleAddress {
  ns: string;
  name: string;
  system: string;
  version: string;
}

export interface BuildAddress {
  ns: string;
  type: string;
  version: string;
  os: string;
  arch: string;
}

export const ARTIFACT_ROUTES = {
  moduleArchive: `${MODULES_PREFIX}/:namespace/:name/:system/:version/archive/:fileName`,
  zip: `${PROVIDERS_PREFIX}/:namespace/:type/:version/download/:os/:arch/:fileName`,
  shasums: `${PROVIDERS_PREFIX}/:namespace/:type/:version/SHA256SUMS/:os/:arch`,
  signature: `${PROVIDERS_PREFIX}/:namespace/:type/:version/SHA256SUMS.sig/:os/:arch`,
} as const;

export function moduleArchivePath(m: ModuleAddress, fileName: string): string {
  return `${MODULES_PREFIX}/${m.ns}/${m.name}/${m.system}/${m.version}/archive/${fileName}`;
}

export function providerArtifactPath(artifact: ProviderArtifact, b: BuildAddress, fileName: string): string {
  const base = `${PROVIDERS_PREFIX}/${b.ns}/${b.type}/${b.version}`;
  if (artifact === "zip") return `${base}/download/${b.os}/${b.arch}/${fileName}`;
  return `${base}/${artifact === "shasums" ? "SHA256SUMS" : "SHA256SUMS.sig"}/${b.os}/${b.arch}`;
}

/** The SHA256SUMS document of one provider build (the text its signature is over). */
export function shasumsOf(v: VersionObject): string {
  return shasumsDocument([{ hex: base64ToHex(v.status!.checksum!), fileName: v.spec.fileName! }]);
}

type Params = Record<string, string | undefined>;

/** A module's address from route parameters; a bad segment is a 400 (BadRequest). */
export function moduleAddressOf(params: Params): Omit<ModuleAddress, "version"> & { version?: string } {
  return {
    ns: namespaceParam(params.namespace!),
    name: nameParam(params.name!, "module name"),
    system: systemParam(params.system!),
    ...(params.version === undefined ? {} : { version: versionParam(params.version) }),
  };
}

/** A provider build's address from route parameters; a bad segment is a 400 (BadRequest). */
export function buildAddressOf(params: Params): BuildAddress {
  return {
    ns: namespaceParam(params.namespace!),
    type: nameParam(params.type!, "provider type"),
    version: versionParam(params.version!),
    os: platformParam(params.os!, "os"),
    arch: platformParam(params.arch!, "arch"),
  };
}

const INVALID = "download URL is not valid";

export class ArtifactUrls {
  constructor(private readonly ctx: Pick<ServerContext, "urls" | "publicUrl" | "index">) {}

  /** The expiry of URLs minted now (one window shares it, so documents carrying URLs can be memoised). */
  expiresAt(): number {
    return this.ctx.urls.expiresAt();
  }

  private signed(path: string, v: VersionObject, expires: number): string {
    return absolute(this.ctx, this.ctx.urls.sign(path, v.status!.checksum!, expires));
  }

  moduleArchive(m: ModuleAddress, v: VersionObject, expires = this.expiresAt()): string {
    return this.signed(moduleArchivePath(m, v.spec.fileName!), v, expires);
  }

  providerArtifact(artifact: ProviderArtifact, b: BuildAddress, v: VersionObject, expires = this.expiresAt()): string {
    return this.signed(providerArtifactPath(artifact, b, v.spec.fileName!), v, expires);
  }

  /** A build's zip, addressed by the build itself (the network mirror links it under another namespace's name). */
  providerZip(ns: string, type: string, v: VersionObject, expires = this.expiresAt()): string {
    const b = { ns, type, version: protocolVersion(v.spec.version), os: v.spec.operatingSystem!, arch: v.spec.architecture! };
    return this.providerArtifact("zip", b, v, expires);
  }

  private check(path: string, query: () => QueryParams, v: VersionObject): void {
    const why = this.ctx.urls.check(path, query(), v.status!.checksum!);
    if (why) throw new Refusal(errorResponse(403, why));
  }

  /** The module Version a signed archive URL was minted for; throws a 403 Refusal for anything else. */
  verifiedModuleArchive(params: Params, request: Request): VersionObject {
    return this.verifiedArchiveAt(moduleAddressOf(params) as ModuleAddress, params.fileName, queryOf(request));
  }

  /**
   * The same check for an address already validated (the fast path's): the Version at `m` whose file name is
   * `fileName`, when `query` carries a valid signature for it; a 403 Refusal otherwise.
   */
  verifiedArchiveAt(m: ModuleAddress, fileName: string | undefined, query: () => QueryParams): VersionObject {
    const v = this.ctx.index.moduleVersion(m.ns, m.name, m.version);
    const stored = v?.spec.fileName;
    if (!v || !stored || stored !== fileName) throw new Refusal(errorResponse(403, INVALID));
    this.check(moduleArchivePath(m, stored), query, v);
    return v;
  }

  /** The provider build a signed zip, SHA256SUMS or signature URL was minted for; throws a 403 Refusal for anything else. */
  verifiedProviderArtifact(artifact: ProviderArtifact, params: Params, request: Request): VersionObject {
    return this.verifiedBuildArtifactAt(artifact, buildAddressOf(params), params.fileName, queryOf(request));
  }

  /** The same check for a build address already validated (the fast path's); `fileName` matters for the zip only. */
  verifiedBuildArtifactAt(artifact: ProviderArtifact, b: BuildAddress, fileName: string | undefined, query: () => QueryParams): VersionObject {
    const v = this.ctx.index.providerBuild(b.ns, b.type, b.version, b.os, b.arch);
    if (!v) throw new Refusal(errorResponse(403, INVALID));
    this.check(providerArtifactPath(artifact, b, v.spec.fileName!), query, v);
    if (artifact === "zip" && v.spec.fileName !== fileName) throw new Refusal(errorResponse(403, INVALID));
    return v;
  }
}

/** A request's query parameters, parsed only when asked for (after the lookup: unknown artifacts are refused first). */
const queryOf = (request: Request) => () => new URL(request.url).searchParams;

/** The content type of a module archive by its file name (the archive route and the fast path send the same). */
export const archiveContentType = (fileName: string) => (fileName.endsWith(".zip") ? "application/zip" : "application/gzip");

/** The signed URL of a provider build's zip (served by the providers.v1 download route, linked by the mirror). */
export function signedZipUrl(ctx: ServerContext, ns: string, type: string, v: VersionObject, expires = ctx.urls.expiresAt()): string {
  return new ArtifactUrls(ctx).providerZip(ns, type, v, expires);
}
