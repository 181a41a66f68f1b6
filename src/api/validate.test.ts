import { describe, expect, test } from "bun:test";
import { Module } from "./kinds.ts";
import { applyDefaults, validateObject } from "./validate.ts";

const module = (spec: unknown, metadata: Record<string, unknown> = { name: "vpc" }) => ({
  apiVersion: "opendepot.defdev.io/v1alpha1",
  kind: "Module",
  metadata,
  spec,
}) as never;

describe("validation", () => {
  test("a valid Module passes", () => {
    expect(validateObject(module({ moduleConfig: { repoOwner: "acme", fileFormat: "zip" }, versions: [{ version: "1.0.0" }] }))).toEqual([]);
  });

  test("errors name the offending field", () => {
    const errors = validateObject(module({ moduleConfig: { repoOwnr: "acme", fileFormat: "rar" }, versions: [{ version: 3 }] }));
    expect(errors).toContainEqual({ field: "spec.moduleConfig.repoOwnr", message: "unknown field" });
    expect(errors).toContainEqual({ field: "spec.moduleConfig.fileFormat", message: 'must be one of "zip", "tar", "tar.gz"' });
    expect(errors).toContainEqual({ field: "spec.versions[0].version", message: "Expected string" });
  });

  test("missing spec, bad names, unknown kinds and top-level fields", () => {
    expect(validateObject(module(undefined))).toContainEqual({ field: "spec", message: "is required" });
    expect(validateObject(module({ moduleConfig: {}, versions: [] }, { name: "Bad_Name" }))[0]!.field).toBe("metadata.name");
    expect(validateObject({ apiVersion: "opendepot.defdev.io/v1alpha1", kind: "Nope", metadata: { name: "x" } } as never)[0]!.field).toBe("kind");
    expect(validateObject({ ...(module({ moduleConfig: {}, versions: [] }) as object), extra: 1 } as never)).toContainEqual({ field: "extra", message: "unknown field" });
  });

  test("CRD defaults are applied on write", () => {
    const obj = module({ moduleConfig: { storageConfig: { presign: { enabled: true } } }, versions: [] }) as { spec: { moduleConfig: { storageConfig: { presign: unknown } } } };
    applyDefaults(obj as never, Module);
    expect(obj.spec.moduleConfig.storageConfig.presign).toEqual({ enabled: true, ttl: "15m", fallbackToProxy: true });
  });
});
