import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { GitHubFake } from "../../fixtures/github-fake.ts";
import { repackageModule } from "../artifacts/repackage.ts";
import { GitHubClient, parseLinkHeader, refCandidates } from "./github.ts";
import { UpstreamError } from "./http.ts";
import { createHash } from "node:crypto";
import { sleep } from "../kits/sleep.ts";

const fake = new GitHubFake({ archiveJitter: true });
let client: GitHubClient;

const moduleFiles = (tag: string) => ({
  "main.tf": `variable "name" {}\n# ${tag}\n`,
  "README.md": `# Example ${tag}\n`,
  "modules/sub/main.tf": 'output "x" { value = 1 }\n',
  "scripts/run.sh": { content: "#!/bin/sh\n", mode: 0o755 },
});

beforeAll(async () => {
  await fake.start();
  const releases = Array.from({ length: 250 }, (_, i) => ({ tag: `v1.${i}.0`, prerelease: i % 50 === 7 }));
  fake.addRepo("acme", "terraform-aws-big", { releases, files: moduleFiles });
  fake.addRepo("acme", "terraform-aws-vpc", { releases: ["v1.2.0", "2.0.0", { tag: "v3.0.0-draft", draft: true }], files: moduleFiles });
  fake.addRepo("acme", "tags-only", { tags: ["0.1.0", "0.2.0"] });
  fake.addRepo("acme", "noreadme", { releases: ["v1.0.0"], files: { "main.tf": "" } });
  fake.addRepo("acme", "secret", { releases: ["v1.0.0"], files: moduleFiles, private: true });
  fake.staticTokens.add("test-token");
});
afterAll(() => fake.stop());
beforeEach(() => {
  fake.clearFaults();
  fake.resetStats();
  client = new GitHubClient({ baseUrl: fake.url, baseDelayMs: 1, maxDelayMs: 2 });
});

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const e = await p.then(() => undefined, (err) => err);
  expect(e).toBeInstanceOf(UpstreamError);
  return e as UpstreamError;
}

async function zipNames(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out = new Uint8Array(await new Response(repackageModule(stream, "zip", "zip")).arrayBuffer());
  const { unzipSync } = await import("fflate");
  return Object.keys(unzipSync(out)).sort();
}

describe("releases and tags", () => {
  test("follows Link pagination across all pages (GitHub's /repositories/{id} URLs)", async () => {
    const releases = await client.listReleases("acme", "terraform-aws-big");
    expect(releases.length).toBe(250);
    expect(releases[0]!.tag).toBe("v1.249.0"); // newest first
    expect(releases.filter((r) => r.prerelease).map((r) => r.tag)).toEqual(["v1.207.0", "v1.157.0", "v1.107.0", "v1.57.0", "v1.7.0"]);
    const pages = fake.log.filter((l) => l.server === "api");
    expect(pages.map((l) => l.path + l.query)).toEqual([
      "/repos/acme/terraform-aws-big/releases?per_page=100",
      expect.stringMatching(/^\/repositories\/\d+\/releases\?per_page=100&page=2$/),
      expect.stringMatching(/^\/repositories\/\d+\/releases\?per_page=100&page=3$/),
    ]);
  });

  test("drafts are skipped even when visible to an authenticated caller", async () => {
    const authed = new GitHubClient({ baseUrl: fake.url, token: async () => "test-token" });
    expect((await authed.listReleases("acme", "terraform-aws-vpc")).map((r) => r.tag)).toEqual(["2.0.0", "v1.2.0"]);
  });

  test("tags for repositories without releases", async () => {
    expect(await client.listReleases("acme", "tags-only")).toEqual([]);
    expect((await client.listTags("acme", "tags-only")).map((t) => t.name)).toEqual(["0.2.0", "0.1.0"]);
  });

  test("unknown repositories are NotFound with GitHub's message", async () => {
    const e = await failure(client.listReleases("acme", "nope"));
    expect([e.kind, e.status]).toEqual(["NotFound", 404]);
    expect(e.message).toContain("Not Found");
  });

  test("GitHub Enterprise base URL (/api/v3) works the same way", async () => {
    const ghe = new GitHubClient({ baseUrl: `${fake.url}/api/v3` });
    expect((await ghe.listReleases("acme", "terraform-aws-big")).length).toBe(250);
    expect(fake.log.every((l) => l.path.startsWith("/api/v3/"))).toBe(true);
  });

  test("parseLinkHeader and refCandidates", () => {
    expect(parseLinkHeader('<https://a/x?page=2>; rel="next", <https://a/x?page=5>; rel="last"')).toEqual({ next: "https://a/x?page=2", last: "https://a/x?page=5" });
    expect(parseLinkHeader(null)).toEqual({});
    expect(refCandidates("1.2.0")).toEqual(["v1.2.0", "1.2.0"]);
    expect(refCandidates("v1.2.0")).toEqual(["v1.2.0", "1.2.0"]);
  });
});

describe("archives", () => {
  test("resolveArchive finds v-prefixed and bare tags (v0.9 bug §12.7 not copied)", async () => {
    const a = await client.resolveArchive("acme", "terraform-aws-vpc", "1.2.0", "zip");
    expect(a.ref).toBe("v1.2.0");
    expect(await zipNames(a.stream)).toEqual(["README.md", "main.tf", "modules/", "modules/sub/", "modules/sub/main.tf", "scripts/", "scripts/run.sh"]);
    const b = await client.resolveArchive("acme", "terraform-aws-vpc", "2.0.0", "tar.gz");
    expect(b.ref).toBe("2.0.0");
    await b.stream.cancel();
  });

  test("a missing version names both refs it tried", async () => {
    const e = await failure(client.resolveArchive("acme", "terraform-aws-vpc", "9.9.9", "zip"));
    expect(e.kind).toBe("NotFound");
    expect(e.message).toContain('"v9.9.9" or "9.9.9"');
  });

  test("the redirect to codeload never carries the token", async () => {
    const authed = new GitHubClient({ baseUrl: fake.url, token: async () => "test-token" });
    const s = await authed.downloadArchive("acme", "secret", "v1.0.0", "tar.gz");
    await new Response(s).arrayBuffer();
    const api = fake.log.find((l) => l.server === "api")!;
    const codeload = fake.log.find((l) => l.server === "codeload")!;
    expect([api.authorization, api.status]).toEqual([true, 302]);
    expect([codeload.authorization, codeload.status]).toEqual([false, 200]);
    expect(codeload.query).toMatch(/^\?token=/);
    // Anonymous callers cannot see the private repository at all.
    expect((await failure(client.downloadArchive("acme", "secret", "v1.0.0", "zip"))).kind).toBe("NotFound");
  });

  test("regenerated archives (varying timestamps) repackage to identical bytes", async () => {
    const digest = async () => {
      const { stream } = await client.resolveArchive("acme", "terraform-aws-vpc", "1.2.0", "tar.gz");
      const out = await new Response(repackageModule(stream, "tar.gz", "tar.gz")).arrayBuffer();
      return createHash("sha256").update(new Uint8Array(out)).digest("hex");
    };
    const raw = async () => createHash("sha256").update(new Uint8Array(await new Response(await client.downloadArchive("acme", "terraform-aws-vpc", "v1.2.0", "zip")).arrayBuffer())).digest("hex");
    expect(await raw()).not.toBe(await raw()); // the fake really does regenerate
    expect(await digest()).toBe(await digest());
  });

  test("setTagContent changes what a tag serves", async () => {
    fake.addRepo("acme", "mutable", { releases: ["v1.0.0"] });
    const before = await zipNames((await client.resolveArchive("acme", "mutable", "1.0.0", "zip")).stream);
    fake.setTagContent("acme", "mutable", "v1.0.0", { "main.tf": "", "extra.tf": "" });
    const after = await zipNames((await client.resolveArchive("acme", "mutable", "1.0.0", "zip")).stream);
    expect(before).toEqual(["main.tf"]);
    expect(after).toEqual(["extra.tf", "main.tf"]);
  });
});

describe("README", () => {
  test("base64 JSON content, absent README, bare-tag fallback", async () => {
    expect(await client.getReadme("acme", "terraform-aws-vpc", "v1.2.0")).toBe("# Example v1.2.0\n");
    expect(await client.getReadme("acme", "noreadme", "v1.0.0")).toBeUndefined();
    expect(await client.getReadmeForVersion("acme", "terraform-aws-vpc", "2.0.0")).toBe("# Example 2.0.0\n");
    expect(await client.getReadme("acme", "terraform-aws-vpc", "v1.2.0", 4)).toBe("# Ex");
  });
});

describe("failures", () => {
  test("rate limit (403 + x-ratelimit-reset) surfaces with retryAt and is not hammered", async () => {
    fake.setRateLimit({ remaining: 0, resetInSeconds: 30 });
    const e = await failure(client.listReleases("acme", "terraform-aws-vpc"));
    expect([e.kind, e.status]).toEqual(["RateLimited", 403]);
    expect(e.retryAt!.getTime()).toBeGreaterThan(Date.now() + 25_000);
    expect(fake.stats.apiRequests).toBe(1);
  });

  test("rate limit (429 + retry-after), then success after the reset", async () => {
    fake.setRateLimit({ remaining: 0, resetInSeconds: 1, status: 429 });
    const e = await failure(client.listReleases("acme", "terraform-aws-vpc"));
    expect(e.kind).toBe("RateLimited");
    await sleep(Math.max(0, e.retryAt!.getTime() - Date.now()) + 50);
    expect((await client.listReleases("acme", "terraform-aws-vpc")).length).toBe(2);
  });

  test("a rate limit on the first ref is not mistaken for a missing tag", async () => {
    fake.setRateLimit({ remaining: 0, resetInSeconds: 30 });
    expect((await failure(client.resolveArchive("acme", "terraform-aws-vpc", "2.0.0", "zip"))).kind).toBe("RateLimited");
  });

  test("transient 5xx are retried; a lasting outage is Transient", async () => {
    fake.failNext(502, 2, /releases/);
    expect((await client.listReleases("acme", "terraform-aws-vpc")).length).toBe(2);
    fake.failNext(503, 100, /releases/);
    expect((await failure(client.listReleases("acme", "terraform-aws-vpc"))).kind).toBe("Transient");
  });

  test("codeload outages during the download are retried too", async () => {
    fake.failNext(500, 1, /legacy\.zip/);
    const s = await client.downloadArchive("acme", "terraform-aws-vpc", "v1.2.0", "zip");
    expect((await new Response(s).arrayBuffer()).byteLength).toBeGreaterThan(0);
  });
});
