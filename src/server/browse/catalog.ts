// The browse API's read model: Modules, Providers, their Versions, Depots, Namespaces and the README/docs
// ConfigMaps, kept in memory from the same watch-fed caches as RegistryIndex. Each resource's summary is computed
// once per change; a request only filters, sorts and slices what is already here.
import type { DepotObject, ModuleObject, ProviderObject, VersionObject } from "../../api/kinds.ts";
import { LABELS, type KubeObject } from "../../api/meta.ts";
import { moduleDocsConfigMapName } from "../../api/module-docs.ts";
import { README_GZIP_KEY, readmeFromConfigMap } from "../../api/readme-configmap.ts";
import type { ObjectFeed } from "../feed.ts";
import { ownerNameOf } from "../registry-index.ts";
import { summarise, type ResourceSummary } from "./summary.ts";
import type { BrowseKind } from "./types.ts";

export type ConfigMapObject = KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> };

/** The module documentation contract: ConfigMap `<version>-docs`, key docs.json, a JSON object of at most 512 KiB. */
export const DOCS_SUFFIX = "-docs";
export const DOCS_KEY = "docs.json";
export const MAX_DOCS_BYTES = 512 * 1024;
export const README_SUFFIX = "-readme";
export const README_KEY = "README.md";

export interface CatalogFeeds {
  modules: ObjectFeed<ModuleObject>;
  providers: ObjectFeed<ProviderObject>;
  versions: ObjectFeed<VersionObject>;
  depots: ObjectFeed<DepotObject>;
  namespaces: ObjectFeed<KubeObject>;
  /** ConfigMaps carrying label opendepot.defdev.io/namespace (the README and docs ConfigMaps of module Versions). */
  configMaps: ObjectFeed<ConfigMapObject>;
}

interface OwnerEntry {
  kind: BrowseKind;
  namespace: string;
  name: string;
  object?: ModuleObject | ProviderObject;
  versions: Map<string, VersionObject>;
  summary?: ResourceSummary;
}

let builds = 0;
/** How many catalogs have been filled from their feeds in this process (tests: none before the first browse read). */
export const catalogBuilds = () => builds;

const ownerKey = (kind: BrowseKind, ns: string, name: string) => `${kind}/${ns}/${name}`;
const nsOf = (o: KubeObject) => o.metadata.namespace ?? "default";

export class BrowseCatalog {
  private readonly owners = new Map<string, OwnerEntry>();
  private readonly versionOwner = new Map<string, string>();
  private readonly depotMap = new Map<string, DepotObject>();
  private readonly publicNamespaces = new Set<string>();
  private readonly readmes = new Map<string, string>();
  private readonly docs = new Map<string, unknown>();
  private readonly unsubscribe: (() => void)[] = [];
  private summariesMemo: ResourceSummary[] | undefined;
  private changes = 0;
  private feeds: CatalogFeeds | undefined;
  private closed = false;

  // Filled on the first read, not at construction: startup (and /readyz) needs the caches, not this model, and
  // most processes never serve a browse request. The feeds are the caches themselves, so their list() at the
  // first read is the state an eager fill would have reached by following every change since.
  constructor(feeds: CatalogFeeds) {
    this.feeds = feeds;
  }

  /** Bumped on every change, so derived responses can be memoised. */
  get generation(): number {
    this.ensureBuilt();
    return this.changes;
  }

  private ensureBuilt(): void {
    const feeds = this.feeds;
    if (!feeds) return;
    this.feeds = undefined;
    builds++;
    for (const m of feeds.modules.list()) this.putResource("module", m);
    for (const p of feeds.providers.list()) this.putResource("provider", p);
    for (const v of feeds.versions.list()) this.putVersion(v);
    for (const d of feeds.depots.list()) this.depotMap.set(`${nsOf(d)}/${d.metadata.name}`, d);
    for (const n of feeds.namespaces.list()) this.putNamespace(n);
    for (const c of feeds.configMaps.list()) this.putConfigMap(c);
    if (this.closed) return;
    this.unsubscribe.push(
      feeds.modules.onChange((t, o) => this.changed(() => (t === "DELETED" ? this.dropResource("module", o) : this.putResource("module", o)))),
      feeds.providers.onChange((t, o) => this.changed(() => (t === "DELETED" ? this.dropResource("provider", o) : this.putResource("provider", o)))),
      feeds.versions.onChange((t, o) => this.changed(() => (t === "DELETED" ? this.dropVersion(o) : this.putVersion(o)))),
      feeds.depots.onChange((t, o) => this.changed(() => (t === "DELETED" ? this.depotMap.delete(`${nsOf(o)}/${o.metadata.name}`) : this.depotMap.set(`${nsOf(o)}/${o.metadata.name}`, o)))),
      feeds.namespaces.onChange((t, o) => this.changed(() => (t === "DELETED" ? this.publicNamespaces.delete(o.metadata.name) : this.putNamespace(o)))),
      feeds.configMaps.onChange((t, o) => this.changed(() => (t === "DELETED" ? this.dropConfigMap(o) : this.putConfigMap(o)))),
    );
  }

  close(): void {
    this.closed = true;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  // ---- reads ----
  isNamespacePublic(ns: string): boolean {
    this.ensureBuilt();
    return this.publicNamespaces.has(ns);
  }
  publicNamespaceNames(): string[] {
    this.ensureBuilt();
    return [...this.publicNamespaces];
  }
  /** Every Module and Provider (with a resource object), summarised. */
  summaries(): ResourceSummary[] {
    this.ensureBuilt();
    if (!this.summariesMemo) {
      const out: ResourceSummary[] = [];
      for (const e of this.owners.values()) {
        const s = this.summaryOf(e);
        if (s) out.push(s);
      }
      this.summariesMemo = out;
    }
    return this.summariesMemo;
  }
  summary(kind: BrowseKind, ns: string, name: string): ResourceSummary | undefined {
    this.ensureBuilt();
    const e = this.owners.get(ownerKey(kind, ns, name));
    return e ? this.summaryOf(e) : undefined;
  }
  depots(): DepotObject[] {
    this.ensureBuilt();
    return [...this.depotMap.values()];
  }
  /** The decoded README of a module Version, from its ConfigMap. */
  readmeOf(v: VersionObject): string | undefined {
    this.ensureBuilt();
    const ref = v.status?.readmeConfigMapRef;
    return this.readmes.get(`${nsOf(v)}/${ref?.name ?? `${v.metadata.name}${README_SUFFIX}`}`);
  }
  /** The documentation JSON of a module Version; null when absent or unusable. */
  docsOf(v: VersionObject): unknown {
    this.ensureBuilt();
    return this.docs.get(`${nsOf(v)}/${moduleDocsConfigMapName(v.metadata.name)}`) ?? null;
  }

  // ---- maintenance ----
  private changed(fn: () => unknown): void {
    fn();
    this.changes++;
  }
  private summaryOf(e: OwnerEntry): ResourceSummary | undefined {
    if (!e.object) return undefined;
    e.summary ??= summarise(e.object, e.versions.values());
    return e.summary;
  }
  private entry(kind: BrowseKind, ns: string, name: string): OwnerEntry {
    const key = ownerKey(kind, ns, name);
    let e = this.owners.get(key);
    if (!e) this.owners.set(key, (e = { kind, namespace: ns, name, versions: new Map() }));
    return e;
  }
  private invalidate(e: OwnerEntry): void {
    e.summary = undefined;
    this.summariesMemo = undefined;
  }
  private putResource(kind: BrowseKind, o: ModuleObject | ProviderObject): void {
    const e = this.entry(kind, nsOf(o), o.metadata.name);
    e.object = o;
    this.invalidate(e);
  }
  private dropResource(kind: BrowseKind, o: ModuleObject | ProviderObject): void {
    const key = ownerKey(kind, nsOf(o), o.metadata.name);
    const e = this.owners.get(key);
    if (!e) return;
    e.object = undefined;
    this.invalidate(e);
    if (e.versions.size === 0) this.owners.delete(key);
  }
  private putVersion(v: VersionObject): void {
    const vkey = `${nsOf(v)}/${v.metadata.name}`;
    this.dropVersionKey(vkey, v.metadata.name);
    const owner = ownerNameOf(v);
    if (!owner || (v.spec.type !== "Module" && v.spec.type !== "Provider")) return;
    const e = this.entry(v.spec.type === "Module" ? "module" : "provider", nsOf(v), owner);
    e.versions.set(v.metadata.name, v);
    this.versionOwner.set(vkey, ownerKey(e.kind, e.namespace, e.name));
    this.invalidate(e);
  }
  private dropVersion(v: VersionObject): void {
    this.dropVersionKey(`${nsOf(v)}/${v.metadata.name}`, v.metadata.name);
  }
  private dropVersionKey(vkey: string, name: string): void {
    const okey = this.versionOwner.get(vkey);
    if (!okey) return;
    this.versionOwner.delete(vkey);
    const e = this.owners.get(okey);
    if (!e) return;
    e.versions.delete(name);
    this.invalidate(e);
    if (e.versions.size === 0 && !e.object) this.owners.delete(okey);
  }
  private putNamespace(n: KubeObject): void {
    if (n.metadata.labels?.[LABELS.public] === "true" && !n.metadata.deletionTimestamp) this.publicNamespaces.add(n.metadata.name);
    else this.publicNamespaces.delete(n.metadata.name);
    // Every summary's visibility depends on its namespace: nothing cached depends on it, so nothing to invalidate.
  }
  private putConfigMap(c: ConfigMapObject): void {
    const key = `${nsOf(c)}/${c.metadata.name}`;
    this.dropConfigMap(c);
    if (c.metadata.name.endsWith(README_SUFFIX)) {
      // Large READMEs are stored gzipped in binaryData (api/readme-configmap.ts); v0.9's layout is base64 in data.
      const raw = c.data?.[README_KEY];
      const content = c.binaryData?.[README_GZIP_KEY] !== undefined ? readmeFromConfigMap(c)?.content : typeof raw === "string" ? decodeReadme(raw) : undefined;
      if (content !== undefined) this.readmes.set(key, content);
    } else if (c.metadata.name.endsWith(DOCS_SUFFIX)) {
      this.docs.set(key, parseDocs(c.data?.[DOCS_KEY]));
    }
  }
  private dropConfigMap(c: ConfigMapObject): void {
    const key = `${nsOf(c)}/${c.metadata.name}`;
    this.readmes.delete(key);
    this.docs.delete(key);
  }
}

/** v0.9 stores the README base64-encoded; a value that is not base64 is taken as the text itself. */
function decodeReadme(raw: string): string {
  if (/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(raw)) {
    try {
      return Buffer.from(raw, "base64").toString("utf8");
    } catch {
      // fall through
    }
  }
  return raw;
}

/** The docs JSON when it is a JSON object within the size bound, else null. */
export function parseDocs(raw: string | undefined): unknown {
  if (typeof raw !== "string" || Buffer.byteLength(raw) > MAX_DOCS_BYTES) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}
