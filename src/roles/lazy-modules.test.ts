// What the hot path does not need stays out of the module graph: Elysia (the app) until a request the fast path
// and the probes leave, openpgp until a key is parsed or a signature is made (a restart with known keys parses
// none), redis without --stats-url, YAML and the admin API (CRD documents) while they are off, jose without OIDC
// (or GCP / GitHub App credentials in use); the browse catalog is not built until browsed. Counted from the
// module registry of a real standalone process.
import { expect, test } from "bun:test";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { KEY_MEMO_FILE } from "./signing-key.ts";

const PROBE = join(import.meta.dir, "..", "..", "test", "support", "module-graph-probe.ts");

async function probe(dataDir: string, ...flags: string[]) {
  const proc = Bun.spawn(["bun", PROBE, dataDir, ...flags], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`probe exited ${code}: ${stderr}`);
  const lines = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  return { ready: lines.find((l) => l.phase === "ready"), browsed: lines.find((l) => l.phase === "browsed"), signed: lines.find((l) => l.phase === "signed") };
}

test("a restart with its keys present loads no Elysia, openpgp, redis, YAML, admin API or jose (no OIDC) until needed; the signature verifies", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-lazy-"));
  // First start: the key is generated (openpgp is needed for that) and its facts remembered.
  const first = await probe(dataDir);
  expect(first.ready.status).toBe(200);
  expect(first.ready.loaded.openpgp).toBeGreaterThan(0);
  const memo = JSON.parse(await readFile(join(dataDir, KEY_MEMO_FILE), "utf8"));
  expect(Object.keys(memo.keys)).toHaveLength(1);

  const second = await probe(dataDir);
  expect(second.ready.status).toBe(200);
  expect(second.ready.loaded).toMatchObject({ elysia: 0, openpgp: 0, redis: 0, yaml: 0, kubeapi: 0, jose: 0, uiPages: 0 });
  // Every controller runs by default, so their modules are loaded; with --controllers "" they are not.
  expect(second.ready.loaded.controllers).toBeGreaterThan(0);
  // Neither the app (Elysia) nor the browse catalog is built for readiness or a protocol answer; the first browse
  // request builds both, once.
  expect(second.ready).toMatchObject({ catalogBuilds: 0, appLoads: 0 });
  expect(second.browsed).toEqual({ phase: "browsed", statuses: [200, 200, 200], afterProtocol: { catalogBuilds: 0, appLoads: 0, elysia: 0 }, catalogBuilds: 1, appLoads: 1, elysia: true, explorerPage: expect.anything() });
  // The Explorer's pages (and marked) are imported at the first page, not with the browse API.
  expect(second.browsed.explorerPage).toMatchObject({ status: 200, pagesBefore: 0 });
  expect(second.browsed.explorerPage.type).toContain("text/html");
  expect(second.browsed.explorerPage.pagesAfter).toBeGreaterThan(0);
  // Signing loads openpgp and parses the key on demand; the signature is by the key the memo named.
  expect(second.signed.loaded.openpgp).toBeGreaterThan(0);
  expect(second.signed.keyId).toBe(first.signed.keyId);
  const key = await openpgp.readKey({ armoredKey: second.signed.publicKeyArmored });
  expect(key.getKeyID().toHex().toUpperCase()).toBe(second.signed.keyId);
  const result = await openpgp.verify({
    message: await openpgp.createMessage({ binary: new TextEncoder().encode("probe") }),
    signature: await openpgp.readSignature({ binarySignature: Buffer.from(second.signed.signature, "base64") }),
    verificationKeys: key,
  });
  expect(await result.signatures[0]!.verified).toBe(true);
}, 60_000);

test("standalone with --controllers \"\" imports no controller", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-lazy-"));
  const run = await probe(dataDir, "--controllers", "");
  expect(run.ready.status).toBe(200);
  expect(run.ready.loaded.controllers).toBe(0);
  expect(run.browsed.statuses).toEqual([200, 200, 200]);
}, 60_000);
