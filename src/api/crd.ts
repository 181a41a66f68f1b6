// CustomResourceDefinitions derived from the schemas in types.ts, so that crds/*.yaml can never drift from the
// TypeScript types and runtime validation (a test regenerates them and compares).
import type { TSchema } from "@sinclair/typebox";
import { schemaNamed } from "./kind-schemas.ts";
import { OUR_KINDS, type KindDescriptor } from "./kinds.ts";
import { GROUP, VERSION } from "./meta.ts";

type Json = Record<string, unknown>;

/** Convert a TypeBox (JSON Schema) node into a Kubernetes structural OpenAPI v3 schema node. */
export function toStructural(node: TSchema | Json): Json {
  const n = JSON.parse(JSON.stringify(node)) as Json; // drops TypeBox's symbol keys
  return convert(n);
}

function convert(n: Json): Json {
  // Unions of string literals → enum.
  if (Array.isArray(n.anyOf)) {
    const branches = n.anyOf as Json[];
    if (branches.every((b) => "const" in b)) {
      const out: Json = { type: typeof branches[0]!.const, enum: branches.map((b) => b.const) };
      if (n.description) out.description = n.description;
      return out;
    }
    throw new Error(`unsupported union in CRD schema: ${JSON.stringify(n).slice(0, 200)}`);
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(n)) {
    switch (k) {
      case "$id":
      case "const":
        break;
      case "properties": {
        const props: Json = {};
        for (const [pk, pv] of Object.entries(v as Json)) props[pk] = convert(pv as Json);
        out.properties = props;
        break;
      }
      case "patternProperties": {
        // TypeBox records → Kubernetes maps.
        const [only] = Object.values(v as Json);
        out.additionalProperties = convert(only as Json);
        break;
      }
      case "additionalProperties":
        if (v === true) out["x-kubernetes-preserve-unknown-fields"] = true;
        else if (v && typeof v === "object") out.additionalProperties = convert(v as Json);
        // `false` is the structural default (unknown fields are pruned).
        break;
      case "items":
        out.items = convert(v as Json);
        break;
      case "required":
        if ((v as string[]).length) out.required = v;
        break;
      default:
        out[k] = v;
    }
  }
  return out;
}

export function crdFor(d: KindDescriptor): Json {
  if (!d.spec || !d.status) throw new Error(`${d.kind} has no schema`);
  const schema: Json = {
    type: "object",
    description: `${d.kind} is an OpenDepot ${d.kind.toLowerCase()} resource.`,
    properties: {
      apiVersion: { type: "string", description: "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values." },
      kind: { type: "string", description: "Kind is a string value representing the REST resource this object represents. In CamelCase." },
      metadata: { type: "object", description: "Standard object's metadata." },
      spec: { description: `Desired state of the ${d.kind}.`, ...toStructural(schemaNamed(d.spec)) },
      status: { ...toStructural(schemaNamed(d.status)), description: `Observed state of the ${d.kind}, written by the controllers.` },
    },
    ...(d.specRequired ? { required: ["spec"] } : {}),
  };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${d.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: { kind: d.kind, listKind: `${d.kind}List`, plural: d.plural, singular: d.kind.toLowerCase(), categories: ["opendepot"] },
      scope: d.namespaced ? "Namespaced" : "Cluster",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: d.printerColumns ?? [],
          schema: { openAPIV3Schema: schema },
        },
      ],
    },
  };
}

/**
 * The CRD file name and YAML text of every kind, e.g. `opendepot.defdev.io_modules.yaml`. The YAML writer is the
 * runtime's (`runtime.stringifyYaml`: api/ imports nothing of ours); the committed files are Bun.YAML's output.
 */
export function renderCrds(stringifyYaml: (value: unknown, indent: number) => string): { file: string; yaml: string }[] {
  return OUR_KINDS.map((d) => ({
    file: `${GROUP}_${d.plural}.yaml`,
    yaml: `# Generated from src/api/types.ts by \`bun run gen:crds\`. Do not edit.\n---\n${stringifyYaml(crdFor(d), 2)}\n`,
  }));
}
