// The network mirror's documents on the fast path must be answered exactly as the full way (normalisation → Elysia →
// the mirror route) answers them: a table of valid and hostile requests (unknown providers and versions, hostnames
// outside the allow-list, refused callers, yanked builds, case, encoding, queries, `v` prefixes) over real sockets to
// the same app with and without the fast path, compared byte for byte (Date and the request id aside) with the
// access-log lines; the table also says which requests the fast path must take itself.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import { SigningKey } from "../artifacts/signing.ts";
import { silentLogger } from "../log.ts";
import { FilesystemStorage } from "../storage/filesystem.ts";
import { publishProvider } from "../../test/support/publish.ts";
import { rawHttp, type RawAnswer } from "../../test/support/raw-http.ts";
import { listenApp, type ListenedApp } from "../../test/support/fast-path-listener.ts";
import { feedStore, StaticFeed } from "../../test/support/static-feed.ts";
import { createApp } from "./app.ts";
import { ArtifactDelivery } from "./artifact-delivery.ts";
import { forbidden, unauthorized } from "./auth/responses.ts";
import type { Gatekeeper } from "./context.ts";
import { RegistryIndex } from "./registry-index.ts";
import { mirrorConfig } from "./routes-mirror.ts";
import { UrlSigner } from "./url-signer.ts";

const MIRROR_NS = "opendepot-system";
const M = "/opendepot/mirror/v1";
const NOW = 1_800_000_000_000;

const providerObject = (name: string, config: { namespace?: string; name?: string } = {}): ProviderObject => ({
  apiVersion: API_VERSION,
  kind: "Provider",
  metadata: { name, namespace: MIRROR_NS },
  spec: { providerConfig: { ...config, operatingSystems: ["linux"], architectures: ["amd64"] }, versions: [] },
});

/** Provider "vault" needs `Bearer ok` (401 without a token, 403 with another); the rest is open. */
const gatekeeper: Gatekeeper = {
  authorize: async (request, target) => {
    if (target.name !== "vault") return undefined;
    const header = request.headers.get("authorization");
    if (!header) return unauthorized("missing Authorization header", false);
    return header === "Bearer ok" ? undefined : forbidden(`no access to ${target.kind} ${target.name}`);
  },
};

type Served = ListenedApp;
const servers: Served[] = [];
let root: string;
let index: RegistryIndex;
let signer: SigningKey;
let storage: FilesystemStorage;

beforeAll(async () => {
  signer = await SigningKey.generate({ name: "Test", email: "test@example.com", rsaBits: 2048 });
  root = await mkdtemp(join(tmpdir(), "opendepot-fast-mirror-"));
  storage = new FilesystemStorage(root);
  const versions = new StaticFeed<VersionObject>();
  const store = feedStore(versions);
  index = new RegistryIndex(
    { modules: new StaticFeed<ModuleObject>(), providers: new StaticFeed<ProviderObject>([providerObject("aws", { namespace: "hashicorp" }), providerObject("dd", { namespace: "datadog", name: "datadog" }), providerObject("vault")]), versions },
    { yankGraceMs: 60_000, now: () => NOW },
  );
  const publish = (provider: string, version: string, os = "linux", arch = "amd64") =>
    publishProvider(store, () => storage, { namespace: MIRROR_NS, provider, version, os, arch, binary: `${provider} ${version} ${os} ${arch}` });
  await publish("aws", "5.9.0");
  await publish("aws", "5.81.0");
  await publish("aws", "5.81.0", "darwin", "arm64");
  await publish("dd", "3.0.0");
  await publish("vault", "1.0.0");
  // Yanked long ago (grace over) with a newer patch listed: refused as yanked.
  const yanked = await publish("aws", "5.80.0");
  versions.put({ ...yanked, spec: { ...yanked.spec, yanked: { reason: "CVE" } }, status: { ...yanked.status, yankedAt: new Date(NOW - 3_600_000).toISOString() } });
  await publish("aws", "5.80.1");
}, 60_000);
afterAll(async () => {
  for (const s of servers) s.stop();
  await rm(root, { recursive: true, force: true });
});

function serve(fast: boolean): Served {
  const app = createApp({
    index,
    delivery: new ArtifactDelivery(() => storage, silentLogger),
    urls: new UrlSigner(new Uint8Array(32).fill(7), 600, () => NOW),
    signer,
    gatekeeper,
    log: silentLogger,
    mirror: mirrorConfig(MIRROR_NS, undefined),
    lifecycle: { yankGraceMs: 60_000, now: () => NOW },
    ready: () => true,
  });
  const served = listenApp(app, fast);
  servers.push(served);
  return served;
}

type Case = { name: string; target: string; headers?: Record<string, string>; method?: string; fast: boolean };

function corpus(): Case[] {
  const cases: Case[] = [];
  const both = (target: string, fast: boolean, headers?: Record<string, string>, label = "") => {
    cases.push({ name: `GET ${target}${label}`, target, fast, headers });
    cases.push({ name: `HEAD ${target}${label}`, target, fast, headers, method: "HEAD" });
  };
  const tf = `${M}/registry.terraform.io`;
  // Taken by the fast path, whatever the verdict.
  for (const path of [
    `${tf}/hashicorp/aws/index.json`,
    `${M}/registry.opentofu.org/hashicorp/aws/index.json`,
    `${tf}/hashicorp/aws/5.81.0.json`,
    `${tf}/hashicorp/aws/5.9.0.json`,
    `${tf}/hashicorp/aws/5.80.0.json`,
    `${tf}/hashicorp/aws/9.9.9.json`,
    `${tf}/hashicorp/aws/1.0.0-rc.1.json`,
    `${tf}/datadog/datadog/index.json`,
    `${tf}/datadog/datadog/3.0.0.json`,
    `${tf}/hashicorp/nope/index.json`,
    `${tf}/hashicorp/nope/1.0.0.json`,
    `${tf}/other/aws/index.json`,
    `${M}/elsewhere.example/hashicorp/aws/index.json`,
    `${M}/registry.terraform.io:443/hashicorp/aws/index.json`,
    `${tf}/hashicorp/vault/index.json`,
    `${tf}/hashicorp/vault/1.0.0.json`,
  ]) {
    both(path, true);
  }
  both(`${tf}/hashicorp/vault/index.json`, true, { authorization: "Bearer ok" }, " allowed");
  both(`${tf}/hashicorp/vault/1.0.0.json`, true, { authorization: "Bearer no" }, " forbidden");
  both(`${tf}/hashicorp/aws/index.json`, true, { "user-agent": "OpenTofu/1.8.0" }, " from OpenTofu");
  // Left to the full way (its 400s, 404s, and what it accepts in other spellings).
  for (const path of [
    `${tf}/hashicorp/aws/v5.81.0.json`,
    `${tf}/hashicorp/aws/5.81.json`,
    `${tf}/hashicorp/aws/5.81.0.txt`,
    `${tf}/hashicorp/aws/index.JSON`,
    `${tf}/hashicorp/aws/index.json/`,
    `${tf}/hashicorp/aws/index.json?x=1`,
    `${tf}/hashicorp/aws/index.json?`,
    `${tf}/hashicorp/aws/index.json#x`,
    `${tf}/hashicorp/aws/index%2ejson`,
    `${tf}/hashicorp/%61ws/index.json`,
    `${tf}/hashicorp/aws//index.json`,
    `${tf}/HashiCorp/aws/index.json`,
    `${tf}/hashicorp/AWS/index.json`,
    `${M}/Registry.Terraform.IO/hashicorp/aws/index.json`,
    `${M}/registry..terraform.io/hashicorp/aws/index.json`,
    `${M}/-registry.io/hashicorp/aws/index.json`,
    `${M}/registry.terraform.io:0/hashicorp/aws/index.json`,
    `${M}/${"a".repeat(300)}/hashicorp/aws/index.json`,
    `${tf}/hashicorp/aws/index.json/extra`,
    `${tf}/hashicorp/index.json`,
    `/opendepot/mirror/v2/registry.terraform.io/hashicorp/aws/index.json`,
    `${tf}/hashicorp/aws/\u00e9.json`,
  ]) {
    both(path, false);
  }
  return cases;
}

const request = (c: Case) => `${c.method ?? "GET"} ${c.target} HTTP/1.1\r\nHost: registry.test\r\n${Object.entries(c.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("")}Connection: close\r\n\r\n`;
const normalise = (a: RawAnswer) => ({
  status: a.status,
  headers: a.headers.filter(([k]) => k !== "date").map(([k, v]) => [k, k === "x-request-id" ? "(id)" : v]),
  body: Buffer.from(a.body).toString("latin1"),
});
const logShape = (l: Record<string, unknown>) => ({ ...l, time: 0, requestId: 0, durationMs: 0 });

describe("network mirror documents: the fast path vs the full way", () => {
  test("every answer is the same, byte for byte, and so is every access-log line", async () => {
    const fast = serve(true);
    const full = serve(false);
    const cases = corpus();
    const statuses = new Set<number>();
    for (const c of cases) {
      const before = fast.fastAnswers;
      const a = normalise(await rawHttp(fast.port, request(c), { halfClose: false }));
      const b = normalise(await rawHttp(full.port, request(c), { halfClose: false }));
      expect({ case: c.name, ...a }).toEqual({ case: c.name, ...b });
      expect({ case: c.name, fast: fast.fastAnswers > before }).toEqual({ case: c.name, fast: c.fast });
      statuses.add(a.status);
    }
    expect(fast.logs.map(logShape)).toEqual(full.logs.map(logShape));
    expect(fast.logs).toHaveLength(cases.length);
    expect(full.fastAnswers).toBe(0);
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 400, 401, 403, 404]));
  }, 60_000);

  test("the fast path's documents are the mirror's: versions newest first, signed archive URLs with h1 hashes", async () => {
    const fast = serve(true);
    const body = async (path: string) => JSON.parse(new TextDecoder().decode((await rawHttp(fast.port, request({ name: path, target: path, fast: true }), { halfClose: false })).body));
    expect(await body(`${M}/registry.terraform.io/hashicorp/aws/index.json`)).toEqual({ versions: { "5.81.0": {}, "5.80.1": {}, "5.9.0": {} } });
    const doc = await body(`${M}/registry.terraform.io/hashicorp/aws/5.81.0.json`);
    expect(Object.keys(doc.archives)).toEqual(["darwin_arm64", "linux_amd64"]);
    expect(doc.archives.linux_amd64.url).toStartWith(`/opendepot/providers/v1/${MIRROR_NS}/aws/5.81.0/download/linux/amd64/`);
    expect(doc.archives.linux_amd64.hashes[0]).toMatch(/^h1:/);
    expect(fast.fastAnswers).toBe(2);
  });
});
