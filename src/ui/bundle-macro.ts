// Runs at bundle time (imported `with { type: "macro" }`): Bun bundles and minifies the client script and the
// result is inlined into the server code as a string, so `bun build --compile` embeds it in the one binary.
// (A macro may not call Bun.build in-process — the bundler would wait on itself — so it runs the CLI.)
export function bundleClientScript(): string {
  const result = Bun.spawnSync([process.execPath, "build", `${import.meta.dir}/client/app.ts`, "--minify", "--target=browser", "--format=esm"], { stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`client bundle failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}
