// `bun run demo` (scripts/demo.ts) prints what it serves and a CLI configuration that the real Terraform CLI can use
// as printed: `terraform init` and `terraform validate` pass with the module it suggests.
import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForChild } from "../support/ports.ts";
import { TERRAFORM } from "../support/terraform.ts";

const DEMO = join(import.meta.dir, "..", "..", "scripts", "demo.ts");
let demo: ReturnType<typeof Bun.spawn> | undefined;
afterAll(async () => {
  demo?.kill("SIGTERM");
  await demo?.exited;
});

test("the demo prints what it serves and a ready-to-paste CLI config that terraform init and validate accept", async () => {
  if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}`);
  const root = await mkdtemp(join(tmpdir(), "opendepot-demo-"));
  const port = freePort();
  const gpgKey = join(import.meta.dir, "..", "..", "fixtures", "keys", "rogue-signing.private.asc");
  const proc = Bun.spawn(["bun", DEMO, "--listen", `127.0.0.1:${port}`, "--admin-listen=off", "--data-dir", join(root, "data"), "--gpg-key-file", gpgKey], { stdout: "pipe", stderr: "pipe" });
  demo = proc;
  let out = "";
  void (async () => {
    for await (const chunk of proc.stdout) out += new TextDecoder().decode(chunk);
  })();
  await waitForChild(proc, () => out.includes("\nmodule \"vpc\""), 60_000, "the demo's summary");
  expect(out).toContain("  module    registry.local/default/terraform-aws-vpc/aws   2.0.0, 1.2.0");
  expect(out).toContain("  provider  registry.local/default/aws   5.81.0   (placeholder binaries");
  const config = /host "registry\.local" \{[\s\S]*?\n\}\n/.exec(out)?.[0];
  expect(config).toContain(`"modules.v1"   = "http://127.0.0.1:${port}/opendepot/modules/v1/"`);
  const module = /module "vpc" \{[\s\S]*?\n\}\n/.exec(out)![0];

  const ws = join(root, "ws");
  await Bun.write(join(ws, "main.tf"), module);
  await writeFile(join(root, "cli.tfrc"), config!);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, TF_CLI_CONFIG_FILE: join(root, "cli.tfrc"), CHECKPOINT_DISABLE: "1" };
  for (const command of [["init", "-input=false", "-no-color"], ["validate", "-no-color"]]) {
    const tf = Bun.spawn([TERRAFORM, ...command], { cwd: ws, env, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(tf.stdout).text(), new Response(tf.stderr).text(), tf.exited]);
    expect({ command: command[0], code, stderr }).toEqual({ command: command[0], code: 0, stderr: "" });
    if (command[0] === "validate") expect(stdout).toContain("The configuration is valid");
  }
}, 120_000);
