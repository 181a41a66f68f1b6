// The Explorer's client script (src/ui/client/app.ts) bundled and minified by Bun, as the server embeds it. Kept
// out of src/: bundling is a build step (Bun's bundler), while src/ui/client-bundle.ts, the committed result, is
// plain TypeScript every runtime loads (Deno has no macros) and `bun build --compile` embeds.
import { join } from "node:path";

export const CLIENT_BUNDLE_FILE = join(import.meta.dir, "..", "src", "ui", "client-bundle.ts");

export function bundleClientScript(): string {
  const result = Bun.spawnSync([process.execPath, "build", join(import.meta.dir, "..", "src", "ui", "client", "app.ts"), "--minify", "--target=browser", "--format=esm"], { stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`client bundle failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

export const clientBundleModule = (script: string) =>
  `// Generated from src/ui/client/ by \`bun run gen:ui\`. Do not edit (src/ui/client-bundle.test.ts checks it is current).\nexport const CLIENT_SCRIPT = ${JSON.stringify(script)};\n`;
