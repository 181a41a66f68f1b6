// The image's binary, proven without a container engine: compiled with the Containerfile's own `bun build` line,
// started as uid/gid 65532 (the distroless nonroot user) with a working directory it cannot write and a data dir it
// owns, then the real Terraform CLI installs the sample module and provider from it (as the standalone end-to-end
// test does). Size and idle RSS are printed for the record (bench numbers, not asserted budgets).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { createFixtureRegistry } from "../e2e/fixture-registry.ts";
import { collectJsonLines } from "../support/role-process.ts";
import { freePort, waitFor } from "../support/ports.ts";
import { installSampleModules, installSampleProvider } from "../support/sample-registry.ts";
import { TERRAFORM } from "../support/terraform.ts";
import { ROOT } from "./helm.ts";

const NONROOT = 65532;
let root: string;
let binary: string;
let proc: ReturnType<typeof Bun.spawn> | undefined;
let url: string;
const logs: Record<string, unknown>[] = [];

/** The `bun build --compile` command of the Containerfile, with its output moved to `outfile`. */
async function containerfileBuild(outfile: string): Promise<string[]> {
  const text = await readFile(join(ROOT, "Containerfile"), "utf8");
  const line = text.split("\n").find((l) => /^RUN bun build --compile\b/.test(l));
  if (!line) throw new Error("the Containerfile has no `RUN bun build --compile` line");
  const argv = line.replace(/^RUN /, "").trim().split(/\s+/);
  const out = argv.indexOf("--outfile");
  if (out === -1) throw new Error("the Containerfile's bun build has no --outfile");
  argv[out + 1] = outfile;
  return argv;
}

async function chownTree(dir: string) {
  await chown(dir, NONROOT, NONROOT);
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) await chown(join(entry.parentPath, entry.name), NONROOT, NONROOT);
}

const rssKiB = async (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1]);

beforeAll(async () => {
  if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}: the acceptance tests need it`);
  if (process.getuid?.() !== 0) throw new Error("this test switches to uid 65532 with setpriv and must run as root (as CI does)");
  const fixture = await createFixtureRegistry();
  root = fixture.root;
  binary = join(root, "bin", "opendepot");
  const argv = await containerfileBuild(binary);
  const build = Bun.spawn(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(build.stderr).text(), build.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} failed: ${err}`);

  // Everything root-owned and read-only for 65532 except the data dir, as in the image (WORKDIR /, /data 65532).
  for (const dir of [root, join(root, "bin"), fixture.manifests]) await chmod(dir, 0o755);
  for (const f of await readdir(fixture.manifests)) await chmod(join(fixture.manifests, f), 0o644);
  await chmod(binary, 0o755);
  await chownTree(fixture.dataDir);
  await chmod(fixture.dataDir, 0o700);
  const workdir = join(root, "workdir");
  await mkdir(workdir, { mode: 0o755 });

  const port = freePort();
  url = `http://127.0.0.1:${port}`;
  proc = Bun.spawn(
    ["setpriv", `--reuid=${NONROOT}`, `--regid=${NONROOT}`, "--clear-groups", "--no-new-privs", binary, "standalone", "--listen", `127.0.0.1:${port}`, "--admin-listen=off", "--data-dir", fixture.dataDir, "--manifests", fixture.manifests, "--controllers", ""],
    { cwd: workdir, stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin", HOME: "/nonexistent" } },
  );
  void collectJsonLines(proc.stdout as ReadableStream<Uint8Array>, logs);
  void collectJsonLines(proc.stderr as ReadableStream<Uint8Array>, logs);
  await waitFor(async () => proc!.exitCode === null && (await fetch(`${url}/readyz`)).ok, 30_000, `the compiled binary to become ready (logs: ${JSON.stringify(logs.slice(-5))})`);
}, 180_000);

afterAll(async () => {
  proc?.kill("SIGTERM");
  await proc?.exited;
});

describe("the compiled binary (Containerfile build) as uid 65532", () => {
  test("runs as 65532:65532 with no privileges, and reports its size and idle RSS", async () => {
    const status = await readFile(`/proc/${proc!.pid}/status`, "utf8");
    expect(/^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1)).toEqual(["65532", "65532", "65532", "65532"]);
    expect(/^Gid:\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1)).toEqual(["65532", "65532"]);
    expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).toBe("0000000000000000");
    expect(/^NoNewPrivs:\s+(\d)/m.exec(status)?.[1]).toBe("1");
    await Bun.sleep(1000);
    const size = (await stat(binary)).size;
    console.log(`compiled binary: ${(size / 1024 / 1024).toFixed(1)} MiB; idle RSS after start: ${((await rssKiB(proc!.pid)) / 1024).toFixed(1)} MiB`);
    expect(size).toBeGreaterThan(0);
  });

  test("terraform init installs the module (with its submodule) and the signed provider from it", async () => {
    await installSampleModules(url);
    await installSampleProvider(url);
    console.log(`RSS after serving terraform init twice: ${((await rssKiB(proc!.pid)) / 1024).toFixed(1)} MiB`);
  }, 120_000);

  test("it wrote nothing outside its data dir; the data dir holds its generated keys, mode 0600, owned by 65532", async () => {
    expect(await readdir(join(root, "workdir"))).toEqual([]);
    const dataDir = join(root, "data");
    for (const key of ["url-signing.key", "signing-key.asc"]) {
      const s = await stat(join(dataDir, key));
      expect({ key, uid: s.uid, mode: (s.mode & 0o777).toString(8) }).toEqual({ key, uid: NONROOT, mode: "600" });
    }
    expect(logs.filter((l) => l.level === "error")).toEqual([]);
  });

  test("every role of the one image answers --help (one binary for standalone, serve, controller, keygen)", async () => {
    for (const role of ["standalone", "serve", "controller", "keygen"]) {
      const p = Bun.spawn(["setpriv", `--reuid=${NONROOT}`, `--regid=${NONROOT}`, "--clear-groups", binary, role, "--help"], { cwd: join(root, "workdir"), stdout: "pipe", stderr: "pipe" });
      const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
      expect({ role, code, usage: out.startsWith(`Usage: opendepot ${role}`) }).toEqual({ role, code: 0, usage: true });
    }
    const c = Bun.spawn([binary, "controller", "--help"], { stdout: "pipe" });
    expect(await new Response(c.stdout).text()).toContain("--bootstrap-keys-secret");
  });
});
