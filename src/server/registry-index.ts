// The read model of the registry protocols, kept in memory and fed by watches: lookups are map reads and the
// versions documents are serialised once per change, not per request.
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { LABELS } from "../api/meta.ts";
import { inlineModuleName, isArtifactFileName, ownerNameFrom, protocolVersion } from "../api/naming.ts";
import { compareNewestFirst, isSemver } from "../api/version.ts";
import { documentOf, type ProtocolDocument } from "./document.ts";
import type { ObjectFeed } from "./feed.ts";
import { DEFAULT_YANK_GRACE_MS, deprecationWarning, listedVersions, yankWarning, type LifecyclePolicy } from "./lifecycle.ts";

type OwnerKind = "Module" | "Provider";
const DEFAULT_PROTOCOLS = ["5.0"];

/** A Version the protocols may hand out: synced, checksummed, with an artifact file name we issued, not held by a scan. */
export function isServable(v: VersionObject): boolean {
  return (
    v.status?.synced === true &&
    v.status.scanVerdict?.blocked !== true &&
    typeof v.status.checksum === "string" &&
    v.status.checksum.length > 0 &&
    typeof v.spec.fileName === "string" &&
    isArtifactFileName(v.spec.fileName) &&
    !v.metadata.deletionTimestamp &&
    isSemver(v.spec.version)
  );
}

/**
 * The Module or Provider a Version belongs to: its label (full name from the annotation when cut), else its
 * controller owner, else its config ref; a module Version with none of these (the runbook's inline Version) is
 * served under the repository it is fetched from.
 */
export function ownerNameOf(v: VersionObject): string | undefined {
  const label = v.spec.type === "Module" ? LABELS.module : LABELS.provider;
  return (
    ownerNameFrom(v.metadata, label) ??
    v.metadata.ownerReferences?.find((o) => o.controller && o.kind === v.spec.type)?.name ??
    (v.spec.type === "Module" ? inlineModuleName(v.spec.moduleConfigRef, v.metadata.name, v.spec.version) : v.spec.providerConfigRef?.name)
  );
}

const platformKey = (os: string, arch: string) => `${os}_${arch}`;
const ownerKey = (kind: OwnerKind, ns: string, name: string) => `${kind}\u0000${ns}\u0000${name}`;
const upstreamKey = (ns: string, upstreamNamespace: string, type: string) => `${ns}\u0000${upstreamNamespace}\u0000${type}`;

/**
 * The public address a Provider mirrors, `<namespace>/<type>`, lowercased as Terraform normalises it:
 * providerConfig.namespace (default hashicorp) and providerConfig.name (default the resource name).
 */
export function upstreamOf(p: ProviderObject): { namespace: string; type: string } {
  return {
    namespace: (p.spec.providerConfig?.namespace || "hashicorp").toLowerCase(),
    type: (p.spec.providerConfig?.name || p.metadata.name).toLowerCase(),
  };
}

/** A provider build the network mirror may hand out: servable, with a platform and a recorded `h1:` hash. */
function isMirrorable(v: VersionObject): boolean {
  return !!v.spec.operatingSystem && !!v.spec.architecture && typeof v.status?.h1 === "string" && v.status.h1.startsWith("h1:");
}

interface OwnerEntry {
  /** Every Version claiming this owner, by Version name. */
  versions: Map<string, VersionObject>;
  /** Lookup maps of the servable Versions; cleared on any change to the owner or its Versions (not by time). */
  lookup?: OwnerLookup;
  /** Memoised versions document; cleared on any change to the owner or its Versions. */
  body?: ProtocolDocument;
  /** Memoised network-mirror `index.json` document (providers only); cleared with `body`. */
  mirrorBody?: string;
  /** The memoised documents go stale by themselves at this time (a listed yanked version's grace ends). */
  staleAt?: number;
}

/**
 * An owner's servable Versions, in the order they arrived, and keyed the ways the protocols ask for them. Where two
 * Versions give the same key (`v1.0.0` and `1.0.0`), the first in that order wins, as a scan of the list would pick.
 */
interface OwnerLookup {
  servable: VersionObject[];
  /** Protocol version (`1.2.3`, no `v`) → Version. */
  byVersion: Map<string, VersionObject>;
  /** `version\0os\0arch` → provider build. */
  byBuild: Map<string, VersionObject>;
  /** Protocol version → every build of it with a platform, for OpenTofu's `packages` map. */
  buildsByVersion: Map<string, VersionObject[]>;
}

function lookupOf(versions: Iterable<VersionObject>): OwnerLookup {
  const lookup: OwnerLookup = { servable: [], byVersion: new Map(), byBuild: new Map(), buildsByVersion: new Map() };
  for (const v of versions) {
    if (!isServable(v)) continue;
    lookup.servable.push(v);
    const version = protocolVersion(v.spec.version);
    if (!lookup.byVersion.has(version)) lookup.byVersion.set(version, v);
    const { operatingSystem: os, architecture: arch } = v.spec;
    if (!os || !arch) continue;
    const key = `${version}\u0000${os}\u0000${arch}`;
    if (!lookup.byBuild.has(key)) lookup.byBuild.set(key, v);
    const builds = lookup.buildsByVersion.get(version);
    if (builds) builds.push(v);
    else lookup.buildsByVersion.set(version, [v]);
  }
  return lookup;
}

/** Drop what was derived from an owner's objects (they changed). */
function changed(e: OwnerEntry): void {
  e.lookup = e.body = e.mirrorBody = e.staleAt = undefined;
}

const NO_BUILDS: readonly VersionObject[] = Object.freeze([]);

export class RegistryIndex {
  private readonly owners = new Map<string, OwnerEntry>();
  private readonly modules = new Map<string, ModuleObject>();
  private readonly providers = new Map<string, ProviderObject>();
  /** Kubernetes namespace + upstream namespace + type → names of the Providers mirroring it. */
  private readonly providersByUpstream = new Map<string, Set<string>>();
  private readonly unsubscribe: (() => void)[] = [];
  /** Bumped on every change the index takes in: answers derived from it stay right while it holds (and until staleAt). */
  changes = 0;

  constructor(
    feeds: { modules: ObjectFeed<ModuleObject>; providers: ObjectFeed<ProviderObject>; versions: ObjectFeed<VersionObject> },
    private readonly lifecycle: LifecyclePolicy = { yankGraceMs: DEFAULT_YANK_GRACE_MS },
  ) {
    for (const m of feeds.modules.list()) this.putModule(m);
    for (const p of feeds.providers.list()) this.putProvider(p);
    for (const v of feeds.versions.list()) this.putVersion(v, undefined);
    this.unsubscribe.push(
      feeds.modules.onChange((type, obj) => (type === "DELETED" ? this.dropModule(obj) : this.putModule(obj))),
      feeds.providers.onChange((type, obj) => (type === "DELETED" ? this.dropProvider(obj) : this.putProvider(obj))),
      // The feed says what a changed Version was before (old): its owner link is found from that, not from a map of
      // every Version by name here (the shared cache holds them already).
      feeds.versions.onChange((type, obj, old) => (type === "DELETED" ? this.dropVersion(old ?? obj) : this.putVersion(obj, old))),
    );
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  // ---- maintenance ----
  private entry(key: string): OwnerEntry {
    let e = this.owners.get(key);
    if (!e) this.owners.set(key, (e = { versions: new Map() }));
    return e;
  }
  private invalidate(key: string): void {
    const e = this.owners.get(key);
    if (e) changed(e);
  }
  private putModule(m: ModuleObject): void {
    this.changes++;
    const ns = m.metadata.namespace ?? "default";
    this.modules.set(`${ns}/${m.metadata.name}`, m);
    this.invalidate(ownerKey("Module", ns, m.metadata.name));
  }
  private dropModule(m: ModuleObject): void {
    this.changes++;
    const ns = m.metadata.namespace ?? "default";
    this.modules.delete(`${ns}/${m.metadata.name}`);
    this.invalidate(ownerKey("Module", ns, m.metadata.name));
  }
  private putProvider(p: ProviderObject): void {
    this.changes++;
    const ns = p.metadata.namespace ?? "default";
    const old = this.providers.get(`${ns}/${p.metadata.name}`);
    if (old) this.unlinkUpstream(ns, old);
    this.providers.set(`${ns}/${p.metadata.name}`, p);
    const upstream = upstreamOf(p);
    const key = upstreamKey(ns, upstream.namespace, upstream.type);
    let names = this.providersByUpstream.get(key);
    if (!names) this.providersByUpstream.set(key, (names = new Set()));
    names.add(p.metadata.name);
    this.invalidate(ownerKey("Provider", ns, p.metadata.name));
  }
  private unlinkUpstream(ns: string, p: ProviderObject): void {
    const { namespace, type } = upstreamOf(p);
    const key = upstreamKey(ns, namespace, type);
    const names = this.providersByUpstream.get(key);
    names?.delete(p.metadata.name);
    if (names?.size === 0) this.providersByUpstream.delete(key);
  }
  private dropProvider(p: ProviderObject): void {
    this.changes++;
    const ns = p.metadata.namespace ?? "default";
    const stored = this.providers.get(`${ns}/${p.metadata.name}`);
    if (stored) this.unlinkUpstream(ns, stored);
    this.providers.delete(`${ns}/${p.metadata.name}`);
    this.invalidate(ownerKey("Provider", ns, p.metadata.name));
  }
  private versionOwnerKey(v: VersionObject): string | undefined {
    const owner = ownerNameOf(v);
    if (!owner || (v.spec.type !== "Module" && v.spec.type !== "Provider")) return undefined;
    return ownerKey(v.spec.type, v.metadata.namespace ?? "default", owner);
  }
  private putVersion(v: VersionObject, old: VersionObject | undefined): void {
    this.changes++;
    if (old) this.dropVersion(old);
    const key = this.versionOwnerKey(v);
    if (!key) return;
    const e = this.entry(key);
    e.versions.set(v.metadata.name, v);
    changed(e);
  }
  /** Unlink a Version from its owner; `v` is the Version as the index last took it in (its labels name the owner). */
  private dropVersion(v: VersionObject): void {
    this.changes++;
    const key = this.versionOwnerKey(v);
    if (!key) return;
    const e = this.owners.get(key);
    if (!e) return;
    e.versions.delete(v.metadata.name);
    changed(e);
    if (e.versions.size === 0 && !this.hasOwnerObject(key)) this.owners.delete(key);
  }
  private hasOwnerObject(key: string): boolean {
    const [kind, ns, name] = key.split("\u0000") as [OwnerKind, string, string];
    return (kind === "Module" ? this.modules : this.providers).has(`${ns}/${name}`);
  }

  // ---- reads ----
  /** The clock the index's lifecycle decisions use. */
  now(): number {
    return (this.lifecycle.now ?? Date.now)();
  }
  /** When an owner's memoised documents go stale by time alone (a listed yanked version's grace ends), if ever. */
  staleAt(kind: OwnerKind, ns: string, name: string): number | undefined {
    return this.owners.get(ownerKey(kind, ns, name))?.staleAt;
  }

  module(ns: string, name: string): ModuleObject | undefined {
    return this.modules.get(`${ns}/${name}`);
  }
  provider(ns: string, name: string): ProviderObject | undefined {
    return this.providers.get(`${ns}/${name}`);
  }
  /** Whether a module is known: a Module object or at least one Version claiming it (inline Versions). */
  hasModule(ns: string, name: string): boolean {
    return this.modules.has(`${ns}/${name}`) || (this.owners.get(ownerKey("Module", ns, name))?.versions.size ?? 0) > 0;
  }
  hasProvider(ns: string, name: string): boolean {
    return this.providers.has(`${ns}/${name}`) || (this.owners.get(ownerKey("Provider", ns, name))?.versions.size ?? 0) > 0;
  }

  /** The owner's lookup maps, built on first use after a change; undefined for an owner nothing claims. */
  private lookup(kind: OwnerKind, ns: string, name: string): OwnerLookup | undefined {
    const e = this.owners.get(ownerKey(kind, ns, name));
    if (!e) return undefined;
    return (e.lookup ??= lookupOf(e.versions.values()));
  }

  private servable(kind: OwnerKind, ns: string, name: string): readonly VersionObject[] {
    return this.lookup(kind, ns, name)?.servable ?? NO_BUILDS;
  }

  /** What versions lists and the mirror index offer: servable, and yanked ones only as lifecycle.ts allows. */
  private listable(kind: OwnerKind, ns: string, name: string): readonly VersionObject[] {
    const { listed, changesAt } = listedVersions(this.servable(kind, ns, name), this.lifecycle);
    const e = this.entry(ownerKey(kind, ns, name));
    if (changesAt !== undefined) e.staleAt = Math.min(e.staleAt ?? Infinity, changesAt);
    return listed;
  }

  /** The owner's memoised documents, dropped first when time alone has made them stale. */
  private fresh(kind: OwnerKind, ns: string, name: string): OwnerEntry {
    const e = this.entry(ownerKey(kind, ns, name));
    if (e.staleAt !== undefined && (this.lifecycle.now ?? Date.now)() >= e.staleAt) e.body = e.mirrorBody = e.staleAt = undefined;
    return e;
  }

  /** A servable module Version for a protocol version (`1.2.3`, no `v`); yanked ones too (see lifecycle.ts). */
  moduleVersion(ns: string, name: string, version: string): VersionObject | undefined {
    return this.lookup("Module", ns, name)?.byVersion.get(version);
  }

  /** A servable provider build for a protocol version and platform. */
  providerBuild(ns: string, name: string, version: string, os: string, arch: string): VersionObject | undefined {
    return this.lookup("Provider", ns, name)?.byBuild.get(`${version}\u0000${os}\u0000${arch}`);
  }

  /** Every servable build of one provider version (all platforms), for OpenTofu's `packages` map. */
  providerBuilds(ns: string, name: string, version: string): readonly VersionObject[] {
    return this.lookup("Provider", ns, name)?.buildsByVersion.get(version) ?? NO_BUILDS;
  }

  /** `{"modules":[{"versions":[{"version":"1.2.3"}]}]}`, servable versions only, newest first. */
  moduleVersionsBody(ns: string, name: string): string {
    return this.moduleVersionsDocument(ns, name).text;
  }

  /** The module versions document with its bytes and ETag (see document.ts). */
  moduleVersionsDocument(ns: string, name: string): ProtocolDocument {
    const e = this.fresh("Module", ns, name);
    if (e.body === undefined) {
      const versions = [...new Set(this.listable("Module", ns, name).map((v) => protocolVersion(v.spec.version)))].sort(compareNewestFirst);
      e.body = documentOf(JSON.stringify({ modules: [{ versions: versions.map((version) => ({ version })) }] }), `module/${ns}/${name}`);
    }
    return e.body;
  }

  /** `{"versions":[{"version","protocols","platforms"}]}`, listable builds only, newest first; `warnings` for deprecated ones. */
  providerVersionsBody(ns: string, name: string): string {
    return this.providerVersionsDocument(ns, name).text;
  }

  /** The provider versions document with its bytes and ETag (see document.ts). */
  providerVersionsDocument(ns: string, name: string): ProtocolDocument {
    const e = this.fresh("Provider", ns, name);
    if (e.body === undefined) {
      const byVersion = new Map<string, { protocols: Set<string>; platforms: Map<string, { os: string; arch: string }> }>();
      const warnings = new Map<string, string>();
      for (const v of this.listable("Provider", ns, name)) {
        const os = v.spec.operatingSystem;
        const arch = v.spec.architecture;
        if (!os || !arch) continue;
        const version = protocolVersion(v.spec.version);
        const warning = yankWarning(v, this.lifecycle) ?? deprecationWarning(v);
        if (warning && !warnings.has(version)) warnings.set(version, warning);
        let slot = byVersion.get(version);
        if (!slot) byVersion.set(version, (slot = { protocols: new Set(), platforms: new Map() }));
        for (const p of v.status?.protocols?.length ? v.status.protocols : DEFAULT_PROTOCOLS) slot.protocols.add(p);
        slot.platforms.set(platformKey(os, arch), { os, arch });
      }
      const versions = [...byVersion.keys()].sort(compareNewestFirst).map((version) => {
        const slot = byVersion.get(version)!;
        return {
          version,
          protocols: [...slot.protocols].sort(),
          platforms: [...slot.platforms.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, p]) => p),
        };
      });
      const warned = [...warnings.keys()].sort(compareNewestFirst).map((version) => warnings.get(version)!);
      e.body = documentOf(JSON.stringify({ versions, ...(warned.length ? { warnings: warned } : {}) }), `provider/${ns}/${name}`);
    }
    return e.body;
  }

  // ---- provider network mirror ----

  /**
   * The Provider in Kubernetes namespace `ns` that mirrors public provider `<upstreamNamespace>/<type>`. When several
   * do, the one named `<type>` wins, else the first by name: deterministic, and stable while the set is unchanged.
   */
  mirrorProvider(ns: string, upstreamNamespace: string, type: string): ProviderObject | undefined {
    const names = this.providersByUpstream.get(upstreamKey(ns, upstreamNamespace, type));
    if (!names?.size) return undefined;
    const name = names.has(type) ? type : [...names].sort()[0]!;
    return this.providers.get(`${ns}/${name}`);
  }

  /** The builds of one version of a Provider the mirror may serve (servable and carrying an `h1:` hash). */
  mirrorBuilds(ns: string, name: string, version: string): VersionObject[] {
    // A provider's builds with a platform: the same per-version list the packages map uses, filtered for an h1: hash.
    return this.providerBuilds(ns, name, version).filter(isMirrorable);
  }

  /** Network-mirror `index.json`: `{"versions":{"1.2.3":{}}}`, versions with at least one mirrorable build. */
  mirrorVersionsBody(ns: string, name: string): string {
    const e = this.fresh("Provider", ns, name);
    if (e.mirrorBody === undefined) {
      const versions = [...new Set(this.listable("Provider", ns, name).filter(isMirrorable).map((v) => protocolVersion(v.spec.version)))].sort(compareNewestFirst);
      e.mirrorBody = JSON.stringify({ versions: Object.fromEntries(versions.map((v) => [v, {}])) });
    }
    return e.mirrorBody;
  }
}
