// Runs the real Terraform CLI against a registry on loopback, isolated in its own directory and CLI config.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TERRAFORM = process.env.TERRAFORM_BIN ?? "/usr/local/bin/terraform";
export const REGISTRY_HOST = "registry.local";

export interface TerraformRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const cliConfigFor = (baseUrl: string) =>
  `host "${REGISTRY_HOST}" {\n  services = {\n    "modules.v1"   = "${baseUrl}/opendepot/modules/v1/"\n    "providers.v1" = "${baseUrl}/opendepot/providers/v1/"\n  }\n}\n`;

export class TerraformWorkspace {
  private constructor(
    readonly dir: string,
    private readonly env: Record<string, string>,
  ) {}

  /** A workspace whose CLI config maps registry.local's services onto the registry at baseUrl (plain http). */
  static async create(baseUrl: string, files: Record<string, string>): Promise<TerraformWorkspace> {
    const dir = await mkdtemp(join(tmpdir(), "opendepot-tf-"));
    const cliConfig = join(dir, ".terraformrc");
    await writeFile(cliConfig, cliConfigFor(baseUrl));
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: dir,
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_IN_AUTOMATION: "1",
      CHECKPOINT_DISABLE: "1",
    };
    return new TerraformWorkspace(dir, env);
  }

  async run(...args: string[]): Promise<TerraformRun> {
    const proc = Bun.spawn([TERRAFORM, ...args, ...(args[0] === "init" ? ["-input=false", "-no-color"] : ["-no-color"])], {
      cwd: this.dir,
      env: this.env,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { exitCode, stdout, stderr };
  }

  /** Re-point registry.local at another registry URL (e.g. after a restart on a new port). */
  async pointAt(baseUrl: string): Promise<void> {
    await writeFile(this.env.TF_CLI_CONFIG_FILE!, cliConfigFor(baseUrl));
  }

  async write(name: string, content: string): Promise<void> {
    await writeFile(join(this.dir, name), content);
  }
}
