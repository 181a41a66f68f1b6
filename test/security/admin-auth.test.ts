// Finding (Medium): the admin API listed and decoded every Secret for each unknown token (5,000 Secrets: 452 → 21
// req/s for an unauthenticated client). Replayed over a real socket: unknown tokens cost no Secret listing (the
// index is fed by a watch), failures from one address are rate-limited with 429 + Retry-After, and token Secrets
// created, rotated or deleted take effect without a restart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Secret } from "../../src/api/kinds.ts";
import type { KubeObject } from "../../src/api/meta.ts";
import { listenKubeApi, ensureNamespaces, type KubeApiListener } from "../../src/kubeapi/admin.ts";
import { SYSTEM_NAMESPACE, USER_TOKEN_TYPE } from "../../src/kubeapi/identity.ts";
import { silentLogger } from "../../src/log.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import type { ListOptions } from "../../src/store/types.ts";
import { waitFor } from "../support/ports.ts";
import { SecurityTally } from "./capture.ts";

const ADMIN = "admin-token-0123456789abcdef";
const tally = new SecurityTally("admin API authentication");
let store: EmbeddedStore;
let listener: KubeApiListener;
let secretLists = 0;

const b64 = (s: string) => Buffer.from(s).toString("base64");
const tokenSecret = (name: string, token: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: SYSTEM_NAMESPACE },
  type: USER_TOKEN_TYPE,
  data: { token: b64(token), username: b64(name), groups: b64("devs") },
});
const whoami = (token: string) =>
  fetch(`${listener.url}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
  });

beforeAll(async () => {
  store = EmbeddedStore.open(":memory:", { log: silentLogger });
  await ensureNamespaces(store);
  for (let i = 0; i < 5_000; i++) await store.create(tokenSecret(`user-${i}`, `token-of-user-${i}-0123456789`));
  const list = store.list.bind(store);
  store.list = ((kind, options?: ListOptions) => {
    if (kind.kind === Secret.kind) secretLists++;
    return list(kind, options);
  }) as typeof store.list;
  listener = listenKubeApi({ store, adminToken: ADMIN, log: silentLogger, hostname: "127.0.0.1", port: 0, authThrottle: { burst: 50, perSecond: 1, now: () => 0 } }); // a frozen clock: counts, not timing
}, 120_000);
afterAll(async () => {
  tally.print({ secretListings: secretLists, secrets: 5_000 });
  await listener?.stop();
  await store?.close();
});

describe("admin API authentication", () => {
  test("a known user token works; unknown tokens never list the Secrets again; the 51st failure gets 429", async () => {
    expect((await whoami("token-of-user-4999-0123456789")).status).toBe(201);
    const listsAfterIndex = secretLists;
    let unauthorized = 0;
    let limited = 0;
    for (let i = 0; i < 200; i++) {
      tally.tried++;
      const r = await whoami(`unknown-token-${i}-abcdefghijkl`);
      if (r.status === 401) unauthorized++;
      if (r.status === 429) {
        limited++;
        expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
      }
      await r.arrayBuffer();
      tally.refused++;
    }
    expect(unauthorized).toBe(50);
    expect(limited).toBe(150);
    expect(secretLists).toBe(listsAfterIndex);
  });

  test("token Secrets created and deleted take effect through the watch", async () => {
    // A fresh listener: the previous test left this address rate-limited.
    const l2 = listenKubeApi({ store, adminToken: ADMIN, log: silentLogger, hostname: "127.0.0.1", port: 0 });
    const who = (token: string) => fetch(`${l2.url}/api/v1/namespaces`, { headers: { authorization: `Bearer ${token}` } });
    try {
      expect((await who("brand-new-token-0123456789")).status).toBe(401);
      await store.create(tokenSecret("newcomer", "brand-new-token-0123456789"));
      await waitFor(async () => (await who("brand-new-token-0123456789")).status !== 401, 5_000, "the new token to be accepted");
      await store.delete(Secret, SYSTEM_NAMESPACE, "newcomer");
      await waitFor(async () => (await who("brand-new-token-0123456789")).status === 401, 5_000, "the deleted token to be refused");
    } finally {
      await l2.stop();
    }
  });
});
