import { describe, expect, test } from "bun:test";
import { AzureBlobStorage } from "./azure.ts";
import { NO_BACKEND, backendOf, prefixFor, storageFactory, storageFor } from "./factory.ts";
import { FilesystemStorage } from "./filesystem.ts";
import { GcsStorage } from "./gcs.ts";
import { S3Storage } from "./s3.ts";
import { StorageError } from "./types.ts";

const env = { AWS_EC2_METADATA_DISABLED: "true" };
const s3 = { bucket: "artifacts", region: "eu-west-1", key: "team/a/" };
const azureStorage = { accountName: "acct", accountUrl: "https://acct.blob.core.windows.net", subscriptionID: "s", resourceGroup: "rg" };
const gcs = { bucket: "artifacts-gcs" };

describe("storage factory", () => {
  test("v0.9 precedence: fileSystem → s3 → azureStorage → gcs", () => {
    expect(backendOf({ fileSystem: { directoryPath: "/x" }, s3, azureStorage, gcs })).toBe("fileSystem");
    expect(backendOf({ s3, azureStorage, gcs })).toBe("s3");
    expect(backendOf({ azureStorage, gcs })).toBe("azureStorage");
    expect(backendOf({ gcs })).toBe("gcs");
    const f = storageFactory({ env });
    expect(f({ s3, gcs })).toBeInstanceOf(S3Storage);
    expect(f({ azureStorage })).toBeInstanceOf(AzureBlobStorage);
    expect(f({ gcs })).toBeInstanceOf(GcsStorage);
    expect(f({ fileSystem: { directoryPath: "/tmp/od" } })).toBeInstanceOf(FilesystemStorage);
  });

  test("no backend is a clear Invalid error", () => {
    const f = storageFactory({ env });
    const err = (() => {
      try {
        f({ presign: { enabled: true } });
      } catch (e) {
        return e as StorageError;
      }
    })();
    expect(err).toBeInstanceOf(StorageError);
    expect(err?.kind).toBe("Invalid");
    expect(err?.message).toBe(NO_BACKEND);
    expect(() => storageFactory({})(undefined)).toThrow(NO_BACKEND);
  });

  test("instances are cached per backend config; presign settings do not split the cache", () => {
    const f = storageFactory({ env, defaultRoot: "/tmp/od-default" });
    expect(f({ s3 })).toBe(f({ s3: { ...s3 }, presign: { enabled: true } }));
    expect(f({ s3 })).not.toBe(f({ s3: { ...s3, bucket: "other-bucket" } }));
    expect(f(undefined)).toBe(f(undefined));
    expect(f(undefined)).toBeInstanceOf(FilesystemStorage);
    expect(storageFor({ gcs }, { defaultRoot: "/tmp/x" })).toBe(storageFor({ gcs }, { defaultRoot: "/tmp/x" }));
  });

  test("prefixFor is the normalized S3 key, nothing for other backends", () => {
    expect(prefixFor({ s3 })).toBe("team/a/");
    expect(prefixFor({ gcs })).toBe("");
    expect(prefixFor(undefined)).toBe("");
    expect(() => prefixFor({ s3: { ...s3, key: "../etc" } })).toThrow(StorageError);
  });
});
