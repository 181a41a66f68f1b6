// The admin listener as standalone starts it: generated token and CA (0600), a kubeconfig that works, TLS that
// verifies against that CA only, reuse of both across restarts, and an operator-supplied token.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../log.ts";
import { EmbeddedStore } from "../store/embedded.ts";
import { freePort, type JsonResponse } from "../../test/support/ports.ts";
import { startAdminApi } from "./admin.ts";

let dir: string;
let store: EmbeddedStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubeapi-admin-"));
  store = EmbeddedStore.open(":memory:");
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const start = (extra: { tokenFile?: string } = {}) => startAdminApi({ store, dataDir: dir, hostname: "127.0.0.1", port: freePort(), log: silentLogger, ...extra });

describe("admin listener", () => {
  test("generates token, CA and kubeconfig with mode 0600; serves HTTPS that verifies against the CA", async () => {
    const admin = await start();
    try {
      for (const f of ["admin-token", "admin-tls.key", "kubeconfig"]) expect((await stat(join(dir, f))).mode & 0o777).toBe(0o600);
      const token = (await readFile(join(dir, "admin-token"), "utf8")).trim();
      expect(token.length).toBeGreaterThanOrEqual(32);
      const kubeconfig = Bun.YAML.parse(await readFile(admin.kubeconfig, "utf8")) as any;
      expect(kubeconfig.clusters[0].cluster.server).toBe(admin.url);
      expect(admin.url).toStartWith("https://127.0.0.1:");
      expect(kubeconfig.users[0].user.token).toBe(token);
      const ca = Buffer.from(kubeconfig.clusters[0].cluster["certificate-authority-data"], "base64").toString();
      const ok = (await fetch(`${admin.url}/api/v1/namespaces`, { headers: { authorization: `Bearer ${token}` }, tls: { ca } })) as JsonResponse;
      expect(ok.status).toBe(200);
      expect((await ok.json()).items.map((n: any) => n.metadata.name)).toEqual(["default", "kube-node-lease", "kube-public", "kube-system", "opendepot-system"]);
      expect((await fetch(`${admin.url}/api/v1/namespaces`, { tls: { ca } })).status).toBe(401);
      await expect(fetch(`${admin.url}/healthz`)).rejects.toThrow();
    } finally {
      await admin.stop();
    }
  });

  test("a restart keeps token and CA; an operator token file replaces the generated token", async () => {
    const token = await readFile(join(dir, "admin-token"), "utf8");
    const ca = await readFile(join(dir, "admin-ca.crt"), "utf8");
    const again = await start();
    await again.stop();
    expect(await readFile(join(dir, "admin-token"), "utf8")).toBe(token);
    expect(await readFile(join(dir, "admin-ca.crt"), "utf8")).toBe(ca);
    const file = join(dir, "operator-token");
    await writeFile(file, "operator-supplied-token-123456\n", { mode: 0o600 });
    const admin = await start({ tokenFile: file });
    try {
      const r = await fetch(`${admin.url}/apis`, { headers: { authorization: "Bearer operator-supplied-token-123456" }, tls: { ca } });
      expect(r.status).toBe(200);
    } finally {
      await admin.stop();
    }
    await writeFile(file, "short");
    await expect(start({ tokenFile: file })).rejects.toThrow(/at least 16/);
  });
});
