import { describe, expect, test } from "bun:test";
import { API_VERSION } from "./meta.ts";
import { aliasConflicts, aliasNotes, canonicalStorageConfig } from "./storage-aliases.ts";
import { formatErrors, validateObject } from "./validate.ts";

const azure = { accountName: "acct", accountUrl: "https://acct.blob.core.windows.net", subscriptionID: "s", resourceGroup: "g" };
const module = (storageConfig: unknown) => ({ apiVersion: API_VERSION, kind: "Module", metadata: { name: "m" }, spec: { moduleConfig: { storageConfig }, versions: [] } });

describe("storageConfig aliases (the blog's spellings)", () => {
  test("azureBlob → azureStorage, filesystem.path → fileSystem.directoryPath; canonical configs are returned as they are", () => {
    expect(canonicalStorageConfig({ azureBlob: azure })).toEqual({ azureStorage: azure });
    expect(canonicalStorageConfig({ filesystem: { path: "/data/x" }, presign: { enabled: false } })).toEqual({ fileSystem: { directoryPath: "/data/x" }, presign: { enabled: false } });
    expect(canonicalStorageConfig({ filesystem: {} })).toEqual({ fileSystem: {} });
    const canonical = { s3: { bucket: "b", region: "r" } };
    expect(canonicalStorageConfig(canonical)).toBe(canonical);
    expect(canonicalStorageConfig(undefined)).toBeUndefined();
  });

  test("the aliases validate; notes recommend the canonical names", () => {
    expect(formatErrors(validateObject(module({ azureBlob: azure }) as never))).toBe("");
    expect(formatErrors(validateObject(module({ filesystem: { path: "/x" } }) as never))).toBe("");
    expect(aliasNotes({ azureBlob: azure, filesystem: { path: "/x" } })).toEqual([
      "storageConfig.azureBlob is an alias: write storageConfig.azureStorage instead",
      "storageConfig.filesystem.path is an alias: write storageConfig.fileSystem.directoryPath instead",
    ]);
    expect(aliasNotes({ fileSystem: {} })).toEqual([]);
  });

  test("both spellings at once: an error naming both fields, wherever a storageConfig can be", () => {
    expect(formatErrors(validateObject(module({ azureBlob: azure, azureStorage: azure }) as never))).toBe(
      "spec.moduleConfig.storageConfig.azureBlob: spec.moduleConfig.storageConfig.azureBlob and spec.moduleConfig.storageConfig.azureStorage are the same setting: give only spec.moduleConfig.storageConfig.azureStorage",
    );
    const depot = { apiVersion: API_VERSION, kind: "Depot", metadata: { name: "d" }, spec: { global: { storageConfig: { fileSystem: {}, filesystem: { path: "/x" } } }, providerConfigs: [{ name: "aws", storageConfig: { azureBlob: azure, azureStorage: azure } }] } };
    const errors = formatErrors(validateObject(depot as never));
    expect(errors).toContain("spec.global.storageConfig.filesystem.path and spec.global.storageConfig.fileSystem.directoryPath are the same setting");
    expect(errors).toContain("spec.providerConfigs[0].storageConfig.azureBlob and spec.providerConfigs[0].storageConfig.azureStorage are the same setting");
    expect(aliasConflicts({ s3: { bucket: "b", region: "r" } }, "x")).toEqual([]);
  });
});
