// Validates objects against the real Kubernetes v1.32 OpenAPI v3 documents and the Gateway API HTTPRoute CRD
// (fixtures/kubernetes-openapi, see fixtures/THIRD_PARTY.md), as kubeconform or `kubectl apply --validate=strict`
// would: unknown fields are errors (a typed object without additionalProperties accepts no extra fields).
// ServiceMonitor (Prometheus Operator) is checked against a subset schema of our own, servicemonitor-subset.crd.yaml,
// because its real CRD is not available here; that file says so.
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helm.ts";

const DIR = join(ROOT, "fixtures", "kubernetes-openapi");
const OPENAPI_FILES = ["api__v1_openapi.json", "apis__apps__v1_openapi.json", "apis__batch__v1_openapi.json", "apis__networking.k8s.io__v1_openapi.json", "apis__policy__v1_openapi.json", "apis__rbac.authorization.k8s.io__v1_openapi.json", "apis__apiextensions.k8s.io__v1_openapi.json"];
const CRD_FILES = [join(DIR, "gateway.networking.k8s.io_httproutes.yaml"), join(import.meta.dir, "servicemonitor-subset.crd.yaml")];

type Schema = Record<string, any>;

/** Close every typed object: the API server's strict field validation rejects fields a schema does not declare. */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== "object") return schema;
  const s: Schema = {};
  for (const [k, v] of Object.entries(schema)) s[k] = k === "example" || k === "default" || k === "enum" ? v : strict(v);
  if (s.properties && s.additionalProperties === undefined && !s["x-kubernetes-preserve-unknown-fields"]) s.additionalProperties = false;
  return s;
}

const gvkKey = (apiVersion: string, kind: string) => `${apiVersion}|${kind}`;

export class KubeSchemas {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  private readonly byGvk = new Map<string, ValidateFunction>();

  constructor() {
    for (const file of OPENAPI_FILES) {
      const doc = JSON.parse(readFileSync(join(DIR, file), "utf8"));
      const id = `https://kubernetes.local/${file}`;
      this.ajv.addSchema({ $id: id, components: strict(doc.components) }, id);
      for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, Schema>)) {
        for (const gvk of schema["x-kubernetes-group-version-kind"] ?? []) {
          const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
          if (!this.byGvk.has(gvkKey(apiVersion, gvk.kind))) this.byGvk.set(gvkKey(apiVersion, gvk.kind), this.ajv.compile({ $ref: `${id}#/components/schemas/${name}` }));
        }
      }
    }
    for (const file of CRD_FILES) {
      const crd = Bun.YAML.parse(readFileSync(file, "utf8")) as Schema;
      for (const version of crd.spec.versions) {
        const schema = strict(version.schema.openAPIV3Schema) as Schema;
        // The API server serves metadata as ObjectMeta whatever the CRD says; check it as such.
        schema.properties.metadata = { $ref: `https://kubernetes.local/api__v1_openapi.json#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` };
        this.byGvk.set(gvkKey(`${crd.spec.group}/${version.name}`, crd.spec.names.kind), this.ajv.compile(schema));
      }
    }
  }

  kinds(): string[] {
    return [...this.byGvk.keys()];
  }

  /** Problems of one object ("" path = the object), empty when valid; an unknown kind is a problem too. */
  validate(obj: { apiVersion?: unknown; kind?: unknown }): string[] {
    const validate = this.byGvk.get(gvkKey(String(obj.apiVersion), String(obj.kind)));
    if (!validate) return [`no schema for ${String(obj.apiVersion)} ${String(obj.kind)}`];
    if (validate(obj)) return [];
    return summarise(validate.errors ?? []);
  }
}

/** One line per failing path; oneOf/anyOf noise is folded into the most specific messages. */
function summarise(errors: ErrorObject[]): string[] {
  const lines = errors
    .filter((e) => e.keyword !== "oneOf" && e.keyword !== "anyOf")
    .map((e) => `${e.instancePath || "/"} ${e.message}${e.keyword === "additionalProperties" ? `: ${(e.params as { additionalProperty: string }).additionalProperty}` : ""}`);
  return [...new Set(lines)];
}
