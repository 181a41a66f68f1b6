import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../cli/flags.ts";
import { modeDefaults, policyDocument } from "../roles/storage-policy.ts";
import { storageFactory } from "./factory.ts";
import { FilesystemStorage } from "./filesystem.ts";
import { PolicyDocumentError, parsePolicyDocument } from "./policy-document.ts";
import { StoragePolicy, isAzureAccountUrl, resolveReal } from "./policy.ts";

const dir = mkdtempSync(join(tmpdir(), "opendepot-policy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const k8s = (extra: Parameters<typeof policyDocument>[2] = {}) => new StoragePolicy(policyDocument({}, { kind: "kubernetes", ownNamespace: "opendepot-system" }, extra));
const field = (p: StoragePolicy, ns: string, config: Parameters<StoragePolicy["check"]>[1]) => p.check(ns, config)?.field;

describe("storage policy", () => {
  test("Kubernetes default: clouds' own endpoints only, buckets only as listed, own namespace trusted", () => {
    const p = k8s();
    expect(field(p, "team-a", { s3: { bucket: "anything", region: "eu-west-1" } })).toBe("s3.bucket");
    expect(field(p, "team-a", { gcs: { bucket: "anything" } })).toBe("gcs.bucket");
    expect(field(p, "team-a", { azureStorage: { accountName: "acct", accountUrl: "https://acct.blob.core.windows.net", subscriptionID: "", resourceGroup: "" } })).toBe("azureStorage.accountName");
    expect(field(p, "team-a", { gcs: { bucket: "anything", endpoint: "http://127.0.0.1:1" } })).toBe("gcs.endpoint");
    expect(p.check("opendepot-system", { gcs: { bucket: "anything", endpoint: "http://127.0.0.1:1" } })).toBeUndefined();
    // No storageConfig / fileSystem without a directory: the operator's default directory.
    expect(p.check("team-a", undefined)).toBeUndefined();
    expect(p.check("team-a", { fileSystem: {} })).toBeUndefined();
  });

  test("per-namespace rules with {namespace} globs; another team's bucket is refused", () => {
    const p = k8s({ default: { buckets: ["registry-{namespace}-*"] }, namespaces: { "team-b": { backends: ["gcs"], buckets: ["shared-b"] } } });
    expect(p.check("team-a", { s3: { bucket: "registry-team-a-artifacts", region: "us-east-1" } })).toBeUndefined();
    expect(field(p, "team-a", { s3: { bucket: "registry-team-b-artifacts", region: "us-east-1" } })).toBe("s3.bucket");
    expect(field(p, "team-a", { s3: { bucket: "shared-b", region: "us-east-1" } })).toBe("s3.bucket");
    expect(p.check("team-b", { gcs: { bucket: "shared-b" } })).toBeUndefined();
    expect(field(p, "team-b", { s3: { bucket: "shared-b", region: "us-east-1" } })).toBe("s3");
  });

  test("listed endpoints are compared by origin; the message names namespace and value", () => {
    const p = k8s({ default: { endpoints: ["https://minio.storage.svc:9000"], buckets: ["*"] } });
    expect(p.check("team-a", { s3: { bucket: "b1", region: "us-east-1", endpoint: "https://minio.storage.svc:9000/" } })).toBeUndefined();
    const v = p.check("team-a", { s3: { bucket: "b1", region: "us-east-1", endpoint: "https://minio.storage.svc:9001" } });
    expect(v?.message).toContain("s3.endpoint");
    expect(v?.message).toContain("team-a");
    expect(v?.message).toContain("9001");
  });

  test("the HTTP-layer guard: cloud services, listed origins and their bucket subdomains; nothing else", () => {
    const p = k8s({ default: { endpoints: ["https://minio.internal:9000"] } });
    const g = p.endpointGuard("team-a", { s3: { bucket: "b1", region: "us-east-1" } });
    expect(g(new URL("https://b1.s3.us-east-1.amazonaws.com/key"))).toBeUndefined();
    expect(g(new URL("https://storage.googleapis.com/storage/v1/b/x"))).toBeUndefined();
    expect(g(new URL("https://minio.internal:9000/b1/key"))).toBeUndefined();
    expect(g(new URL("https://b1.minio.internal:9000/key"))).toBeUndefined();
    expect(g(new URL("http://minio.internal:9000/b1/key"))).toBeString();
    expect(g(new URL("http://s3.us-east-1.amazonaws.com/"))).toBeString(); // never plain http with credentials
    expect(g(new URL("https://amazonaws.com.evil.example/"))).toBeString();
    expect(g(new URL("http://169.254.169.254/latest"))).toBeString();
  });

  test("Azure: the account's own endpoint is not a custom endpoint; a look-alike is", () => {
    expect(isAzureAccountUrl("https://acct.blob.core.windows.net", "acct")).toBe(true);
    expect(isAzureAccountUrl("https://acct.blob.core.windows.net/", "acct")).toBe(true);
    expect(isAzureAccountUrl("https://other.blob.core.windows.net", "acct")).toBe(false);
    expect(isAzureAccountUrl("https://acct.blob.core.windows.net.evil.example", "acct")).toBe(false);
    expect(isAzureAccountUrl("http://acct.blob.core.windows.net", "acct")).toBe(false);
    expect(isAzureAccountUrl("https://acct.blob.core.windows.net:8443", "acct")).toBe(false);
  });

  test("directoryPath must resolve inside an allowed root, after .. and symlinks", () => {
    const root = join(dir, "roots", "team-a");
    mkdirSync(root, { recursive: true });
    mkdirSync(join(dir, "outside"), { recursive: true });
    symlinkSync(join(dir, "outside"), join(root, "escape"));
    const p = k8s({ default: { filesystemRoots: [join(dir, "roots", "{namespace}")] } });
    const fs = (directoryPath: string) => ({ fileSystem: { directoryPath } });
    expect(p.check("team-a", fs(root))).toBeUndefined();
    expect(p.check("team-a", fs(join(root, "new", "sub")))).toBeUndefined();
    expect(field(p, "team-a", fs(join(root, "..", "team-b")))).toBe("fileSystem.directoryPath");
    expect(field(p, "team-a", fs(`${root}/../../outside`))).toBe("fileSystem.directoryPath");
    expect(field(p, "team-a", fs(join(root, "escape")))).toBe("fileSystem.directoryPath");
    expect(field(p, "team-a", fs(join(root, "escape", "deeper")))).toBe("fileSystem.directoryPath");
    expect(field(p, "team-a", fs(`${root}-evil`))).toBe("fileSystem.directoryPath"); // a prefix is not a parent
    expect(field(p, "team-a", fs("/etc"))).toBe("fileSystem.directoryPath");
    expect(field(p, "team-b", fs(root))).toBe("fileSystem.directoryPath");
    expect(resolveReal(join(root, "escape", "x"))).toBe(join(resolveReal(join(dir, "outside")), "x"));
  });

  test("standalone default: single tenant, any bucket, filesystem only under the data dir, no custom endpoints", () => {
    const p = new StoragePolicy(modeDefaults({ kind: "standalone", dataDir: join(dir, "data") }));
    expect(p.check("team-a", { s3: { bucket: "anything", region: "us-east-1" } })).toBeUndefined();
    expect(p.check("team-a", { fileSystem: { directoryPath: join(dir, "data", "artifacts-2") } })).toBeUndefined();
    expect(field(p, "team-a", { fileSystem: { directoryPath: join(dir, "elsewhere") } })).toBe("fileSystem.directoryPath");
    expect(field(p, "default", { s3: { bucket: "b1", region: "us-east-1", endpoint: "http://127.0.0.1:9000" } })).toBe("s3.endpoint");
  });

  test("the factory refuses before building anything; an allowed config is built and cached per namespace", () => {
    const root = join(dir, "factory");
    const f = storageFactory({ defaultRoot: root, policy: k8s({ default: { filesystemRoots: [root] } }) });
    expect(() => f({ fileSystem: { directoryPath: "/" } }, "team-a")).toThrow("fileSystem.directoryPath");
    const a = f({ fileSystem: { directoryPath: join(root, "x") } }, "team-a");
    expect(a).toBeInstanceOf(FilesystemStorage);
    expect(f({ fileSystem: { directoryPath: join(root, "x") } }, "team-a")).toBe(a);
    expect(f({ fileSystem: { directoryPath: join(root, "x") } }, "team-b")).not.toBe(a);
  });
});

describe("policy document and flags", () => {
  test("strict: unknown fields, backends and relative roots are errors that name the field", () => {
    expect(() => parsePolicyDocument("default: { bucket: [x] }")).toThrow(/default\.bucket: unknown field/);
    expect(() => parsePolicyDocument("namespaces: { a: { backends: [ftp] } }")).toThrow(/namespaces\.a\.backends: unknown backend "ftp"/);
    expect(() => parsePolicyDocument("default: { filesystemRoots: [data] }")).toThrow(PolicyDocumentError);
    expect(() => parsePolicyDocument("default: { endpoints: [ftp://x] }")).toThrow(/not http/);
    expect(() => parsePolicyDocument("x".repeat(300_000))).toThrow(/larger than/);
    const doc = parsePolicyDocument('{"trustedNamespaces":["ops"],"namespaces":{"team-a":{"buckets":["a-*"]}}}');
    expect(doc.namespaces?.["team-a"]?.buckets).toEqual(["a-*"]);
  });

  test("flags set the default rule over the file's; trusted namespaces default to the server's own", () => {
    const mode = { kind: "kubernetes", ownNamespace: "platform" } as const;
    const file = parsePolicyDocument("default: { buckets: [from-file] }\nnamespaces: { team-a: { buckets: [a] } }");
    const doc = policyDocument({ "storage-allowed-endpoints": "https://minio:9000", "storage-allowed-buckets": "flag-*" }, mode, file);
    expect(doc.trustedNamespaces).toEqual(["platform"]);
    expect(doc.default?.buckets).toEqual(["flag-*"]);
    expect(doc.default?.endpoints).toEqual(["https://minio:9000"]);
    expect(doc.namespaces?.["team-a"]?.buckets).toEqual(["a"]);
    expect(policyDocument({ "storage-trusted-namespaces": "none" }, mode).trustedNamespaces).toEqual([]);
    expect(() => policyDocument({ "storage-allowed-backends": "s3,ftp" }, mode)).toThrow(UsageError);
    expect(() => policyDocument({ "storage-filesystem-roots": "relative/dir" }, mode)).toThrow(/absolute/);
  });
});
