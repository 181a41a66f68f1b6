// kubectl's typed clients send built-in kinds as protobuf; the decoder turns them into the JSON the API handles.
import { describe, expect, test } from "bun:test";
import { decodeProtobuf } from "./protobuf.ts";
import { startTestApi } from "../../test/support/kube-api.ts";

// A minimal protobuf encoder for the test: (field, value) pairs; strings/bytes/messages length-delimited.
type Part = [number, string | number | boolean | Uint8Array];
const varint = (n: number) => {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return out;
};
function msg(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const [field, v] of parts) {
    if (typeof v === "number" || typeof v === "boolean") out.push(...varint((field << 3) | 0), ...varint(Number(v)));
    else {
      const bytes = typeof v === "string" ? new TextEncoder().encode(v) : v;
      out.push(...varint((field << 3) | 2), ...varint(bytes.length), ...bytes);
    }
  }
  return new Uint8Array(out);
}
const envelope = (apiVersion: string, kind: string, raw: Uint8Array) =>
  new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...msg([1, msg([1, apiVersion], [2, kind])], [2, raw])]);

describe("protobuf request bodies", () => {
  test("a Secret as kubectl create secret sends it", () => {
    const secret = msg([1, msg([1, "s1"], [3, "team-a"], [11, msg([1, "app"], [2, "x"])])], [2, msg([1, "a"], [2, new Uint8Array([0xff, 0x00])])], [3, "Opaque"]);
    expect(decodeProtobuf(envelope("v1", "Secret", secret))).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s1", namespace: "team-a", labels: { app: "x" } },
      data: { a: "/wA=" },
      type: "Opaque",
    });
  });

  test("a SelfSubjectAccessReview as kubectl auth can-i sends it", () => {
    const ssar = msg([1, msg()], [2, msg([1, msg([1, "default"], [2, "list"], [3, "opendepot.defdev.io"], [5, "modules"])])]);
    expect(decodeProtobuf(envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", ssar)).spec).toEqual({
      resourceAttributes: { namespace: "default", verb: "list", group: "opendepot.defdev.io", resource: "modules" },
    });
  });

  test("unknown kinds, missing envelope and truncated input are 400s, not crashes", () => {
    expect(() => decodeProtobuf(envelope("apps/v1", "Deployment", msg()))).toThrow(/use application\/json/);
    expect(() => decodeProtobuf(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/envelope/);
    expect(() => decodeProtobuf(new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x12, 0x40, 1]))).toThrow(/truncated/);
  });

  test("through the API: a ConfigMap POSTed as protobuf is created", async () => {
    const t = await startTestApi();
    const cm = msg([1, msg([1, "from-proto"])], [2, msg([1, "k"], [2, "v"])]);
    const r = await t.post("/api/v1/namespaces/default/configmaps", envelope("v1", "ConfigMap", cm), { type: "application/vnd.kubernetes.protobuf" });
    expect(r.status).toBe(201);
    expect(await r.json()).toMatchObject({ metadata: { name: "from-proto", namespace: "default" }, data: { k: "v" } });
    await t.close();
  });
});
