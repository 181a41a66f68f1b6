// Plumbing for the `terraform login` end-to-end test: a throwaway CA and server certificate (Terraform discovers
// login.v1 over HTTPS only), standalone serving TLS on loopback, and Terraform runs with their own HOME, the CA
// in SSL_CERT_FILE, and a fake `xdg-open` that hands the authorization URL to the test instead of a browser.
import { chmod, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForChild } from "../support/ports.ts";
import { TERRAFORM } from "../support/terraform.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

async function run(argv: string[], cwd: string): Promise<void> {
  const proc = Bun.spawn(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} failed: ${err}`);
}

/** A CA and a certificate for 127.0.0.1 and localhost signed by it (EC P-256: quick to generate). */
export async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  await mkdir(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run(["openssl", "req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=OpenDepot test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"], dir);
  await run(["openssl", "req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"], dir);
  await writeFile(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
  await run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "ext.cnf"], dir);
  return { ca: join(dir, "ca.pem"), cert: join(dir, "server.pem"), key: join(dir, "server.key") };
}

export interface TlsStandalone {
  /** host:port as Terraform addresses it, e.g. 127.0.0.1:41234 */
  host: string;
  url: string;
  logs: () => Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startTlsStandalone(options: { dataDir: string; manifests: string; certs: { ca: string; cert: string; key: string }; extra: string[] }): Promise<TlsStandalone> {
  const port = freePort();
  const argv = ["bun", MAIN, "standalone", "--listen", `127.0.0.1:${port}`, "--data-dir", options.dataDir, "--manifests", options.manifests];
  // No admin API: its default port (8081) is the developer's `bun start`'s; tests bind only free ports.
  argv.push("--tls-cert-path", options.certs.cert, "--tls-cert-key", options.certs.key, "--controllers", "", "--admin-listen=off", ...options.extra);
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const lines: Record<string, unknown>[] = [];
  let stderr = "";
  const stdoutDone = (async () => {
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += new TextDecoder().decode(chunk);
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          lines.push(JSON.parse(line));
        } catch {
          lines.push({ raw: line });
        }
      }
    }
  })();
  const stderrDone = (async () => {
    for await (const chunk of proc.stderr) stderr += new TextDecoder().decode(chunk);
  })();
  const url = `https://127.0.0.1:${port}`;
  const ca = await Bun.file(options.certs.ca).text();
  try {
    await waitForChild(proc, async () => (await fetch(`${url}/readyz`, { tls: { ca } })).ok, 20_000, "standalone (TLS) to become ready");
  } catch (e) {
    proc.kill("SIGKILL");
    await proc.exited;
    await Promise.all([stdoutDone, stderrDone]);
    throw new Error(`${(e as Error).message}\nexit=${proc.exitCode}\nstderr: ${stderr}\nlogs: ${JSON.stringify(lines.slice(-10))}`);
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    logs: () => lines,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

export interface TerraformResult {
  exitCode: number;
  output: string;
}

/**
 * A Terraform user: its own HOME (credentials land in ~/.terraform.d), our CA trusted, and an `xdg-open` on PATH
 * that writes the URL Terraform wants opened into a file, where the test plays the browser.
 */
export class TerraformUser {
  private constructor(
    readonly home: string,
    private readonly env: Record<string, string>,
  ) {}

  static async create(caFile: string, extraEnv: Record<string, string> = {}): Promise<TerraformUser> {
    const home = await mkdtemp(join(tmpdir(), "opendepot-tf-user-"));
    await mkdir(join(home, "bin"));
    await mkdir(join(home, ".terraform.d")); // terraform login writes credentials.tfrc.json here but won't create it
    const opener = join(home, "bin", "xdg-open");
    await writeFile(opener, '#!/bin/sh\nprintf "%s" "$1" > "$OPENDEPOT_TEST_BROWSER_FILE"\n');
    await chmod(opener, 0o755);
    const env = {
      PATH: `${join(home, "bin")}:/usr/bin:/bin`,
      HOME: home,
      SSL_CERT_FILE: caFile,
      CHECKPOINT_DISABLE: "1",
      OPENDEPOT_TEST_BROWSER_FILE: join(home, "browser-url"),
      ...extraEnv,
    };
    return new TerraformUser(home, env);
  }

  get browserUrlFile(): string {
    return this.env.OPENDEPOT_TEST_BROWSER_FILE!;
  }

  /** Start `terraform login <host>` and answer "yes" to its prompt; resolves when it exits. */
  login(host: string): Promise<TerraformResult> {
    const proc = Bun.spawn([TERRAFORM, "login", "-no-color", host], { cwd: this.home, env: this.env, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    proc.stdin.write("yes\n");
    proc.stdin.end();
    return collect(proc);
  }

  /** `terraform init` in a fresh directory holding `files`. */
  async init(files: Record<string, string>): Promise<TerraformResult & { dir: string }> {
    const dir = await mkdtemp(join(this.home, "ws-"));
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    const proc = Bun.spawn([TERRAFORM, "init", "-input=false", "-no-color"], { cwd: dir, env: this.env, stdout: "pipe", stderr: "pipe" });
    return { ...(await collect(proc)), dir };
  }
}

async function collect(proc: { stdout: ReadableStream<Uint8Array>; stderr: ReadableStream<Uint8Array>; exited: Promise<number> }): Promise<TerraformResult> {
  const [out, err, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, output: `${out}${err}` };
}
