// GCP and Azure keyless/key-file credential paths against local fakes: the GCS fake's OAuth token endpoint and
// metadata server, and a small Entra ID token endpoint for Azure workload identity.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGcsFake, type GcsFake } from "../../../fixtures/gcs-fake.ts";
import { StorageError } from "../types.ts";
import { workloadIdentity } from "./azure.ts";
import { gcpCredentialChain, metadataServerCredentials } from "./gcp.ts";
import { runtime } from "../../runtime/index.ts";

const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: StorageError) => e);
const EMAIL = "sa@test-project.iam.gserviceaccount.com";
const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
let dir: string;
let fake: GcsFake;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cred-test-"));
  fake = await startGcsFake({ buckets: ["b"], serviceAccounts: [{ email: EMAIL, publicKey: keys.publicKey }], workloadIdentity: EMAIL });
});
afterAll(async () => {
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("GCP credentials", () => {
  test("GOOGLE_APPLICATION_CREDENTIALS: key file → signed JWT → token, cached", async () => {
    const file = join(dir, "sa.json");
    await writeFile(file, JSON.stringify({ type: "service_account", client_email: EMAIL, private_key: pem, private_key_id: "k1", token_uri: fake.tokenUri }));
    let tokenCalls = 0;
    fake.intercept = (req) => void (new URL(req.url).pathname === "/token" && tokenCalls++);
    try {
      const c = gcpCredentialChain({ env: { GOOGLE_APPLICATION_CREDENTIALS: file } });
      const a = await c.token();
      const b = await c.token();
      expect(a.token).toStartWith("ya29.");
      expect(b.token).toBe(a.token);
      expect(tokenCalls).toBe(1);
      expect((await c.signer()).email).toBe(EMAIL);
    } finally {
      fake.intercept = undefined;
    }
  });

  test("a key the token endpoint rejects, or an unsupported file, is a Credentials error naming the file", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const file = join(dir, "wrong.json");
    await writeFile(file, JSON.stringify({ type: "service_account", client_email: EMAIL, private_key: other, token_uri: fake.tokenUri }));
    const err = await errorOf(gcpCredentialChain({ env: { GOOGLE_APPLICATION_CREDENTIALS: file } }).token());
    expect(err?.kind).toBe("Credentials");
    expect(err?.message).toContain(file);
    expect(err?.message).toContain("invalid_grant");
    const user = join(dir, "user.json");
    await writeFile(user, JSON.stringify({ type: "authorized_user", client_id: "x" }));
    expect((await errorOf(gcpCredentialChain({ env: { GOOGLE_APPLICATION_CREDENTIALS: user } }).token()))?.message).toContain("unsupported credential type");
  });

  test("metadata server (GKE workload identity): token and e-mail; answers without Metadata-Flavor are refused", async () => {
    const host = new URL(fake.url).host;
    const c = metadataServerCredentials({ env: { GCE_METADATA_HOST: host } });
    expect((await c.token()).token).toStartWith("ya29.");
    expect((await c.signer()).email).toBe(EMAIL);
    const impostor = runtime.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json({ access_token: "stolen", expires_in: 3600 }) });
    try {
      const err = await errorOf(metadataServerCredentials({ env: { GCE_METADATA_HOST: `127.0.0.1:${impostor.port}` } }).token());
      expect(err?.message).toContain("Metadata-Flavor");
    } finally {
      impostor.stop(true);
    }
    const chain = gcpCredentialChain({ env: { GCE_METADATA_HOST: "127.0.0.1:9" }, retries: 0, timeoutMs: 500 });
    const err = await errorOf(chain.token());
    expect(err?.kind).toBe("Credentials");
    expect(chain.source).toContain("GOOGLE_APPLICATION_CREDENTIALS unset");
  });
});

describe("Azure workload identity", () => {
  test("federated token file → client assertion → access token for storage, cached", async () => {
    const tokenFile = join(dir, "azure-token");
    await writeFile(tokenFile, "federated-jwt\n");
    const seen: URLSearchParams[] = [];
    const entra = runtime.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const url = new URL(req.url);
        const form = new URLSearchParams(await req.text());
        seen.push(form);
        if (url.pathname !== "/tenant-1/oauth2/v2.0/token" || form.get("client_assertion") !== "federated-jwt") {
          return Response.json({ error: "invalid_client", error_description: "AADSTS700211: No matching federated identity record found" }, { status: 400 });
        }
        return Response.json({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: "eyJ.entra.token" });
      },
    });
    try {
      const env = { AZURE_FEDERATED_TOKEN_FILE: tokenFile, AZURE_CLIENT_ID: "client-1", AZURE_TENANT_ID: "tenant-1", AZURE_AUTHORITY_HOST: `http://127.0.0.1:${entra.port}/` };
      const p = workloadIdentity({ env });
      expect((await p.get()).token).toBe("eyJ.entra.token");
      await p.get();
      expect(seen.length).toBe(1);
      expect(Object.fromEntries(seen[0]!)).toEqual({
        client_id: "client-1",
        scope: "https://storage.azure.com/.default",
        grant_type: "client_credentials",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: "federated-jwt",
      });
      const err = await errorOf(workloadIdentity({ env: { ...env, AZURE_TENANT_ID: "tenant-2" } }).get());
      expect(err?.kind).toBe("Credentials");
      expect(err?.message).toContain("workload identity");
      expect(err?.message).toContain("AADSTS700211");
    } finally {
      entra.stop(true);
    }
  });
});
