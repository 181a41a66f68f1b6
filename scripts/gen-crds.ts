// Writes crds/*.yaml from the schemas in src/api (the one source of truth).
import { join } from "node:path";
import { renderCrds } from "../src/api/crd.ts";
import { runtime } from "../src/runtime/index.ts";

// Written twice: crds/ for kubectl users, and the Helm chart's crds/ (Helm installs those before the templates).
for (const dir of ["crds", "helm/opendepot/crds"]) {
  for (const { file, yaml } of renderCrds(runtime.stringifyYaml)) {
    await Bun.write(join(import.meta.dir, "..", dir, file), yaml);
    console.log(`wrote ${dir}/${file}`);
  }
}
