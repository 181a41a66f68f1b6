import { describe, expect, test } from "bun:test";
import { artifactFileName, derivedName, inlineModuleName, isArtifactFileName, isLabelValue, isObjectName, labelValue, moduleArchiveFormat, moduleVersionName, nameHash, ownerMarks, ownerNameFrom, providerVersionName, sanitizeVersion, unservableName } from "./naming.ts";

describe("naming rules (reference §10)", () => {
  test.each([
    ["v5.1.0", "5-1-0"],
    ["5.1.0", "5-1-0"],
    ["V1.0.0-RC_1", "1-0-0-rc-1"],
    ["1.0.0+build/7", "1-0-0+build-7"],
  ])("sanitizeVersion(%p) = %p", (input, expected) => {
    expect(sanitizeVersion(input)).toBe(expected);
  });

  test("module and provider Version names", () => {
    expect(moduleVersionName("terraform-aws-vpc", "v5.1.0")).toBe("terraform-aws-vpc-5-1-0");
    expect(providerVersionName("aws", "5.80.0", "linux", "amd64")).toBe("aws-5-80-0-linux-amd64");
    expect(providerVersionName("AWS", "v5.80.0", "Linux", "x86_64")).toBe("aws-5-80-0-linux-x86-64");
  });

  test("artifact file names are UUIDv7 with the extension, and nothing else passes the check", () => {
    const zip = artifactFileName(".zip");
    const tgz = artifactFileName("tar.gz");
    expect(zip).toMatch(/^[0-9a-f-]{36}\.zip$/);
    expect(zip[14]).toBe("7");
    expect(isArtifactFileName(zip)).toBe(true);
    expect(isArtifactFileName(tgz)).toBe(true);
    for (const bad of ["../x.zip", `${zip}/..`, zip.replace(".zip", ".exe"), crypto.randomUUID() + ".zip", `${zip}\0`]) {
      expect(isArtifactFileName(bad)).toBe(false);
    }
  });

  test("fileFormat zip → zip, anything else → tar.gz (v0.9)", () => {
    expect(moduleArchiveFormat("zip")).toBe("zip");
    expect(moduleArchiveFormat("tar")).toBe("tar.gz");
    expect(moduleArchiveFormat(undefined)).toBe("tar.gz");
  });
});

describe("inline module Versions (the runbook's Version without moduleConfigRef.name)", () => {
  test("name, else the repoUrl's repository, else the Version name without its version suffix", () => {
    expect(inlineModuleName({ name: "vpc", repoUrl: "https://github.com/a/b" }, "x-1-0-0", "1.0.0")).toBe("vpc");
    expect(inlineModuleName({ repoUrl: "https://github.com/terraform-aws-modules/terraform-aws-s3-bucket" }, "whatever", "4.3.0")).toBe("terraform-aws-s3-bucket");
    expect(inlineModuleName({ repoUrl: "https://github.com/o/repo.git" }, "whatever", "4.3.0")).toBe("repo");
    expect(inlineModuleName({}, "terraform-aws-s3-bucket-4-3-0", "4.3.0")).toBe("terraform-aws-s3-bucket");
    expect(inlineModuleName({}, "terraform-aws-s3-bucket-4-3-0", "v4.3.0")).toBe("terraform-aws-s3-bucket");
    expect(inlineModuleName({ repoUrl: "https://github.com/o/../../x" }, "odd", "1.0.0")).toBeUndefined();
    expect(inlineModuleName(undefined, "4-3-0", "4.3.0")).toBeUndefined();
    expect(inlineModuleName({ repoUrl: "https://github.com/o/.." }, "y", "1.0.0")).toBeUndefined();
  });
});

describe("names and label values within Kubernetes limits", () => {
  const long = (n: number) => `a${"-bcdefghij".repeat(30)}`.slice(0, n - 1) + "z";

  test("label values: unchanged when valid, else cut to 63 with a stable hash of the full value", () => {
    expect(labelValue("terraform-aws-vpc")).toBe("terraform-aws-vpc");
    expect(labelValue(long(63))).toBe(long(63));
    const cut = labelValue(long(64));
    expect(cut.length).toBeLessThanOrEqual(63);
    expect(cut.length).toBeGreaterThan(55);
    expect(isLabelValue(cut)).toBe(true);
    expect(cut).toBe(labelValue(long(64))); // stable
    expect(cut.endsWith(nameHash(long(64)))).toBe(true);
    expect(labelValue(long(200))).not.toBe(labelValue(`${long(199)}y`));
    for (const v of [long(253), "a.".repeat(40), "-x-".repeat(30), "é".repeat(70)]) expect(isLabelValue(labelValue(v))).toBe(true);
  });

  test("derived names: `<base>-<suffix>` when it fits 253, else cut with a hash, keeping the suffix", () => {
    expect(derivedName("vpc-1-2-0", "readme")).toBe("vpc-1-2-0-readme");
    const n = derivedName(long(253), "readme");
    expect(n).toHaveLength(253);
    expect(n.endsWith("-readme")).toBe(true);
    expect(isObjectName(n)).toBe(true);
    expect(derivedName(long(253), "docs")).not.toBe(n.replace(/readme$/, "docs"));
    expect(moduleVersionName(long(253), "1.2.0").endsWith("-1-2-0")).toBe(true);
    expect(isObjectName(providerVersionName(long(253), "5.80.0", "linux", "amd64"))).toBe(true);
    expect(moduleVersionName(long(253), "1.2.0")).not.toBe(moduleVersionName(`${long(252)}y`, "1.2.0"));
  });

  test("owner marks: the cut label and, only then, the full name in an annotation read back by ownerNameFrom", () => {
    expect(ownerMarks({ k: "short" })).toEqual({ labels: { k: "short" }, annotations: {} });
    const marks = ownerMarks({ k: long(100) });
    expect(marks.annotations.k).toBe(long(100));
    expect(ownerNameFrom(marks, "k")).toBe(long(100));
    // A relabelled object: the stale annotation no longer counts.
    expect(ownerNameFrom({ labels: { k: "other" }, annotations: marks.annotations }, "k")).toBe("other");
  });

  test("names the registry cannot serve", () => {
    expect(unservableName("terraform-aws-vpc")).toBeUndefined();
    expect(unservableName(long(253))).toBeUndefined();
    expect(unservableName("has.dot")).toContain("'.'");
  });
});
