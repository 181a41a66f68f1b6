// Decoding of the Kubernetes protobuf wire format for the built-in kinds kubectl sends that way (its typed clients
// POST `application/vnd.kubernetes.protobuf`: `kubectl create secret|configmap|namespace`, `kubectl auth can-i`,
// `kubectl auth whoami`). Requests only: responses are always JSON, which every client accepts. The envelope is
// "k8s\0" + runtime.Unknown{typeMeta, raw}; `raw` is decoded with the field numbers of k8s.io/api's generated.proto.
import { badRequest } from "./status.ts";

type FieldType = "string" | "bytes" | "int" | "bool" | "time" | "stringMap" | "bytesMap" | Schema;
interface Field {
  name: string;
  type: FieldType;
  repeated?: boolean;
}
type Schema = { [field: number]: Field };

const TIME: Schema = { 1: { name: "seconds", type: "int" }, 2: { name: "nanos", type: "int" } };
const OWNER_REFERENCE: Schema = {
  1: { name: "kind", type: "string" },
  3: { name: "name", type: "string" },
  4: { name: "uid", type: "string" },
  5: { name: "apiVersion", type: "string" },
  6: { name: "controller", type: "bool" },
  7: { name: "blockOwnerDeletion", type: "bool" },
};
const OBJECT_META: Schema = {
  1: { name: "name", type: "string" },
  2: { name: "generateName", type: "string" },
  3: { name: "namespace", type: "string" },
  5: { name: "uid", type: "string" },
  6: { name: "resourceVersion", type: "string" },
  7: { name: "generation", type: "int" },
  8: { name: "creationTimestamp", type: "time" },
  11: { name: "labels", type: "stringMap" },
  12: { name: "annotations", type: "stringMap" },
  13: { name: "ownerReferences", type: OWNER_REFERENCE, repeated: true },
  14: { name: "finalizers", type: "string", repeated: true },
};
const meta: Field = { name: "metadata", type: OBJECT_META };
const RESOURCE_ATTRIBUTES: Schema = {
  1: { name: "namespace", type: "string" },
  2: { name: "verb", type: "string" },
  3: { name: "group", type: "string" },
  4: { name: "version", type: "string" },
  5: { name: "resource", type: "string" },
  6: { name: "subresource", type: "string" },
  7: { name: "name", type: "string" },
};
const NON_RESOURCE_ATTRIBUTES: Schema = { 1: { name: "path", type: "string" }, 2: { name: "verb", type: "string" } };

/** The kinds decodable from protobuf, by `apiVersion/kind`. */
const KINDS: Record<string, Schema> = {
  "v1/ConfigMap": { 1: meta, 2: { name: "data", type: "stringMap" }, 3: { name: "binaryData", type: "bytesMap" }, 4: { name: "immutable", type: "bool" } },
  "v1/Secret": { 1: meta, 2: { name: "data", type: "bytesMap" }, 3: { name: "type", type: "string" }, 4: { name: "stringData", type: "stringMap" }, 5: { name: "immutable", type: "bool" } },
  "v1/Namespace": { 1: meta, 2: { name: "spec", type: { 1: { name: "finalizers", type: "string", repeated: true } } } },
  "coordination.k8s.io/v1/Lease": {
    1: meta,
    2: {
      name: "spec",
      type: {
        1: { name: "holderIdentity", type: "string" },
        2: { name: "leaseDurationSeconds", type: "int" },
        3: { name: "acquireTime", type: "time" },
        4: { name: "renewTime", type: "time" },
        5: { name: "leaseTransitions", type: "int" },
        6: { name: "strategy", type: "string" },
        7: { name: "preferredHolder", type: "string" },
      },
    },
  },
  "authentication.k8s.io/v1/TokenReview": { 1: meta, 2: { name: "spec", type: { 1: { name: "token", type: "string" }, 2: { name: "audiences", type: "string", repeated: true } } } },
  "authentication.k8s.io/v1/SelfSubjectReview": { 1: meta },
  "authorization.k8s.io/v1/SelfSubjectAccessReview": {
    1: meta,
    2: { name: "spec", type: { 1: { name: "resourceAttributes", type: RESOURCE_ATTRIBUTES }, 2: { name: "nonResourceAttributes", type: NON_RESOURCE_ATTRIBUTES } } },
  },
  "authorization.k8s.io/v1/SubjectAccessReview": {
    1: meta,
    2: {
      name: "spec",
      type: {
        1: { name: "resourceAttributes", type: RESOURCE_ATTRIBUTES },
        2: { name: "nonResourceAttributes", type: NON_RESOURCE_ATTRIBUTES },
        3: { name: "user", type: "string" },
        4: { name: "groups", type: "string", repeated: true },
        6: { name: "uid", type: "string" },
      },
    },
  },
  "meta.k8s.io/v1/DeleteOptions": {
    1: { name: "gracePeriodSeconds", type: "int" },
    2: { name: "preconditions", type: { 1: { name: "uid", type: "string" }, 2: { name: "resourceVersion", type: "string" } } },
    4: { name: "propagationPolicy", type: "string" },
    5: { name: "dryRun", type: "string", repeated: true },
  },
};

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get done() {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw badRequest("truncated protobuf varint");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
    }
    throw badRequest("invalid protobuf varint");
  }
  bytes(): Uint8Array {
    const n = Number(this.varint());
    if (n < 0 || this.pos + n > this.buf.length) throw badRequest("truncated protobuf field");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw badRequest(`unsupported protobuf wire type ${wire}`);
    if (this.pos > this.buf.length) throw badRequest("truncated protobuf field");
  }
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

function mapEntry(bytes: Uint8Array, valueAsBytes: boolean): [string, string] {
  const r = new Reader(bytes);
  let key = "";
  let value = "";
  while (!r.done) {
    const tag = Number(r.varint());
    if (tag >>> 3 === 1 && (tag & 7) === 2) key = text(r.bytes());
    else if (tag >>> 3 === 2 && (tag & 7) === 2) {
      const v = r.bytes();
      value = valueAsBytes ? Buffer.from(v).toString("base64") : text(v);
    } else r.skip(tag & 7);
  }
  return [key, value];
}

function decodeMessage(bytes: Uint8Array, schema: Schema, depth = 0): Record<string, unknown> {
  if (depth > 16) throw badRequest("protobuf message nested too deeply");
  const r = new Reader(bytes);
  const out: Record<string, unknown> = {};
  while (!r.done) {
    const tag = Number(r.varint());
    const field = schema[tag >>> 3];
    const wire = tag & 7;
    if (!field) {
      r.skip(wire);
      continue;
    }
    let value: unknown;
    const t = field.type;
    if (t === "int" || t === "bool") {
      if (wire !== 0) throw badRequest(`protobuf field ${field.name} has the wrong wire type`);
      const v = r.varint();
      value = t === "bool" ? v !== 0n : Number(BigInt.asIntN(64, v));
    } else {
      if (wire !== 2) throw badRequest(`protobuf field ${field.name} has the wrong wire type`);
      const b = r.bytes();
      if (t === "string") value = text(b);
      else if (t === "bytes") value = Buffer.from(b).toString("base64");
      else if (t === "stringMap" || t === "bytesMap") {
        const [k, v] = mapEntry(b, t === "bytesMap");
        const map = (out[field.name] ??= {}) as Record<string, string>;
        Object.defineProperty(map, k, { value: v, enumerable: true, writable: true, configurable: true });
        continue;
      } else if (t === "time") {
        const tm = decodeMessage(b, TIME, depth + 1);
        value = new Date(Number(tm.seconds ?? 0) * 1000 + Math.floor(Number(tm.nanos ?? 0) / 1e6)).toISOString().replace(/\.000Z$/, "Z");
      } else value = decodeMessage(b, t, depth + 1);
    }
    if (field.repeated) ((out[field.name] ??= []) as unknown[]).push(value);
    else out[field.name] = value;
  }
  return out;
}

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** A protobuf-encoded request body → the JSON object it stands for. */
export function decodeProtobuf(body: Uint8Array): Record<string, unknown> {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) throw badRequest("the protobuf body lacks the k8s envelope");
  const unknown = decodeMessage(body.subarray(4), {
    1: { name: "typeMeta", type: { 1: { name: "apiVersion", type: "string" }, 2: { name: "kind", type: "string" } } },
    2: { name: "raw", type: "bytes" },
    3: { name: "contentEncoding", type: "string" },
  });
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  if (unknown.contentEncoding) throw badRequest("compressed protobuf bodies are not supported");
  const schema = KINDS[`${typeMeta.apiVersion}/${typeMeta.kind}`];
  if (!schema) throw badRequest(`${typeMeta.apiVersion ?? "?"}/${typeMeta.kind ?? "?"} cannot be sent as protobuf to this server: use application/json`);
  const raw = Buffer.from(String(unknown.raw ?? ""), "base64");
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...decodeMessage(raw, schema) };
}
