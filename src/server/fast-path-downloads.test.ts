// Signed downloads on the fast path must be refused and served exactly as the full way (normalisation → Elysia → the
// archive and zip routes) refuses and serves them. One table of hostile and valid requests (expired, tampered,
// foreign or missing signatures; repeated, extra, reordered or percent-escaped parameters; another key; traversal,
// case and encoding tricks; ranges; HEAD) goes over real sockets to the same app with and without the fast path; the
// answers are compared byte for byte (status line, headers in order, body; Date and the request id aside), and so
// are the access-log lines and the downloads counted. The table also says which requests the fast path must take
// itself: the minted form only, whatever its verdict; everything else it must leave to the full way.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import { SigningKey } from "../artifacts/signing.ts";
import { silentLogger } from "../log.ts";
import { FilesystemStorage } from "../storage/filesystem.ts";
import { locateArtifact } from "../storage/locate.ts";
import { publishModule, publishProvider } from "../../test/support/publish.ts";
import type { RawAnswer } from "../../test/support/raw-http.ts";
import { rawHttp } from "../../test/support/raw-http.ts";
import { listenApp, type ListenedApp } from "../../test/support/fast-path-listener.ts";
import { feedStore, StaticFeed } from "../../test/support/static-feed.ts";
import { createApp } from "./app.ts";
import { ArtifactDelivery } from "./artifact-delivery.ts";
import { moduleArchivePath, providerArtifactPath } from "./artifact-urls.ts";
import { RegistryIndex } from "./registry-index.ts";
import { UrlSigner } from "./url-signer.ts";

const NOW = 1_800_000_000_000;
const KEY = new Uint8Array(32).fill(7);
const PREVIOUS_KEY = new Uint8Array(32).fill(9);
const FOREIGN_KEY = new Uint8Array(32).fill(3);
const TTL = 600;

const moduleObject = (name: string, provider?: string): ModuleObject => ({ apiVersion: API_VERSION, kind: "Module", metadata: { name, namespace: "team" }, spec: { moduleConfig: { provider }, versions: [] } });
const providerObject = (name: string): ProviderObject => ({ apiVersion: API_VERSION, kind: "Provider", metadata: { name, namespace: "team" }, spec: { providerConfig: {}, versions: [] } });

interface World {
  root: string;
  index: RegistryIndex;
  storage: FilesystemStorage;
  archive: VersionObject;
  other: VersionObject;
  missing: VersionObject;
  zip: VersionObject;
}

async function publishAll(): Promise<World> {
  const root = await mkdtemp(join(tmpdir(), "opendepot-fast-dl-"));
  const storage = new FilesystemStorage(root);
  const versions = new StaticFeed<VersionObject>();
  const store = feedStore(versions);
  const index = new RegistryIndex({
    modules: new StaticFeed<ModuleObject>([moduleObject("vpc", "aws")]),
    providers: new StaticFeed<ProviderObject>([providerObject("widget")]),
    versions,
  });
  const files = { "main.tf": 'resource "null_resource" "x" {}\n'.repeat(40) };
  const archive = await publishModule(store, () => storage, { namespace: "team", module: "vpc", version: "1.0.0", files });
  const other = await publishModule(store, () => storage, { namespace: "team", module: "vpc", version: "1.1.0", files: { "main.tf": "# other\n" } });
  // Published, then its bytes deleted from storage: both ways must answer the same 503.
  const missing = await publishModule(store, () => storage, { namespace: "team", module: "vpc", version: "1.2.0", files: { "main.tf": "# gone\n" } });
  await storage.delete(locateArtifact(missing, () => storage).key);
  const zip = await publishProvider(store, () => storage, { namespace: "team", provider: "widget", version: "1.0.0", os: "linux", arch: "amd64", binary: "widget-binary" });
  return { root, index, storage, archive, other, missing, zip };
}

type Served = ListenedApp & { downloads: string[] };
// Every download is an asynchronous answer, which Bun drops when the client half-closes first (raw-http.ts).
const NO_HALF_CLOSE = { halfClose: false };

const servers: Served[] = [];

function serve(w: World, signer: SigningKey, fast: boolean): Served {
  const downloads: string[] = [];
  const app = createApp({
    index: w.index,
    delivery: new ArtifactDelivery(() => w.storage, silentLogger, { onDownload: (v) => downloads.push(v.metadata.name) }),
    // The signing key first, a rotated-out one still accepted (the signer is new), and one fixed clock.
    urls: new UrlSigner([KEY, PREVIOUS_KEY], TTL, () => NOW),
    signer,
    gatekeeper: { authorize: () => undefined },
    log: silentLogger,
    ready: () => true,
  });
  const served = Object.assign(listenApp(app, fast), { downloads });
  servers.push(served);
  return served;
}

/** `fast`: whether the fast path must answer it itself (undefined: either; Bun resolves dot segments, escaped or not, in request.url). */
type Case = { name: string; target: string; headers?: Record<string, string>; method?: string; fast?: boolean };

function corpus(w: World): Case[] {
  const expires = Math.ceil((NOW / 1000 + TTL) / 60) * 60;
  const sig = (path: string, v: VersionObject, o: { key?: Uint8Array; expires?: number; binding?: string } = {}) =>
    new UrlSigner(o.key ?? KEY, TTL, () => NOW).sign(path, o.binding ?? v.status!.checksum!, o.expires ?? expires);
  const M = (version: string, file: string) => moduleArchivePath({ ns: "team", name: "vpc", system: "aws", version }, file);
  const a = w.archive.spec.fileName!;
  const archivePath = M("1.0.0", a);
  const archive = sig(archivePath, w.archive);
  const query = archive.slice(archive.indexOf("?"));
  const [expiresParam, signatureParam] = query.slice(1).split("&") as [string, string];
  const signature = signatureParam.slice("signature=".length);
  const flipped = `${signature.slice(0, -1)}${signature.endsWith("A") ? "B" : "A"}`;
  const build = { ns: "team", type: "widget", version: "1.0.0", os: "linux", arch: "amd64" };
  const zipPath = providerArtifactPath("zip", build, w.zip.spec.fileName!);
  const zip = sig(zipPath, w.zip);
  const zipQuery = zip.slice(zip.indexOf("?"));

  const cases: Case[] = [];
  const both = (name: string, target: string, given: boolean | undefined, headers?: Record<string, string>) => {
    const fast = target.includes("/.") || target.toLowerCase().includes("/%2e") ? undefined : given;
    cases.push({ name: `GET ${name}`, target, fast, headers });
    cases.push({ name: `HEAD ${name}`, target, fast, headers, method: "HEAD" });
  };
  // Minted URLs, and minted-shaped ones whose verdict is a refusal: the fast path takes all of them.
  both("archive", archive, true);
  both("zip", zip, true);
  both("archive signed by the previous key", sig(archivePath, w.archive, { key: PREVIOUS_KEY }), true);
  both("archive signed by a foreign key", sig(archivePath, w.archive, { key: FOREIGN_KEY }), true);
  both("archive expired", sig(archivePath, w.archive, { expires: NOW / 1000 - 1 }), true);
  both("archive expiring this second", sig(archivePath, w.archive, { expires: NOW / 1000 }), true);
  both("archive with a tampered signature", `${archivePath}?${expiresParam}&signature=${flipped}`, true);
  both("archive with a tampered expiry", `${archivePath}?expires=${expires + 60}&signature=${signature}`, true);
  both("archive with a leading zero in the expiry", `${archivePath}?expires=0${expires}&signature=${signature}`, true);
  both("archive signed for the replaced bytes", sig(archivePath, w.archive, { binding: w.other.status!.checksum! }), true);
  both("another version's signature", `${M("1.1.0", w.other.spec.fileName!)}${query}`, true);
  both("another file name, the archive's signature", `${M("1.0.0", w.other.spec.fileName!)}${query}`, true);
  both("unknown version", `${M("9.9.9", a)}${query}`, true);
  both("an upper-case file name", `${M("1.0.0", a.toUpperCase())}${query}`, true);
  both("another module system", `${moduleArchivePath({ ns: "team", name: "vpc", system: "azurerm", version: "1.0.0" }, a)}${query}`, true);
  both("artifact missing from storage", sig(M("1.2.0", w.missing.spec.fileName!), w.missing), true);
  both("zip with the archive's signature", `${zipPath}${query}`, true);
  both("zip for another platform", `${providerArtifactPath("zip", { ...build, os: "darwin" }, w.zip.spec.fileName!)}${zipQuery}`, true);
  both("zip under another file name", `${providerArtifactPath("zip", build, a)}${zipQuery}`, true);
  for (const range of ["bytes=0-9", "bytes=5-", "bytes=-3", "bytes=0-", "bytes=99999999-", "bytes=3-1", "bytes=0-1,4-5", "items=0-1"]) {
    both(`archive, Range ${range}`, archive, true, { range });
  }
  both("archive, If-None-Match its ETag", archive, true, { "if-none-match": `"${w.archive.status!.checksum}"` });
  both("archive from OpenTofu", archive, true, { "user-agent": "OpenTofu/1.8.0" });
  // Everything else goes the full way, which accepts some of it (reordered parameters, a `v` prefix) and refuses
  // the rest in its own words.
  const s = `signature=${signature}`;
  for (const [name, q] of [
    ["no query", ""],
    ["an empty query", "?"],
    ["only the expiry", `?${expiresParam}`],
    ["only the signature", `?${s}`],
    ["reordered parameters", `?${s}&${expiresParam}`],
    ["a repeated expiry", `?${expiresParam}&expires=1&${s}`],
    ["a repeated expiry, the other first", `?expires=1&${expiresParam}&${s}`],
    ["a repeated signature", `?${expiresParam}&${s}&signature=${flipped}`],
    ["an extra parameter", `?${expiresParam}&${s}&x=1`],
    ["a key parameter", `?${expiresParam}&${s}&key=0123456789ABCDEF`],
    ["a trailing ampersand", `?${expiresParam}&${s}&`],
    ["an escaped expiry digit", `?expires=%3${String(expires)[0]}${String(expires).slice(1)}&${s}`],
    ["an escaped parameter name", `?%65xpires=${expires}&${s}`],
    ["an escaped signature character", `?${expiresParam}&signature=${signature.slice(0, -1)}%${signature.charCodeAt(signature.length - 1).toString(16)}`],
    ["an invalid escape", `?${expiresParam}&${s}%ff`],
    ["a plus in the expiry", `?expires=+${expires}&${s}`],
    ["a 13-digit expiry", `?expires=1${String(expires).padStart(12, "0")}&${s}`],
    ["a 129-character signature", `?${expiresParam}&signature=${"A".repeat(129)}`],
    ["upper-case parameter names", `?EXPIRES=${expires}&SIGNATURE=${signature}`],
    ["a semicolon separator", `?${expiresParam};${s}`],
    ["a fragment", `${query}#x`],
  ] as const) {
    both(`archive with ${name}`, `${archivePath}${q}`, false);
  }
  for (const [name, path] of [
    ["a v-prefixed version", M("v1.0.0", a)],
    ["a dot segment", `${M("1.0.0", "")}../archive/${a}`],
    ["a current-directory segment", `${M("1.0.0", "")}./${a}`],
    ["an escaped dot-dot", `${M("1.0.0", "")}%2e%2e/archive/${a}`],
    ["an escaped slash", archivePath.replace(`/archive/`, "/archive%2F")],
    ["an escaped file name character", `${M("1.0.0", "")}${a.slice(0, -3)}%7Aip`],
    ["a doubled slash", archivePath.replace("/archive/", "//archive/")],
    ["a trailing slash", `${archivePath}/`],
    ["an upper-case Archive segment", archivePath.replace("/archive/", "/Archive/")],
    ["an upper-case namespace", archivePath.replace("/team/", "/Team/")],
    ["an upper-case Modules segment", archivePath.replace("/modules/", "/Modules/")],
    ["an extra segment", `${archivePath}/x`],
    ["a non-ASCII file name", `${M("1.0.0", "")}\u00e9${a}`],
  ] as const) {
    both(`archive at ${name}`, `${path}${query}`, false);
  }
  // Bun turns a backslash into a slash in request.url (as URL parsers do for http), so either way may take it.
  both("archive at a backslash", `${archivePath.replace("/archive/", "/archive\\")}${query}`, undefined);
  both("zip with reordered parameters", `${zipPath}?${zipQuery.slice(1).split("&").reverse().join("&")}`, false);
  both("zip at an upper-case platform", `${providerArtifactPath("zip", { ...build, os: "Linux" }, w.zip.spec.fileName!)}${zipQuery}`, false);
  both("zip at a v-prefixed version", `${providerArtifactPath("zip", { ...build, version: "v1.0.0" }, w.zip.spec.fileName!)}${zipQuery}`, false);
  return cases;
}

const request = (c: Case) => `${c.method ?? "GET"} ${c.target} HTTP/1.1\r\nHost: registry.test\r\n${Object.entries(c.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("")}Connection: close\r\n\r\n`;
const normalise = (a: RawAnswer) => ({
  status: a.status,
  headers: a.headers.filter(([k]) => k !== "date").map(([k, v]) => [k, k === "x-request-id" ? "(id)" : v]),
  body: Buffer.from(a.body).toString("base64"),
});
const logShape = (l: Record<string, unknown>) => ({ ...l, time: 0, requestId: 0, durationMs: 0 });

let world: World;
let signer: SigningKey;
beforeAll(async () => {
  signer = await SigningKey.generate({ name: "Test", email: "test@example.com", rsaBits: 2048 });
  world = await publishAll();
}, 60_000);
afterAll(async () => {
  for (const s of servers) s.stop();
  await rm(world.root, { recursive: true, force: true });
});

describe("signed downloads: the fast path vs the full way", () => {
  test("every answer is the same, byte for byte, and so are the access log and the downloads counted", async () => {
    const fast = serve(world, signer, true);
    const full = serve(world, signer, false);
    const cases = corpus(world);
    const statuses = new Map<number, number>();
    for (const c of cases) {
      const before = fast.fastAnswers;
      const a = normalise(await rawHttp(fast.port, request(c), NO_HALF_CLOSE));
      const b = normalise(await rawHttp(full.port, request(c), NO_HALF_CLOSE));
      expect({ case: c.name, ...a }).toEqual({ case: c.name, ...b });
      if (c.fast !== undefined) expect({ case: c.name, fast: fast.fastAnswers > before }).toEqual({ case: c.name, fast: c.fast });
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    }
    expect(fast.logs.map(logShape)).toEqual(full.logs.map(logShape));
    expect(fast.logs).toHaveLength(cases.length);
    expect(full.fastAnswers).toBe(0);
    expect(fast.downloads).toEqual(full.downloads);
    // The table reaches every kind of answer: served, ranged, unsatisfiable, refused, not found, unavailable.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 206, 400, 403, 404, 416, 503]));
    // And the valid URLs really downloaded: the archive and the zip, whole and from byte 0, on both servers alike.
    expect(fast.downloads.filter((n) => n === world.archive.metadata.name).length).toBeGreaterThan(3);
    expect(fast.downloads).toContain(world.zip.metadata.name);
  }, 60_000);

  test("what the fast path serves is the stored artifact", async () => {
    const fast = serve(world, signer, true);
    const expires = Math.ceil((NOW / 1000 + TTL) / 60) * 60;
    const path = moduleArchivePath({ ns: "team", name: "vpc", system: "aws", version: "1.0.0" }, world.archive.spec.fileName!);
    const target = new UrlSigner(KEY, TTL, () => NOW).sign(path, world.archive.status!.checksum!, expires);
    const got = await rawHttp(fast.port, request({ name: "archive", target, fast: true }), NO_HALF_CLOSE);
    const stored = await new Response((await world.storage.get(locateArtifact(world.archive, () => world.storage).key)).body).bytes();
    expect(got.status).toBe(200);
    expect(Buffer.from(got.body).equals(Buffer.from(stored))).toBe(true);
    expect(new Bun.CryptoHasher("sha256").update(got.body).digest("base64")).toBe(world.archive.status!.checksum!);
    expect(fast.fastAnswers).toBe(1);
  });
});
