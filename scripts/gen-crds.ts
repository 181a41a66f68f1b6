// Writes crds/*.yaml from the schemas in src/api (the one source of truth).
import { join } from "node:path";
import { renderCrds } from "../src/api/crd.ts";

const dir = join(import.meta.dir, "..", "crds");
for (const { file, yaml } of renderCrds()) {
  await Bun.write(join(dir, file), yaml);
  console.log(`wrote crds/${file}`);
}
