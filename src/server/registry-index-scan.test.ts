// A Version held by the scan gate (status.scanVerdict.blocked) is never handed out, wherever the index is asked.
import { expect, test } from "bun:test";
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { API_VERSION, LABELS } from "../api/meta.ts";
import { StaticFeed } from "../../test/support/static-feed.ts";
import { isServable, RegistryIndex } from "./registry-index.ts";

const build = (name: string, os: string, blocked?: boolean): VersionObject => ({
  apiVersion: API_VERSION,
  kind: "Version",
  metadata: { name: `${name}-1-0-0-${os}-amd64`, namespace: "ns", labels: { [LABELS.provider]: name } },
  spec: { type: "Provider", version: "1.0.0", operatingSystem: os, architecture: "amd64", fileName: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.zip", providerConfigRef: { name } },
  status: { synced: true, checksum: "c2hh", h1: "h1:abc=", ...(blocked === undefined ? {} : { scanVerdict: { blocked, reason: blocked ? "ScanPolicyViolation" : "Passed" } }) },
});

test("blocked builds are absent from versions, downloads and the mirror; passed and unscanned ones are served", () => {
  const versions = new StaticFeed<VersionObject>([build("p", "linux", true), build("p", "darwin", false), build("q", "linux")]);
  const providers = new StaticFeed<ProviderObject>([]);
  const index = new RegistryIndex({ modules: new StaticFeed<ModuleObject>(), providers, versions });
  expect(JSON.parse(index.providerVersionsBody("ns", "p")).versions[0].platforms).toEqual([{ os: "darwin", arch: "amd64" }]);
  expect(index.providerBuild("ns", "p", "1.0.0", "linux", "amd64")).toBeUndefined();
  expect(index.providerBuild("ns", "p", "1.0.0", "darwin", "amd64")).toBeDefined();
  expect(index.mirrorBuilds("ns", "p", "1.0.0").map((v) => v.spec.operatingSystem)).toEqual(["darwin"]);
  expect(index.providerBuild("ns", "q", "1.0.0", "linux", "amd64")).toBeDefined();
  // A rescan that blocks a served build takes effect on the next watch event.
  versions.put(build("p", "darwin", true));
  expect(JSON.parse(index.providerVersionsBody("ns", "p")).versions).toEqual([]);
  expect(JSON.parse(index.mirrorVersionsBody("ns", "p")).versions).toEqual({});
  expect(isServable(build("p", "darwin", true))).toBe(false);
});
