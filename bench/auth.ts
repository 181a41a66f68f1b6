// Benchmark: what OIDC + GroupBindings cost on the hot path. The same module-versions call under wrk, served
// anonymously and with a bearer JWT checked against 100 GroupBindings (the matching one last by name), plus the
// uncached costs behind it: one signature verification, and one evaluation of all 100 bindings.
//   bun bench/auth.ts [--seconds 8] [--connections 32]
// Requires wrk (apt-get install wrk). Stops by itself.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FixtureOidcProvider } from "../fixtures/oidc-provider.ts";
import type { GroupBindingObject, ModuleObject, VersionObject } from "../src/api/kinds.ts";
import { API_VERSION, LABELS } from "../src/api/meta.ts";
import { artifactFileName, moduleVersionName } from "../src/api/naming.ts";
import { silentLogger } from "../src/log.ts";
import { BindingIndex } from "../src/server/auth/binding-index.ts";
import { JwksCache } from "../src/server/auth/jwks.ts";
import { discover } from "../src/server/auth/oidc-discovery.ts";
import { OidcVerifier } from "../src/server/auth/oidc-verifier.ts";
import { EmbeddedStore } from "../src/store/embedded.ts";
import { freePort, waitFor } from "../test/support/ports.ts";
import { StaticFeed } from "../test/support/static-feed.ts";
import { summarize, table, wrk, type WrkResult, numberArg as arg } from "./support.ts";

const SECONDS = arg("seconds", 8);
const CONNECTIONS = arg("connections", 32);
const BINDINGS = 100;
const GLOBAL_NS = "opendepot-system";
const GROUPS = ["platform-team", "developers", "oncall", "eu-staff", "org-acme-infra", "readers", "builders", "auditors"];
const PATH = "/opendepot/modules/v1/bench/network/aws/versions";

/** A mix of the expression shapes people write; only the last (by name) matches GROUPS. */
function bindings(): GroupBindingObject[] {
  const shapes = [
    (i: number) => `"team-${i}" in groups`,
    (i: number) => `any(groups, # startsWith "dept-${i}-")`,
    (i: number) => `"team-${i}" in groups and not ("contractors" in groups)`,
    (i: number) => `any(groups, # matches "^org-${i}-[a-z]+$")`,
    (i: number) => `len(filter(groups, # endsWith "-${i}")) > 1`,
  ];
  return Array.from({ length: BINDINGS }, (_, i) => ({
    apiVersion: API_VERSION,
    kind: "GroupBinding",
    metadata: { name: `binding-${String(i).padStart(3, "0")}`, namespace: GLOBAL_NS },
    spec: i === BINDINGS - 1 ? { expression: '"platform-team" in groups', moduleResources: ["net*"], providerResources: ["*"] } : { expression: shapes[i % shapes.length]!(i), moduleResources: ["*"], providerResources: ["*"] },
  }));
}

async function populate(dataDir: string) {
  const store = EmbeddedStore.open(join(dataDir, "store.db"), { namespaces: [GLOBAL_NS, "bench"] });
  await store.create<ModuleObject>({ apiVersion: API_VERSION, kind: "Module", metadata: { name: "network", namespace: "bench" }, spec: { moduleConfig: { provider: "aws" }, versions: [] } });
  for (let v = 0; v < 20; v++) {
    const version = `1.${v}.0`;
    const created = await store.create<VersionObject>({
      apiVersion: API_VERSION,
      kind: "Version",
      metadata: { name: moduleVersionName("network", version), namespace: "bench", labels: { [LABELS.module]: "network", [LABELS.namespace]: "bench" } },
      spec: { type: "Module", version, fileName: artifactFileName(".zip"), moduleConfigRef: { name: "network" } },
    });
    await store.updateStatus({ ...created, status: { synced: true, checksum: new Bun.CryptoHasher("sha256").update(version).digest("base64") } });
  }
  for (const b of bindings()) await store.create(b);
  await store.close();
}

async function serve(dataDir: string, extra: string[], headers: Record<string, string>): Promise<WrkResult> {
  const port = freePort();
  const proc = Bun.spawn(["bun", join(import.meta.dir, "..", "src", "main.ts"), "standalone", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, "--controllers", "", "--admin-listen", "off", ...extra], { stdout: "ignore", stderr: "inherit" });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, 60_000, "registry");
    const probe = await fetch(url + PATH, { headers });
    if (probe.status !== 200) throw new Error(`probe got ${probe.status}: ${await probe.text()}`);
    await wrk(url + PATH, { headers, seconds: 2, connections: CONNECTIONS }); // warm-up
    return await wrk(url + PATH, { headers, seconds: SECONDS, connections: CONNECTIONS });
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

/** Microseconds per call of fn, over enough calls to take ~1 s. */
async function perCall(fn: (i: number) => unknown | Promise<unknown>): Promise<number> {
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < 1000) await fn(n++);
  return ((performance.now() - started) * 1000) / n;
}

async function main() {
  const idp = await FixtureOidcProvider.start({ user: { sub: "bench", groups: GROUPS }, clients: [{ id: "terraform-cli", redirectUris: "loopback" }] });
  const dataDir = await mkdtemp(join(tmpdir(), "opendepot-bench-auth-"));
  await populate(dataDir);
  const token = await idp.mint({ sub: "bench", aud: "terraform-cli", groups: GROUPS });
  const oidcFlags = ["--oidc-issuer-url", idp.issuer, "--oidc-client-id", "terraform-cli"];
  try {
    const anonymous = await serve(dataDir, [], {});
    // The same bytes on the wire without checking them: separates HTTP parsing of the header from the auth work.
    const ignored = await serve(dataDir, [], { authorization: `Bearer ${token}` });
    const oidc = await serve(dataDir, oidcFlags, { authorization: `Bearer ${token}` });
    const row = (mode: string, r: WrkResult) => ({ mode, "req/s": Math.round(r.requestsPerSec), "ratio to anonymous": (r.requestsPerSec / anonymous.requestsPerSec).toFixed(2), "p50 ms": r.p50ms.toFixed(2), "p99 ms": r.p99ms.toFixed(2), errors: r.errors });
    console.log(`GET ${PATH} — wrk -c${CONNECTIONS} -d${SECONDS}s, one Bun process`);
    console.log(table([row("anonymous", anonymous), row("anonymous, token sent but ignored", ignored), row(`OIDC JWT + ${BINDINGS} GroupBindings`, oidc)]));
    await summarize("auth", [{ measure: `OIDC (RS256) + ${BINDINGS} GroupBindings vs anonymous, req/s`, ours: String(Math.round(oidc.requestsPerSec)), reference: String(Math.round(anonymous.requestsPerSec)), ratio: (oidc.requestsPerSec / anonymous.requestsPerSec).toFixed(2) }]);

    // The work the memos save, measured in-process.
    const d = await discover(idp.issuer);
    const jwks = new JwksCache(d.jwksUri, { log: silentLogger });
    await jwks.load();
    const tokens = await Promise.all(Array.from({ length: 2000 }, (_, i) => idp.mint({ sub: `u${i}`, aud: "terraform-cli", groups: GROUPS })));
    const verifier = new OidcVerifier({ issuer: idp.issuer, clientId: "terraform-cli" }, jwks);
    for (const t of tokens) await verifier.verify(t);
    const memoUs = await perCall((i) => verifier.verify(tokens[i % tokens.length]!)); // all remembered now
    const fresh = () => new OidcVerifier({ issuer: idp.issuer, clientId: "terraform-cli" }, jwks);
    let v = fresh();
    const uncachedUs = await perCall(async (i) => {
      if (i % tokens.length === 0) v = fresh(); // forget everything each round: every call verifies a signature
      await v.verify(tokens[i % tokens.length]!);
    });
    const index = new BindingIndex(new StaticFeed(bindings()), { globalNamespace: GLOBAL_NS, log: silentLogger });
    const evalUs = await perCall((i) => index.select([...GROUPS, `g${i}`], "bench")); // a new group list each time: no memo hit
    console.log("\nin-process, per call:");
    console.log(
      table([
        { step: "RS256 signature + claims check (token not seen before)", "µs": uncachedUs.toFixed(1) },
        { step: "verified-token memo hit", "µs": memoUs.toFixed(1) },
        { step: `all ${BINDINGS} GroupBindings evaluated (group list not seen before)`, "µs": evalUs.toFixed(1) },
      ]),
    );
  } finally {
    await idp.stop();
  }
}

await main();
