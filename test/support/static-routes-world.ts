// A registry world for the native route table's tests (src/server/static-routes.ts): hand-fed feeds, a hand-driven
// clock shared by the index and the URL signer, and two listeners on free loopback ports over the same context —
// one with the table, one without (the fetch path: fast path + app), so their answers can be compared.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION } from "../../src/api/meta.ts";
import { SigningKeyRing } from "../../src/artifacts/key-ring.ts";
import type { SigningKey } from "../../src/artifacts/signing.ts";
import { createLogger, silentLogger } from "../../src/log.ts";
import { ArtifactDelivery } from "../../src/server/artifact-delivery.ts";
import { createApp, fastPathOf } from "../../src/server/app.ts";
import { anonymousGatekeeper, type ServerContext } from "../../src/server/context.ts";
import { RegistryIndex } from "../../src/server/registry-index.ts";
import { listen } from "../../src/server/serve.ts";
import { StaticRoutes, type StaticRoutesOptions } from "../../src/server/static-routes.ts";
import { UrlSigner } from "../../src/server/url-signer.ts";
import { FilesystemStorage } from "../../src/storage/filesystem.ts";
import { publishModule, publishProvider } from "./publish.ts";
import { rawHttp, type RawAnswer } from "./raw-http.ts";
import { feedStore, StaticFeed } from "./static-feed.ts";

export const M = "/opendepot/modules/v1/team";
export const P = "/opendepot/providers/v1/team";
export const GRACE_MS = 3_600_000;
export const TTL_SECONDS = 600;

export const moduleObject = (name: string, provider?: string): ModuleObject => ({ apiVersion: API_VERSION, kind: "Module", metadata: { name, namespace: "team" }, spec: { moduleConfig: { provider }, versions: [] } });
const providerObject = (name: string): ProviderObject => ({ apiVersion: API_VERSION, kind: "Provider", metadata: { name, namespace: "team" }, spec: { providerConfig: {}, versions: [] } });

/** What a listener answered, comparable: header names lowercased and sorted (the table writes them capitalised, in its own order), Date and the request id left out. */
export interface Comparable {
  status: number;
  headers: [string, string][];
  body: string;
  requestId: boolean;
}
export function comparable(a: RawAnswer): Comparable {
  return {
    status: a.status,
    headers: a.headers.filter(([k]) => k !== "date" && k !== "x-request-id").sort(([x], [y]) => x.localeCompare(y)),
    body: Buffer.from(a.body).toString("latin1"),
    requestId: a.headers.some(([k]) => k === "x-request-id"),
  };
}

export const request = (method: string, target: string, headers: Record<string, string> = {}) =>
  `${method} ${target} HTTP/1.1\r\nHost: registry.test\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}Connection: close\r\n\r\n`;

export async function staticRoutesWorld(keys: SigningKey[], options: StaticRoutesOptions = {}) {
  const clock = { now: 1_800_000_000_000 };
  const now = () => clock.now;
  const root = await mkdtemp(join(tmpdir(), "opendepot-static-"));
  const storage = new FilesystemStorage(root);
  const modules = new StaticFeed<ModuleObject>([moduleObject("vpc", "aws"), moduleObject("any"), moduleObject("db", "google")]);
  const providers = new StaticFeed<ProviderObject>([providerObject("widget"), providerObject("gadget")]);
  const versions = new StaticFeed<VersionObject>();
  const lifecycle = { yankGraceMs: GRACE_MS, now };
  const index = new RegistryIndex({ modules, providers, versions }, lifecycle);
  const store = feedStore(versions);
  const publish = {
    module: (module: string, version: string) => publishModule(store, () => storage, { namespace: "team", module, version, files: { "main.tf": "" } }),
    provider: (provider: string, version: string, os = "linux", arch = "amd64") => publishProvider(store, () => storage, { namespace: "team", provider, version, os, arch, binary: `${provider}${version}${os}` }),
  };
  for (const v of ["1.0.0", "1.1.0", "1.2.0"]) await publish.module("vpc", v);
  await publish.module("any", "0.1.0");
  await publish.module("db", "3.0.0");
  for (const [os, arch] of [["linux", "amd64"], ["darwin", "arm64"], ["windows", "amd64"]] as const) await publish.provider("widget", "1.0.0", os, arch);
  await publish.provider("widget", "1.1.0");
  await publish.provider("gadget", "0.1.0");
  const signer = new SigningKeyRing([keys[0]!]);
  const ctx: ServerContext = {
    index,
    delivery: new ArtifactDelivery(() => storage, silentLogger),
    urls: new UrlSigner(new Uint8Array(32).fill(7), TTL_SECONDS, now),
    signer,
    gatekeeper: anonymousGatekeeper,
    log: silentLogger,
    lifecycle,
    ready: () => true,
  };
  const app = createApp(ctx);
  const fast = fastPathOf(app)!;
  const routes = new StaticRoutes(ctx, {}, [modules, providers, versions], options);
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({ write: (l) => logs.push(JSON.parse(l)) });
  const handle = (r: Request) => app.handle(r);
  const withTable = listen(handle, { hostname: "127.0.0.1", port: 0, fast, staticRoutes: routes }, log);
  const fetchPath = listen(handle, { hostname: "127.0.0.1", port: 0, fast }, silentLogger);
  return {
    clock,
    ctx,
    index,
    modules,
    providers,
    versions,
    signer,
    publish,
    routes,
    logs,
    /** The same request to both listeners. */
    async both(text: string): Promise<{ table: Comparable; fetch: Comparable }> {
      return { table: comparable(await rawHttp(withTable.port, text)), fetch: comparable(await rawHttp(fetchPath.port, text)) };
    },
    /** GET through the table's listener (the fetch path answers until promoted), then wait for the promotion's rebuild. */
    async promote(...paths: string[]): Promise<void> {
      for (const path of paths) await rawHttp(withTable.port, request("GET", path));
      await routes.settled();
    },
    stop() {
      routes.stop();
      void withTable.stop(true);
      void fetchPath.stop(true);
      index.close();
    },
  };
}
export type StaticRoutesWorld = Awaited<ReturnType<typeof staticRoutesWorld>>;
