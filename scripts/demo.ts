// `bun run demo`: a registry with content, offline. Starts the fake GitHub and OpenTofu registry from fixtures/,
// then `opendepot standalone` pointed at them with the sample manifests in examples/manifests, and once the content
// is served prints what it serves and a CLI configuration ready to paste. Extra arguments go to standalone.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startSampleUpstreams } from "../fixtures/upstream-fakes.ts";

const root = join(import.meta.dir, "..");
const manifests = join(root, "examples", "manifests");
const args = process.argv.slice(2);
const argValue = (name: string) => {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i]!.includes("=") ? args[i]!.slice(args[i]!.indexOf("=") + 1) : args[i + 1];
};
const listen = argValue("listen") ?? process.env.OPENDEPOT_LISTEN ?? "127.0.0.1:8080";
const hostPort = listen.startsWith(":") ? `127.0.0.1${listen}` : listen.replace(/^0\.0\.0\.0:/, "127.0.0.1:");
const base = `http://${hostPort}`;

const upstreams = await startSampleUpstreams();
const child = Bun.spawn(["bun", join(root, "src", "main.ts"), "standalone", "--manifests", manifests, ...args], {
  env: { ...process.env, ...upstreams.env },
  stdout: "inherit",
  stderr: "inherit",
});
console.error(`demo: fake GitHub at ${upstreams.env.OPENDEPOT_GITHUB_API_URL}, fake OpenTofu registry at ${upstreams.env.OPENDEPOT_OPENTOFU_REGISTRY_URL}`);
const stop = async (code = 0) => {
  child.kill("SIGTERM");
  await child.exited;
  await upstreams.stop();
  process.exit(code);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());

interface Declared {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: { moduleConfig?: { provider?: string }; versions?: { version?: string }[] };
}
const declared = (await readFile(join(manifests, "registry.yaml"), "utf8"))
  .split(/^---\s*$/m)
  .map((doc) => Bun.YAML.parse(doc) as Declared | null)
  .filter((d): d is Declared => d?.kind === "Module" || d?.kind === "Provider");

/** What the registry serves for one declared Module/Provider (versions, newest first), or [] until it does. */
async function served(d: Declared): Promise<string[]> {
  const ns = d.metadata.namespace ?? "default";
  const url = d.kind === "Module" ? `${base}/opendepot/modules/v1/${ns}/${d.metadata.name}/${d.spec.moduleConfig?.provider}/versions` : `${base}/opendepot/providers/v1/${ns}/${d.metadata.name}/versions`;
  const r = await fetch(url).catch(() => undefined);
  if (!r?.ok) return [];
  const body = (await r.json()) as { modules?: { versions: { version: string }[] }[]; versions?: { version: string }[] };
  return (body.modules?.[0]?.versions ?? body.versions ?? []).map((v) => v.version);
}

// Wait (bounded by attempts) until everything declared is served, then say so once.
let lines: string[] = [];
for (let attempt = 0; attempt < 600 && child.exitCode === null; attempt++) {
  const all = await Promise.all(declared.map(async (d) => ({ d, versions: await served(d) })));
  if (all.every((x) => x.versions.length === (x.d.spec.versions?.length ?? 0))) {
    lines = all.map(({ d, versions }) => {
      const ns = d.metadata.namespace ?? "default";
      return d.kind === "Module"
        ? `  module    registry.local/${ns}/${d.metadata.name}/${d.spec.moduleConfig?.provider}   ${versions.join(", ")}`
        : `  provider  registry.local/${ns}/${d.metadata.name}   ${versions.join(", ")}   (placeholder binaries: terraform init installs them, validate/plan cannot run them)`;
    });
    break;
  }
  await Bun.sleep(200);
}
if (child.exitCode !== null) await stop(child.exitCode || 1);
if (!lines.length) {
  console.error("demo: the sample content did not become available; see the log above");
} else {
  console.log(`
demo: serving
${lines.join("\n")}

Paste into a CLI configuration (~/.terraformrc, ~/.tofurc, or a file named by TF_CLI_CONFIG_FILE):

host "registry.local" {
  services = {
    "modules.v1"   = "${base}/opendepot/modules/v1/"
    "providers.v1" = "${base}/opendepot/providers/v1/"
  }
}

Then, for a configuration that also passes \`terraform validate\` (modules only; the demo's providers are placeholders):

module "vpc" {
  source  = "registry.local/default/terraform-aws-vpc/aws"
  version = "~> 2.0"
}
`);
}
await child.exited;
await upstreams.stop();
