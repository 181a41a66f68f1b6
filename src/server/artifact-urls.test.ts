// One owner of artifact URLs: what it mints it accepts, on exactly the route it was minted for and no other, and
// nothing else (tampered, expired, for another build, or for a replaced artifact) — each a 403 with a reason.
import { describe, expect, test } from "bun:test";
import type { VersionObject } from "../api/kinds.ts";
import { hexToBase64 } from "../artifacts/hash.ts";
import { ArtifactUrls, moduleArchivePath, providerArtifactPath, shasumsOf, type ProviderArtifact } from "./artifact-urls.ts";
import type { ServerContext } from "./context.ts";
import { Refusal } from "./http.ts";
import { BadRequest } from "./params.ts";
import type { RegistryIndex } from "./registry-index.ts";
import { UrlSigner } from "./url-signer.ts";

const SUM = hexToBase64("ab".repeat(32));
const version = (spec: Partial<VersionObject["spec"]>, checksum = SUM): VersionObject =>
  ({ apiVersion: "opendepot.defdev.io/v1alpha1", kind: "Version", metadata: { name: "v", namespace: "team-a" }, spec: { type: "Provider", version: "1.2.0", fileName: "0190c7a2-aaaa-7bbb-8ccc-0123456789ab.zip", ...spec }, status: { checksum } }) as VersionObject;

function setup(now = () => 1_000_000_000_000) {
  const build = version({ operatingSystem: "linux", architecture: "amd64" });
  const module = version({ type: "Module", fileName: "0190c7a2-aaaa-7bbb-8ccc-0123456789ab.tar.gz" });
  const current = { build, module };
  const index = {
    providerBuild: (ns: string, type: string, v: string, os: string, arch: string) => (ns === "team-a" && type === "aws" && v === "1.2.0" && os === "linux" && arch === "amd64" ? current.build : undefined),
    moduleVersion: (ns: string, name: string, v: string) => (ns === "team-a" && name === "vpc" && v === "1.2.0" ? current.module : undefined),
  } as unknown as RegistryIndex;
  const ctx = { urls: new UrlSigner(new Uint8Array(32).fill(7), 600, now), publicUrl: "https://registry.example", index } as unknown as ServerContext;
  return { links: new ArtifactUrls(ctx), current, build, module };
}

const b = { ns: "team-a", type: "aws", version: "1.2.0", os: "linux", arch: "amd64" };
const m = { ns: "team-a", name: "vpc", system: "aws", version: "1.2.0" };
const paramsOf = (url: string, extra: Record<string, string> = {}) => ({ namespace: "team-a", type: "aws", name: "vpc", system: "aws", version: "1.2.0", os: "linux", arch: "amd64", ...extra, _url: url });
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof Refusal) return e.response.status;
    if (e instanceof BadRequest) return 400;
    throw e;
  }
  return 200;
};

describe("artifact URLs", () => {
  test("paths name the artifact, its build and its platform", () => {
    expect(providerArtifactPath("zip", b, "f.zip")).toBe("/opendepot/providers/v1/team-a/aws/1.2.0/download/linux/amd64/f.zip");
    expect(providerArtifactPath("shasums", b, "f.zip")).toBe("/opendepot/providers/v1/team-a/aws/1.2.0/SHA256SUMS/linux/amd64");
    expect(providerArtifactPath("signature", b, "f.zip")).toBe("/opendepot/providers/v1/team-a/aws/1.2.0/SHA256SUMS.sig/linux/amd64");
    expect(moduleArchivePath(m, "f.tar.gz")).toBe("/opendepot/modules/v1/team-a/vpc/aws/1.2.0/archive/f.tar.gz");
  });

  test("a minted URL is accepted on its own route only", () => {
    const { links, build } = setup();
    const kinds: ProviderArtifact[] = ["zip", "shasums", "signature"];
    for (const minted of kinds) {
      const url = links.providerArtifact(minted, b, build);
      expect(url.startsWith("https://registry.example/opendepot/providers/v1/team-a/aws/1.2.0/")).toBe(true);
      for (const route of kinds) {
        const status = refusal(() => links.verifiedProviderArtifact(route, paramsOf(url, { fileName: build.spec.fileName! }), new Request(url)));
        expect([minted, route, status]).toEqual([minted, route, minted === route ? 200 : 403]);
      }
    }
  });

  test("tampered, expired, other-build and replaced-artifact URLs are refused; bad segments are 400s", () => {
    let now = 1_000_000_000_000;
    const { links, build, current } = setup(() => now);
    const url = links.providerArtifact("zip", b, build);
    const params = paramsOf(url, { fileName: build.spec.fileName! });
    expect(refusal(() => links.verifiedProviderArtifact("zip", params, new Request(url.replace(/signature=./, "signature=A"))))).toBe(403);
    expect(refusal(() => links.verifiedProviderArtifact("zip", { ...params, fileName: "other.zip" }, new Request(url)))).toBe(403);
    expect(refusal(() => links.verifiedProviderArtifact("zip", { ...params, arch: "arm64" }, new Request(url)))).toBe(403);
    expect(refusal(() => links.verifiedProviderArtifact("zip", { ...params, arch: "../x" }, new Request(url)))).toBe(400);
    current.build = version({ operatingSystem: "linux", architecture: "amd64" }, hexToBase64("cd".repeat(32)));
    expect(refusal(() => links.verifiedProviderArtifact("zip", params, new Request(url)))).toBe(403);
    current.build = build;
    expect(refusal(() => links.verifiedProviderArtifact("zip", params, new Request(url)))).toBe(200);
    now += 3_600_000;
    expect(refusal(() => links.verifiedProviderArtifact("zip", params, new Request(url)))).toBe(403);
  });

  test("module archives: the URL names the archive; another file name or module is refused", () => {
    const { links, module } = setup();
    const url = links.moduleArchive(m, module);
    const params = paramsOf(url, { fileName: module.spec.fileName! });
    expect(links.verifiedModuleArchive(params, new Request(url))).toBe(module);
    expect(refusal(() => links.verifiedModuleArchive({ ...params, fileName: "x.tar.gz" }, new Request(url)))).toBe(403);
    expect(refusal(() => links.verifiedModuleArchive({ ...params, name: "other" }, new Request(url)))).toBe(403);
  });

  test("SHA256SUMS is the shasums document of the one build", () => {
    const { build } = setup();
    expect(shasumsOf(build)).toBe(`${"ab".repeat(32)}  ${build.spec.fileName}\n`);
    expect(() => shasumsOf(version({ fileName: "a b.zip" }))).toThrow("invalid file name");
  });
});
