// The keyless Azure path end to end: Entra workload identity (federated token → access token from a local token
// endpoint) against Azurite in OAuth mode (HTTPS), and pre-signed URLs as user-delegation SAS, which Azurite checks.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { startAzurite, type AzuritePeer } from "../../test/peers/azurite.ts";
import { AzureBlobStorage } from "./azure.ts";
import { streamOf, testBytes } from "./conformance.ts";
import { workloadIdentity } from "./credentials/azure.ts";
import type { FetchLike } from "./http.ts";
import { sleep } from "../kits/sleep.ts";
import { runtime, type Served } from "../runtime/index.ts";
import { run } from "../../test/support/processes.ts";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
let dir: string;
let cert: string;
let azurite: AzuritePeer;
let entra: Served;
let tokenRequests = 0;
let trusting: FetchLike;

// A leaf (CA:FALSE) trusted directly: Deno's TLS (rustls) refuses a CA certificate presented as a server's own.
async function selfSignedCert(): Promise<{ cert: string; key: string }> {
  const proc = await run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]);
  if (proc.code !== 0) throw new Error(`openssl failed: ${proc.err}`);
  return { cert: await readFile(join(dir, "cert.pem"), "utf8"), key: await readFile(join(dir, "key.pem"), "utf8") };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "azure-entra-"));
  const tls = await selfSignedCert();
  cert = tls.cert;
  trusting = (input, init) => runtime.fetch(input, { ...init, tls: { ca: cert } });
  azurite = await startAzurite({ oauthTls: tls });
  await writeFile(join(dir, "federated-token"), "projected-service-account-jwt");
  const secret = crypto.getRandomValues(new Uint8Array(32));
  // A token endpoint shaped like Entra ID's v2.0 endpoint; Azurite's "basic" OAuth checks issuer, audience and
  // lifetime of the JWT (not its signature).
  entra = runtime.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const form = new URLSearchParams(await req.text());
      if (new URL(req.url).pathname !== `/${TENANT}/oauth2/v2.0/token` || form.get("client_assertion") !== "projected-service-account-jwt") {
        return Response.json({ error: "invalid_client" }, { status: 401 });
      }
      tokenRequests++;
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ oid: "2b5d4a3e-0000-4000-8000-000000000001", tid: TENANT, appid: form.get("client_id") })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setIssuer(`https://sts.windows.net/${TENANT}/`)
        .setAudience("https://storage.azure.com")
        .setIssuedAt(now)
        .setNotBefore(now - 60)
        .setExpirationTime(now + 3600)
        .sign(secret);
      return Response.json({ token_type: "Bearer", expires_in: 3599, access_token: token });
    },
  });
}, 60_000);

afterAll(async () => {
  entra?.stop(true);
  await azurite?.stop();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

function entraStorage(): AzureBlobStorage {
  const provider = workloadIdentity({
    env: { AZURE_FEDERATED_TOKEN_FILE: join(dir, "federated-token"), AZURE_CLIENT_ID: "client-1", AZURE_TENANT_ID: TENANT, AZURE_AUTHORITY_HOST: `http://127.0.0.1:${entra.port}` },
  });
  return new AzureBlobStorage({ accountUrl: azurite.accountUrl, accountName: azurite.accountName, container: "entra", credential: { kind: "token", provider }, fetch: trusting, singlePutThreshold: 1024 * 1024, blockSize: 1024 * 1024 });
}

describe("azure blob with Entra workload identity (Azurite, OAuth over HTTPS)", () => {
  test("bearer-token uploads (single and blocks), reads, delete", async () => {
    const storage = entraStorage();
    for (const size of [1000, 2.5 * 1024 * 1024]) {
      const data = testBytes(size, 41);
      const key = `wi/team/modules/x/${size}.zip`;
      const put = await storage.put(key, streamOf(data));
      expect((await storage.head(key))?.pin).toBe(put.pin);
      expect(new Uint8Array(await new Response((await storage.get(key)).body).arrayBuffer())).toEqual(data);
      await storage.delete(key);
      expect(await storage.head(key)).toBeUndefined();
    }
    expect(tokenRequests).toBe(1);
  });

  test("pre-signed URLs are user-delegation SAS: valid for a plain client, rejected when tampered or expired", async () => {
    const storage = entraStorage();
    const data = testBytes(5000, 42);
    await storage.put("sas/team/modules/x/a.zip", streamOf(data));
    const url = await storage.presign("sas/team/modules/x/a.zip", 60);
    expect(new URL(url).searchParams.get("skoid")).toBe("2b5d4a3e-0000-4000-8000-000000000001");
    const ok = await trusting(url);
    expect(ok.status).toBe(200);
    expect(new Uint8Array(await ok.arrayBuffer())).toEqual(data);
    const other = url.replace("/sas/", "/saX/");
    expect((await trusting(other)).status).toBe(403);
    const short = await storage.presign("sas/team/modules/x/a.zip", 1);
    await sleep(2100);
    expect((await trusting(short)).status).toBe(403);
  });
});
