// `bun run demo`: a registry with content, offline. Starts the fake GitHub and OpenTofu registry from fixtures/,
// then `opendepot standalone` pointed at them with the sample manifests in examples/manifests.
import { join } from "node:path";
import { startSampleUpstreams } from "../fixtures/upstream-fakes.ts";

const upstreams = await startSampleUpstreams();
const root = join(import.meta.dir, "..");
const child = Bun.spawn(["bun", join(root, "src", "main.ts"), "standalone", "--manifests", join(root, "examples", "manifests"), ...process.argv.slice(2)], {
  env: { ...process.env, ...upstreams.env },
  stdout: "inherit",
  stderr: "inherit",
});
console.error(`demo: fake GitHub at ${upstreams.env.OPENDEPOT_GITHUB_API_URL}, fake OpenTofu registry at ${upstreams.env.OPENDEPOT_OPENTOFU_REGISTRY_URL}`);
const stop = async () => {
  child.kill("SIGTERM");
  await child.exited;
  await upstreams.stop();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
await child.exited;
await upstreams.stop();
