// Benchmark: what OIDC + GroupBindings cost on the hot path. The same module-versions call under wrk, served
// anonymously and with a bearer JWT checked against 100 GroupBindings (the matching one last by name), plus the
// uncached costs behind it: one signature verification, and one evaluation of all 100 bindings.
//   bun bench/auth.ts [--seconds 8] [--connections 32] [--rounds 3]
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
import { median, summarize, table, wrk, wrkWithCpu, numberArg as arg } from "./support.ts";

const SECONDS = arg("seconds", 8);
const CONNECTIONS = arg("connections", 32);
const ROUNDS = arg("rounds", 3);
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

interface Served {
  url: string;
  pid: number;
  stop: () => Promise<void>;
}

async function serve(dataDir: string, extra: string[], headers: Record<string, string>): Promise<Served> {
  const port = freePort();
  const proc = Bun.spawn(["bun", join(import.meta.dir, "..", "src", "main.ts"), "standalone", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, "--controllers", "", "--admin-listen", "off", ...extra], { stdout: "ignore", stderr: "inherit" });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc.exited;
  };
  try {
    await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, 60_000, "registry");
    const probe = await fetch(url + PATH, { headers });
    if (probe.status !== 200) throw new Error(`probe got ${probe.status}: ${await probe.text()}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: url + PATH, pid: proc.pid!, stop };
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
  const modes: { mode: string; extra: string[]; headers: Record<string, string> }[] = [
    { mode: "anonymous", extra: [], headers: {} },
    // The same bytes on the wire without checking them: separates HTTP parsing of the header from the auth work.
    { mode: "anonymous, token sent but ignored", extra: [], headers: { authorization: `Bearer ${token}` } },
    { mode: `OIDC JWT + ${BINDINGS} GroupBindings`, extra: oidcFlags, headers: { authorization: `Bearer ${token}` } },
  ];
  const servers: (Served & { headers: Record<string, string> })[] = [];
  try {
    for (const m of modes) servers.push({ ...(await serve(dataDir, m.extra, m.headers)), headers: m.headers });
    const runs = modes.map(() => ({ rps: [] as number[], cpu: [] as number[], p50: [] as number[], p99: [] as number[], errors: 0 }));
    for (const s of servers) await wrk(s.url, { headers: s.headers, seconds: 2, connections: CONNECTIONS }); // warm-up
    // Interleaved rounds: a burst of load elsewhere on this shared machine hits every mode alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, s] of servers.entries()) {
        const r = await wrkWithCpu(s.url, s.pid, { headers: s.headers, seconds: SECONDS, connections: CONNECTIONS });
        runs[i]!.rps.push(r.requestsPerSec);
        runs[i]!.cpu.push(r.cpuUsPerRequest);
        runs[i]!.p50.push(r.p50ms);
        runs[i]!.p99.push(r.p99ms);
        runs[i]!.errors += r.errors;
      }
    }
    const anonymous = runs[0]!;
    const rows = modes.map((m, i) => {
      const r = runs[i]!;
      if (r.errors > 0) throw new Error(`${m.mode} answered ${r.errors} errors: the comparison is void`);
      return {
        mode: m.mode,
        "req/s (median)": Math.round(median(r.rps)),
        "ratio to anonymous": (median(r.rps) / median(anonymous.rps)).toFixed(2),
        "CPU µs/req": median(r.cpu).toFixed(1),
        "p50 ms": median(r.p50).toFixed(2),
        "p99 ms": median(r.p99).toFixed(2),
        errors: r.errors,
      };
    });
    console.log(`GET ${PATH} — wrk -c${CONNECTIONS} -d${SECONDS}s × ${ROUNDS} interleaved rounds, one Bun process per mode`);
    console.log(table(rows));
    const oidc = runs[2]!;
    await summarize("auth", [
      { measure: `OIDC (RS256) + ${BINDINGS} GroupBindings vs anonymous, req/s`, ours: String(Math.round(median(oidc.rps))), reference: String(Math.round(median(anonymous.rps))), ratio: (median(oidc.rps) / median(anonymous.rps)).toFixed(2) },
      { measure: `OIDC (RS256) + ${BINDINGS} GroupBindings vs anonymous, CPU µs/req (lower is better)`, ours: median(oidc.cpu).toFixed(1), reference: median(anonymous.cpu).toFixed(1), ratio: (median(oidc.cpu) / median(anonymous.cpu)).toFixed(2) },
      // The same bytes on the wire both ways: what the verification and the bindings cost, without the header's parsing.
      { measure: `OIDC (RS256) + ${BINDINGS} GroupBindings vs anonymous with the same token sent and ignored, req/s`, ours: String(Math.round(median(oidc.rps))), reference: String(Math.round(median(runs[1]!.rps))), ratio: (median(oidc.rps) / median(runs[1]!.rps)).toFixed(2) },
    ]);
  } catch (e) {
    await idp.stop();
    throw e;
  } finally {
    for (const s of servers) await s.stop();
  }

  try {
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
