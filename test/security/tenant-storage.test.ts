// Finding (High), replayed end to end as reported: against a real `opendepot standalone` process holding platform
// credentials (GKE metadata server, AWS keys), a user creates Modules in namespace team-a through the admin API
// whose storageConfig names the user's own endpoint, an internal address, a directory outside every storage root
// (by `..` and by a symlink). Each must end as Ready=False reason StorageNotAllowed naming the field, and the
// user's server, the credential server and the directory must see nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandalone, type StandaloneProcess } from "../support/standalone-process.ts";
import { waitFor } from "../support/ports.ts";
import { SecurityTally, startCapture, startCredentialServer, type CaptureServer } from "./capture.ts";

const tally = new SecurityTally("tenant storage targets (standalone, admin API)");
let dir: string;
let sp: StandaloneProcess;
let tenant: CaptureServer;
let cred: CaptureServer;
let upstream: CaptureServer;
let token: string;

const MODULES = "/apis/opendepot.defdev.io/v1alpha1/namespaces/team-a/modules";
const admin = (method: string, path: string, body?: unknown) =>
  fetch(`${sp.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    tls: { rejectUnauthorized: false },
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "opendepot-sec-tenant-"));
  tenant = startCapture();
  cred = startCredentialServer();
  upstream = startCapture();
  sp = await startStandalone({
    dataDir: join(dir, "data"),
    admin: true,
    extra: ["--resync-interval", "1s", "--github-api-url", upstream.url],
    env: { GCE_METADATA_HOST: cred.url.replace("http://", ""), AWS_ACCESS_KEY_ID: "AKIAPLATFORM", AWS_SECRET_ACCESS_KEY: "platform-secret", AWS_EC2_METADATA_DISABLED: "true" },
  });
  token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
  expect((await admin("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } })).status).toBeLessThan(300);
}, 60_000);

afterAll(async () => {
  tally.print({ tenantRequests: tenant.requests.length, credentialRequests: cred.requests.length, upstreamRequests: upstream.requests.length });
  await sp?.stop();
  tenant?.stop();
  cred?.stop();
  upstream?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function createModule(name: string, storageConfig: Record<string, unknown>): Promise<void> {
  const r = await admin("POST", MODULES, {
    apiVersion: "opendepot.defdev.io/v1alpha1",
    kind: "Module",
    metadata: { name, namespace: "team-a" },
    spec: { moduleConfig: { repoOwner: "acme", provider: "aws", fileFormat: "zip", storageConfig }, versions: [{ version: "v1.0.0" }] },
  });
  expect(r.status, await r.clone().text()).toBe(201);
  tally.tried++;
}

type Cond = { type: string; status: string; reason: string; message: string };
async function refusal(kind: "modules" | "versions", name: string): Promise<Cond> {
  return waitFor(
    async () => {
      const r = await admin("GET", `/apis/opendepot.defdev.io/v1alpha1/namespaces/team-a/${kind}/${name}`);
      if (r.status !== 200) return undefined;
      const o = (await r.json()) as { status?: { conditions?: Cond[] } };
      const ready = o.status?.conditions?.find((c) => c.type === "Ready");
      return ready?.reason === "StorageNotAllowed" ? ready : undefined;
    },
    30_000,
    `${kind}/${name} to report StorageNotAllowed`,
  );
}

describe("a tenant's storageConfig cannot reach the platform's credentials", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["gcs-own-endpoint", { gcs: { bucket: "whatever", endpoint: "" } }, "gcs.endpoint"],
    ["s3-internal", { s3: { bucket: "whatever", region: "us-east-1", endpoint: "http://169.254.169.254", forcePathStyle: true } }, "s3.endpoint"],
    ["azure-own-url", { azureStorage: { accountName: "platformacct", accountUrl: "", subscriptionID: "s", resourceGroup: "r" } }, "azureStorage.accountUrl"],
  ];

  test.each(cases)("%s → StorageNotAllowed on the Module and its Version, no request anywhere", async (name, config, field) => {
    const withEndpoint = JSON.parse(JSON.stringify(config).replaceAll('""', JSON.stringify(tenant.url)));
    await createModule(name, withEndpoint);
    const m = await refusal("modules", name);
    expect(m.status).toBe("False");
    expect(m.message).toContain(`spec.moduleConfig.storageConfig.${field}`);
    const v = await refusal("versions", `${name}-1-0-0`);
    expect(v.message).toContain(`spec.moduleConfigRef.storageConfig.${field}`);
    tally.refused++;
    expect(tenant.requests).toHaveLength(0);
    expect(cred.requests).toHaveLength(0);
    expect(upstream.requests).toHaveLength(0);
  }, 60_000);

  test("directoryPath outside the data dir, by `..` and by a symlink: refused, nothing written", async () => {
    const outside = join(dir, "outside");
    mkdirSync(outside);
    symlinkSync(outside, join(dir, "data", "link-out"));
    await createModule("fs-dotdot", { fileSystem: { directoryPath: join(dir, "data", "..", "outside") } });
    await createModule("fs-symlink", { fileSystem: { directoryPath: join(dir, "data", "link-out") } });
    for (const name of ["fs-dotdot", "fs-symlink"]) {
      const m = await refusal("modules", name);
      expect(m.message).toContain("spec.moduleConfig.storageConfig.fileSystem.directoryPath");
      await refusal("versions", `${name}-1-0-0`);
      tally.refused++;
    }
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(outside, "team-a"))).toBe(false);
    expect(upstream.requests).toHaveLength(0);
  }, 60_000);
});
