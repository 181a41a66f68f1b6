import { afterEach, describe, expect, test } from "bun:test";
import { Secret } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import { SigningKey } from "../artifacts/signing.ts";
import { silentLogger } from "../log.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { ensureKeysSecret, generateKeys, URL_SIGNING_KEY } from "./keys-bootstrap.ts";

type SecretObject = KubeObject & { data: Record<string, string> };
const decode = (s: SecretObject, key: string) => Buffer.from(s.data[key]!, "base64").toString("utf8");
let store: EmbeddedStore;
afterEach(async () => store?.close());

describe("keys Secret bootstrap", () => {
  test("absent: created with a hex URL-signing key of 32 bytes and a usable RSA signing key", async () => {
    store = EmbeddedStore.open(":memory:", { namespaces: ["opendepot-system", "ns"] });
    expect(await ensureKeysSecret(store, "opendepot-system", "opendepot-keys", silentLogger)).toBe("created");
    const secret = (await store.get<SecretObject>(Secret, "opendepot-system", "opendepot-keys"))!;
    expect(decode(secret, URL_SIGNING_KEY).trim()).toMatch(/^[0-9a-f]{64}$/);
    const key = await SigningKey.fromArmored(decode(secret, "signing-key.asc"));
    expect(decode(secret, "signing-key.pub.asc")).toBe(key.publicKeyArmored);
  }, 60_000);

  test("present: used as is, never regenerated or changed (a restart or an upgrade keeps every signature valid)", async () => {
    store = EmbeddedStore.open(":memory:", { namespaces: ["opendepot-system", "ns"] });
    await store.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "mine", namespace: "ns" }, data: { [URL_SIGNING_KEY]: Buffer.from("operator-key").toString("base64") } });
    const before = await store.get<SecretObject>(Secret, "ns", "mine");
    let generated = 0;
    const generate = async () => (generated++, { [URL_SIGNING_KEY]: "new" });
    for (let i = 0; i < 3; i++) expect(await ensureKeysSecret(store, "ns", "mine", silentLogger, generate)).toBe("exists");
    expect(generated).toBe(0);
    expect(await store.get(Secret, "ns", "mine")).toEqual(before);
  });

  test("two replicas racing on a fresh install: exactly one Secret, the first one written, and both go on", async () => {
    store = EmbeddedStore.open(":memory:", { namespaces: ["opendepot-system", "ns"] });
    // Both generate before either creates: the window in which the race is real.
    let arrived = 0;
    let release!: () => void;
    const bothGenerated = new Promise<void>((r) => (release = r));
    const generate = (label: string) => async () => {
      if (++arrived === 2) release();
      await bothGenerated;
      return { [URL_SIGNING_KEY]: label };
    };
    const results = await Promise.all([ensureKeysSecret(store, "ns", "keys", silentLogger, generate("a")), ensureKeysSecret(store, "ns", "keys", silentLogger, generate("b"))]);
    expect(results.sort()).toEqual(["created", "lost-race"]);
    const secret = (await store.get<SecretObject>(Secret, "ns", "keys"))!;
    const winner = decode(secret, URL_SIGNING_KEY);
    expect(["a", "b"]).toContain(winner);
    // A later start finds the winner's keys and keeps them.
    expect(await ensureKeysSecret(store, "ns", "keys", silentLogger, generate("c"))).toBe("exists");
    expect(decode((await store.get<SecretObject>(Secret, "ns", "keys"))!, URL_SIGNING_KEY)).toBe(winner);
  });

  test("generated keys differ from one install to the next", async () => {
    const [a, b] = await Promise.all([generateKeys(), generateKeys()]);
    expect(a[URL_SIGNING_KEY]).not.toBe(b[URL_SIGNING_KEY]);
    expect(a["signing-key.asc"]).not.toBe(b["signing-key.asc"]);
  }, 60_000);
});
