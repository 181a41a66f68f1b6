import { describe, expect, test } from "bun:test";
import { artifactFileName, inlineModuleName, isArtifactFileName, moduleArchiveFormat, moduleVersionName, providerVersionName, sanitizeVersion } from "./naming.ts";

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
