// Getting a Version's artifact into storage without ever exposing bad bytes as synced, and without touching a
// published artifact unless the new one is accepted:
// - first publication streams straight to spec.fileName (atomic put; nothing is served before status says so);
// - every later fetch (restore, forceSync) goes to a fresh staging name; it is adopted (spec.fileName switched,
//   old object removed) only if it is needed and allowed, else the staging object is deleted again;
// - immutable Versions refuse a re-fetched archive whose checksum differs, and the published one stays served.
import type { VersionObject } from "../api/kinds.ts";
import { artifactFileName } from "../api/naming.ts";
import { hexToBase64, sha256OfStream } from "../artifacts/hash.ts";
import { toBase64 } from "../kits/encoding.ts";
import type { Logger } from "../log.ts";
import { recordStoredBytes } from "../metrics/controllers.ts";
import { runtime } from "../runtime/index.ts";
import { locateArtifact, type ArtifactLocation, type StorageFor } from "../storage/locate.ts";
import { StorageError, type PutResult } from "../storage/types.ts";
import { fetchModuleArchive } from "./fetch-module.ts";
import { fetchProviderPackage, providerCoordinates } from "./fetch-provider.ts";
import { KeptDownloads } from "./verified-downloads.ts";
import type { Upstreams } from "./upstreams.ts";
import type { ModuleReadme } from "../artifacts/repackage.ts";
import type { ModuleSources } from "./module-docs-configmap.ts";

export type PublishedState = "absent" | "intact" | "missing" | "corrupt";

export interface Fetched {
  put: PutResult;
  fileName: string;
  readme?: ModuleReadme;
  moduleSources?: ModuleSources;
  protocols?: string[];
  h1?: string;
  source: string;
}

export type Outcome =
  | { kind: "published"; fetched: Fetched; checksum: string; replacedFileName?: string }
  | { kind: "unchanged"; fetched: Fetched }
  | { kind: "immutable-refused"; fetched: Fetched; newChecksum: string };

export const artifactExtension = (v: VersionObject) => {
  const name = v.spec.fileName ?? "";
  if (name.endsWith(".tar.gz")) return ".tar.gz";
  if (name.endsWith(".zip")) return ".zip";
  return v.spec.type === "Module" && v.spec.moduleConfigRef?.fileFormat !== "zip" ? ".tar.gz" : ".zip";
};

export class ArtifactPublisher {
  /** Verified provider downloads whose upload failed, for the retry. */
  readonly kept = new KeptDownloads();

  constructor(
    private readonly storageFor: StorageFor,
    private readonly upstreams: Upstreams,
    private readonly options: { tmpDir?: string; rehashIntervalMs: number },
  ) {}

  locate(v: VersionObject, fileName = v.spec.fileName): ArtifactLocation {
    return locateArtifact({ ...v, spec: { ...v.spec, fileName } }, this.storageFor);
  }

  /** Is the published object there and intact? Cheap when its pin is unchanged and a re-hash is not due. */
  async check(v: VersionObject, log: Logger): Promise<{ state: PublishedState; pin?: string }> {
    const checksum = v.status?.checksum;
    if (!checksum) return { state: "absent" };
    const { storage, key } = this.locate(v);
    const info = await storage.head(key);
    if (!info) return { state: "missing" };
    const verifiedAt = Date.parse(v.status?.verifiedAt ?? "");
    const due = !(verifiedAt > Date.now() - this.options.rehashIntervalMs);
    if (info.pin === v.status?.verifiedPin && !due) return { state: "intact", pin: info.pin };
    const got = await storage.get(key);
    const { bytes } = await sha256OfStream(got.body);
    if (toBase64(bytes) === checksum) return { state: "intact", pin: got.pin };
    log.warn("stored artifact does not match its checksum; it will be restored", { storage: storage.description, fileName: v.spec.fileName });
    return { state: "corrupt" };
  }

  /** Fetch from upstream and store, then decide what the Version should point at. */
  async fetchAndStore(v: VersionObject, published: PublishedState, signal: AbortSignal): Promise<Outcome> {
    const direct = published === "absent";
    const fileName = direct ? v.spec.fileName! : artifactFileName(artifactExtension(v));
    const target = this.locate(v, fileName);
    const fetched = await this.fetchInto(v, target, fileName, signal);
    recordStoredBytes(v.spec.type, fetched.put.size);
    const newChecksum = fetched.put.sha256;
    if (direct) return { kind: "published", fetched, checksum: newChecksum };

    const drop = () => target.storage.delete(target.key);
    const oldChecksum = v.status!.checksum!;
    if (newChecksum === oldChecksum) {
      if (published === "intact") {
        await drop();
        return { kind: "unchanged", fetched };
      }
      // A restore of the same bytes goes back under the published name, so that download URLs already handed
      // out (signed over the file name) keep working.
      const restored = await this.restoreInPlace(v, target, oldChecksum);
      if (restored) {
        await drop();
        return { kind: "published", fetched: { ...fetched, put: restored, fileName: v.spec.fileName! }, checksum: newChecksum };
      }
      return { kind: "published", fetched, checksum: newChecksum, replacedFileName: v.spec.fileName };
    }
    if (v.spec.moduleConfigRef?.immutable === true) {
      await drop();
      return { kind: "immutable-refused", fetched, newChecksum };
    }
    return { kind: "published", fetched, checksum: newChecksum, replacedFileName: v.spec.fileName };
  }

  /** Copies the verified staging object over the published key (checked against the checksum); undefined if not possible. */
  private async restoreInPlace(v: VersionObject, staging: ArtifactLocation, checksum: string): Promise<PutResult | undefined> {
    const published = this.locate(v);
    try {
      const got = await staging.storage.get(staging.key);
      return await published.storage.put(published.key, got.body, { size: got.size, sha256: checksum, contentType: got.contentType });
    } catch {
      return undefined; // the staging object stays the new published one instead
    }
  }

  /** Best-effort removal of an artifact a Version no longer points at. */
  async removeReplaced(v: VersionObject, fileName: string, log: Logger): Promise<void> {
    try {
      const old = this.locate(v, fileName);
      await old.storage.delete(old.key);
    } catch (error) {
      log.warn("could not remove a replaced artifact", { fileName, error });
    }
  }

  private async fetchInto(v: VersionObject, target: ArtifactLocation, fileName: string, signal: AbortSignal): Promise<Fetched> {
    const ns = v.metadata.namespace ?? "default";
    if (v.spec.type === "Module") {
      const github = await this.upstreams.github(ns, v.spec.moduleConfigRef?.githubClientConfig?.useAuthenticatedClient === true);
      const archive = await fetchModuleArchive(v, github, { tmpDir: this.options.tmpDir });
      const contentType = fileName.endsWith(".zip") ? "application/zip" : "application/gzip";
      const put = await target.storage.put(target.key, archive.stream, { contentType });
      return { put, fileName, readme: archive.readme(), moduleSources: archive.moduleSources(), source: `github ref ${archive.ref}` };
    }
    // A download verified for this exact build but not stored last time (the upload failed) is reused.
    const keptKey = `${v.metadata.uid ?? ""}/${v.metadata.namespace}/${v.metadata.name}/${JSON.stringify(providerCoordinates(v))}`;
    const pkg = (await this.kept.take(keptKey)) ?? (await fetchProviderPackage(v, this.upstreams.opentofu, { tmpDir: this.options.tmpDir, signal }));
    let put: PutResult;
    try {
      // The expected SHA-256 makes every backend check the bytes again while they are uploaded.
      put = await target.storage.put(target.key, runtime.readStream(pkg.path), { size: pkg.size, sha256: hexToBase64(pkg.sha256Hex), contentType: "application/zip" });
    } catch (e) {
      // Keep it for the retry unless the bytes themselves were refused (changed on disk since they were verified).
      if (e instanceof StorageError && e.kind === "Invalid") await pkg.cleanup();
      else await this.kept.keep(keptKey, pkg);
      throw e;
    }
    await pkg.cleanup();
    return { put, fileName, protocols: pkg.protocols, h1: pkg.h1, source: `${pkg.upstreamFilename} signed by ${pkg.signedBy}` };
  }
}
