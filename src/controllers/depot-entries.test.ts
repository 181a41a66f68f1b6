import { describe, expect, test } from "bun:test";
import type { DepotObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import type { DepotModuleConfig, DepotSpec } from "../api/types.ts";
import { resolveEntries, type ModuleEntry, type ProviderEntry } from "./depot-entries.ts";

const depot = (spec: DepotSpec): DepotObject => ({ apiVersion: API_VERSION, kind: "Depot", metadata: { name: "d", namespace: "ns" }, spec });
const GLOBAL: DepotSpec["global"] = {
  storageConfig: { s3: { bucket: "global", region: "us-east-1" } },
  githubClientConfig: { useAuthenticatedClient: true },
  moduleConfig: { fileFormat: "zip", immutable: true, versionHistoryLimit: 5, provider: "ignored" },
};

describe("resolveEntries", () => {
  test("modules inherit storage, GitHub client, fileFormat, immutable and versionHistoryLimit; entry fields win", () => {
    const { entries, invalid } = resolveEntries(
      depot({
        global: GLOBAL,
        moduleConfigs: [
          { name: "terraform-aws-vpc", provider: "aws", repoOwner: "acme", versionConstraints: ">= 1.0.0", discoverTags: true },
          {
            name: "terraform-aws-s3",
            provider: "aws",
            repoOwner: "acme",
            versionConstraints: "~> 2.1",
            fileFormat: "tar",
            immutable: false,
            versionHistoryLimit: 2,
            storageConfig: { fileSystem: { directoryPath: "/x" } },
            githubClientConfig: { useAuthenticatedClient: false },
            repoUrl: "https://example.com/s3",
          },
        ],
      }),
    );
    expect(invalid).toEqual([]);
    const [vpc, s3] = entries as ModuleEntry[];
    expect(vpc!.config).toEqual({
      name: "terraform-aws-vpc",
      provider: "aws",
      repoOwner: "acme",
      versionConstraints: ">= 1.0.0",
      storageConfig: { s3: { bucket: "global", region: "us-east-1" } },
      githubClientConfig: { useAuthenticatedClient: true },
      fileFormat: "zip",
      immutable: true,
      versionHistoryLimit: 5,
      repoUrl: "https://github.com/acme/terraform-aws-vpc",
    });
    expect(vpc!.discoverTags).toBe(true);
    expect(vpc!.authenticated).toBe(true);
    expect("discoverTags" in vpc!.config).toBe(false); // a Depot-only field never reaches the Module
    expect(s3!.config).toMatchObject({ fileFormat: "tar", immutable: false, versionHistoryLimit: 2, storageConfig: { fileSystem: { directoryPath: "/x" } }, repoUrl: "https://example.com/s3" });
    expect(s3!.historyLimit).toBe(2);
    expect(s3!.authenticated).toBe(false);
    expect(s3!.discoverTags).toBe(false);
  });

  test("providers inherit storage and GitHub client config; namespace defaults to hashicorp", () => {
    const { entries } = resolveEntries(
      depot({
        global: GLOBAL,
        providerConfigs: [
          { name: "aws", operatingSystems: ["linux"], architectures: ["amd64", "arm64"], versionConstraints: ">= 5.80.0" },
          { name: "datadog", namespace: " DataDog ", operatingSystems: ["linux"], architectures: ["amd64"], versionConstraints: "~> 3.0", storageConfig: { gcs: { bucket: "b" } } },
        ],
      }),
    );
    const [aws, dd] = entries as ProviderEntry[];
    expect(aws!.namespace).toBe("hashicorp");
    expect(aws!.config).toMatchObject({ name: "aws", namespace: "hashicorp", storageConfig: { s3: { bucket: "global" } }, githubClientConfig: { useAuthenticatedClient: true } });
    expect(dd!.namespace).toBe("DataDog");
    expect(dd!.config.storageConfig).toEqual({ gcs: { bucket: "b" } });
  });

  test("bad entries are reported one by one and do not hide the good ones", () => {
    const { entries, invalid, order } = resolveEntries(
      depot({
        moduleConfigs: [
          { name: "ok", repoOwner: "acme", versionConstraints: ">= 1.0.0" },
          { name: "bad-constraint", repoOwner: "acme", versionConstraints: ">= banana" },
          { name: "no-constraint", repoOwner: "acme" } as DepotModuleConfig, // stored before the schema required it
          { repoOwner: "acme", versionConstraints: ">= 1.0.0" },
          { name: "no-owner", versionConstraints: ">= 1.0.0" },
          { name: "Upper_Case", repoOwner: "acme", versionConstraints: ">= 1.0.0" },
          { name: "ok", repoOwner: "other", versionConstraints: ">= 1.0.0" },
        ],
        providerConfigs: [
          { name: "aws", versionConstraints: ">= 5.0.0" },
          { name: "ok", operatingSystems: ["linux"], architectures: ["amd64"], versionConstraints: "~> 1" },
        ],
      }),
    );
    expect(entries.map((e) => `${e.kind}/${e.name}`)).toEqual(["Module/ok", "Provider/ok"]);
    expect(invalid.map((i) => [i.kind, i.name, i.reason, i.named])).toEqual([
      ["Module", "bad-constraint", "InvalidConstraint", true],
      ["Module", "no-constraint", "InvalidConstraint", true],
      ["Module", "moduleConfigs[3]", "InvalidSpec", false],
      ["Module", "no-owner", "InvalidSpec", true],
      ["Module", "Upper_Case", "InvalidSpec", false],
      ["Module", "moduleConfigs[6]", "InvalidSpec", false], // a duplicate name stays with the first entry
      ["Provider", "aws", "InvalidSpec", true],
    ]);
    expect(order).toEqual([
      "Module/ok", "Module/bad-constraint", "Module/no-constraint", "Module/moduleConfigs[3]", "Module/no-owner",
      "Module/Upper_Case", "Module/moduleConfigs[6]", "Provider/aws", "Provider/ok",
    ]);
    expect(invalid[0]!.error).toContain('">= banana"');
    expect(invalid[1]!.error).toMatch(/versionConstraints is required/);
    expect(invalid[5]!.error).toMatch(/another module entry is named "ok"/);
    expect(invalid[6]!.error).toMatch(/operatingSystems and architectures are required/);
  });
});
