// Provider metadata remembers the signing keys it listed (protocol-answers.ts keeps the key-id string per key
// list): a ring reloaded in place (keygen --rotate picked up by the ring watcher) must show in the very next answer.
import { expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import { SigningKeyRing } from "../artifacts/key-ring.ts";
import { SigningKey } from "../artifacts/signing.ts";
import { silentLogger } from "../log.ts";
import { FilesystemStorage } from "../storage/filesystem.ts";
import { publishProvider } from "../../test/support/publish.ts";
import { feedStore, StaticFeed } from "../../test/support/static-feed.ts";
import { createApp, fastPathOf } from "./app.ts";
import { ArtifactDelivery } from "./artifact-delivery.ts";
import { anonymousGatekeeper } from "./context.ts";
import { RegistryIndex } from "./registry-index.ts";
import { withRequestPolicy } from "./serve.ts";
import { UrlSigner } from "./url-signer.ts";

test("metadata lists the ring's keys after a reload in place, and names the new signing key", async () => {
  const a = await SigningKey.generate({ name: "A", email: "a@example.com", rsaBits: 2048, date: new Date("2026-01-01T00:00:00Z") });
  const b = await SigningKey.generate({ name: "B", email: "b@example.com", rsaBits: 2048, date: new Date("2026-06-01T00:00:00Z") });
  const ring = new SigningKeyRing([a]);
  const storage = new FilesystemStorage(await mkdtemp(join(tmpdir(), "opendepot-meta-keys-")));
  const versions = new StaticFeed<VersionObject>();
  const provider: ProviderObject = { apiVersion: API_VERSION, kind: "Provider", metadata: { name: "widget", namespace: "team" }, spec: { providerConfig: {}, versions: [] } };
  const index = new RegistryIndex({ modules: new StaticFeed<ModuleObject>(), providers: new StaticFeed<ProviderObject>([provider]), versions });
  await publishProvider(feedStore(versions), () => storage, { namespace: "team", provider: "widget", version: "1.0.0", os: "linux", arch: "amd64", binary: "l" });
  const clock = () => 1_800_000_000_000;
  const app = createApp({ index, delivery: new ArtifactDelivery(() => storage, silentLogger), urls: new UrlSigner(new Uint8Array(32).fill(7), 600, clock), signer: ring, gatekeeper: anonymousGatekeeper, log: silentLogger, ready: () => true });
  const handle = withRequestPolicy((r) => app.handle(r), silentLogger, undefined, fastPathOf(app));
  const metadata = async () => {
    const r = await handle(new Request("http://registry.test/opendepot/providers/v1/team/widget/1.0.0/download/linux/amd64", { headers: { host: "registry.test" } }));
    expect(r.status).toBe(200);
    return (await r.json()) as { shasums_signature_url: string; signing_keys: { gpg_public_keys: { key_id: string }[] } };
  };
  const ids = (m: Awaited<ReturnType<typeof metadata>>) => m.signing_keys.gpg_public_keys.map((k) => k.key_id);
  for (let i = 0; i < 3; i++) expect(ids(await metadata())).toEqual([a.keyId]);
  ring.replace([a, b]);
  const rotated = await metadata();
  expect(ids(rotated)).toEqual([b.keyId, a.keyId]);
  expect(rotated.shasums_signature_url.endsWith(`&key=${b.keyId}`)).toBe(true);
  ring.replace([b]);
  expect(ids(await metadata())).toEqual([b.keyId]);
}, 60_000);
