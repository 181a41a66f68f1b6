// The chart rendered once per test process by the real Helm 3 and Helm 4 for every combination of MATRIX, shared
// by render-matrix.test.ts (per-combination checks) and render-features.test.ts (what each combination turns on).
import { beforeAll } from "bun:test";
import { parseFlags, type FlagSpec } from "../../src/cli/flags.ts";
import { CONTROLLER_ROLE_FLAGS } from "../../src/roles/controller-role.ts";
import { SERVE_FLAGS } from "../../src/roles/serve.ts";
import { KubeSchemas } from "./kube-schema.ts";
import { HELMS, MATRIX, NAMESPACE, RELEASE, requireHelm, template, type K8sObject } from "./helm.ts";

const ROLE_FLAGS: Record<string, FlagSpec[]> = { serve: SERVE_FLAGS, controller: CONTROLLER_ROLE_FLAGS };
export const FULLNAME = `${RELEASE}-opendepot`;

export interface RenderedChart {
  /** Every combination rendered by every Helm, keyed `helm3|name` / `helm4|name`. */
  rendered: Map<string, K8sObject[]>;
  /** The real Kubernetes v1.32 and Gateway API schemas the documents are checked against. */
  schemas: KubeSchemas;
}

let rendering: Promise<RenderedChart> | undefined;

/** The chart rendered once per process, then shared; filled in by the file's beforeAll (Helm takes seconds). */
export function renderedChart(): RenderedChart {
  const chart = {} as RenderedChart;
  beforeAll(async () => Object.assign(chart, await renderAll()), 120_000);
  return chart;
}

function renderAll(): Promise<RenderedChart> {
  rendering ??= (async () => {
    for (const helm of HELMS) requireHelm(helm);
    const rendered = new Map<string, K8sObject[]>();
    await Promise.all(
      HELMS.flatMap((helm) =>
        Object.entries(MATRIX).map(async ([name, values]) => {
          const r = await template(helm, values);
          if (!r.ok) throw new Error(`${helm.name} template "${name}" failed: ${r.error}`);
          rendered.set(`${helm.name}|${name}`, r.docs);
        }),
      ),
    );
    return { rendered, schemas: new KubeSchemas() };
  })();
  return rendering;
}

/** What a container's args resolve to, as the role would see them (env values where literal, and the pod's namespace). */
export function roleFlags(container: any): { role: string; flags: Record<string, string | undefined> } {
  const [role, ...args] = container.args as string[];
  const specs = ROLE_FLAGS[role!];
  if (!specs) throw new Error(`container ${container.name} runs unknown role "${role}"`);
  const env = Object.fromEntries(
    (container.env ?? []).flatMap((e: any) => (typeof e.value === "string" ? [[e.name, e.value]] : e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace" ? [[e.name, NAMESPACE]] : [])),
  );
  return { role: role!, flags: parseFlags(specs, args, env) };
}
