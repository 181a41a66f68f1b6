import { describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { runtime } from "../runtime/index.ts";
import { crdFor, renderCrds } from "./crd.ts";
import { Module, OUR_KINDS, Version } from "./kinds.ts";

describe("CRDs", () => {
  test("committed crds/*.yaml match the schemas in src/api (run `bun run gen:crds` after changing them)", async () => {
    for (const dir of ["crds", "helm/opendepot/crds"]) {
      for (const { file, yaml } of renderCrds(runtime.stringifyYaml)) {
        const committed = await readFile(join(import.meta.dir, "..", "..", dir, file), "utf8").catch(() => "<missing>");
        expect({ file: `${dir}/${file}`, same: committed === yaml }).toEqual({ file: `${dir}/${file}`, same: true });
      }
    }
  });

  test("schemas are structural: every node has a type, no unions or booleans for additionalProperties", () => {
    const check = (node: Record<string, unknown>, path: string) => {
      if (!node.type && !node["x-kubernetes-preserve-unknown-fields"]) throw new Error(`${path} has no type`);
      for (const banned of ["anyOf", "oneOf", "allOf", "const", "patternProperties", "$id"]) {
        if (banned in node) throw new Error(`${path} uses ${banned}`);
      }
      if (node.additionalProperties === false || node.additionalProperties === true) throw new Error(`${path} has boolean additionalProperties`);
      for (const [k, v] of Object.entries((node.properties as Record<string, Record<string, unknown>>) ?? {})) check(v, `${path}.${k}`);
      if (node.items) check(node.items as Record<string, unknown>, `${path}[]`);
      if (node.additionalProperties) check(node.additionalProperties as Record<string, unknown>, `${path}{}`);
    };
    for (const d of OUR_KINDS) {
      const crd = crdFor(d) as { spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
      check(crd.spec.versions[0]!.schema.openAPIV3Schema, d.kind);
    }
  });

  test("v0.9 field names and defaults are kept", () => {
    const text = JSON.stringify(crdFor(Module));
    for (const field of ["azureStorage", "subscriptionID", "resourceGroup", "fileSystem", "directoryPath", "fallbackToProxy", "moduleVersionRefs", "versionHistoryLimit"]) {
      expect(text).toContain(`"${field}"`);
    }
    expect(text).toContain('"default":"15m"');
    const version = JSON.stringify(crdFor(Version));
    expect(version).toContain('"enum":["Module","Provider"]');
    expect(version).toContain('"readmeConfigMapRef"');
    expect(version).toContain('"observedGeneration"');
  });
});

describe("field documentation", () => {
  test("every field of every CRD has a description, so kubectl explain documents the API", () => {
    const missing: string[] = [];
    const walk = (node: Record<string, any>, path: string) => {
      if (path.split(".").length > 1 && !node.description) missing.push(path);
      for (const [k, v] of Object.entries(node.properties ?? {})) walk(v as Record<string, any>, `${path}.${k}`);
      if (node.items?.properties) for (const [k, v] of Object.entries(node.items.properties)) walk(v as Record<string, any>, `${path}[].${k}`);
      if (node.additionalProperties?.properties) for (const [k, v] of Object.entries(node.additionalProperties.properties)) walk(v as Record<string, any>, `${path}{}.${k}`);
    };
    for (const d of OUR_KINDS) walk((crdFor(d) as any).spec.versions[0].schema.openAPIV3Schema, d.kind);
    expect(missing).toEqual([]);
  });
});
