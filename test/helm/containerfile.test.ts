// The Containerfile's two images, read as the build would (no container engine here): the default image stays the
// last stage (what a plain build produces), and the scanning variant adds the Trivy binary the chart's controller
// runs, from the same pinned Trivy release as the chart's DB updater (one DB schema for both).
import { describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CHART, ROOT } from "./helm.ts";

const text = await readFile(join(ROOT, "Containerfile"), "utf8");
const lines = text.split("\n").filter((l) => l.trim() && !l.trimStart().startsWith("#"));
const args = Object.fromEntries(lines.filter((l) => l.startsWith("ARG ") && l.includes("=")).map((l) => l.slice(4).split("=") as [string, string]));
/** Stages in order: their FROM line and instructions. */
const stages = lines.reduce<{ from: string; name?: string; body: string[] }[]>((acc, l) => {
  const m = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(l);
  if (m) acc.push({ from: m[1]!, ...(m[2] ? { name: m[2] } : {}), body: [] });
  else acc.at(-1)?.body.push(l);
  return acc;
}, []);
/** A stage's instructions with those of the stages it is built FROM (a `FROM <stage>` inherits its filesystem and config). */
const effective = (stage: (typeof stages)[number]): string[] => {
  const parent = stages.find((s) => s.name === stage.from);
  return parent && parent !== stage ? [...effective(parent), ...stage.body] : stage.body;
};
/** The base image a stage ends up on, following `FROM <stage>` chains. */
const baseOf = (stage: (typeof stages)[number]): string => {
  const parent = stages.find((s) => s.name === stage.from);
  return parent && parent !== stage ? baseOf(parent) : resolve(stage.from);
};
const values = Bun.YAML.parse(await readFile(join(CHART, "values.yaml"), "utf8")) as any;
const resolve = (ref: string) => ref.replace(/^\$\{(\w+)\}$/, (_, k) => args[k] ?? ref);

describe("Containerfile", () => {
  test("the default image is the last stage, unnamed, on the distroless runtime, as uid 65532", () => {
    const last = stages.at(-1)!;
    expect(last.name).toBeUndefined();
    expect(baseOf(last)).toBe("gcr.io/distroless/cc-debian12:nonroot");
    expect(effective(last)).toEqual(expect.arrayContaining(["COPY --from=build /out/opendepot /usr/local/bin/opendepot", "USER 65532:65532", 'ENTRYPOINT ["/usr/local/bin/opendepot"]']));
    expect(effective(last).some((l) => l.includes("trivy"))).toBe(false);
    expect(last.body.at(-1)).toBe('CMD ["standalone", "--listen", "0.0.0.0:8080", "--data-dir", "/data"]');
  });

  test("the scanning stage: the same runtime and binary plus /usr/local/bin/trivy from the pinned Trivy image", () => {
    const scanning = stages.find((s) => s.name === "scanning")!;
    expect(baseOf(scanning)).toBe(baseOf(stages.at(-1)!));
    expect(scanning.body.at(-1)).toBe('CMD ["controller"]');
    expect(effective(scanning)).toEqual(expect.arrayContaining(["COPY --from=build /out/opendepot /usr/local/bin/opendepot", "COPY --from=trivy /usr/local/bin/trivy /usr/local/bin/trivy", "COPY --from=build --chown=65532:65532 /out/data /data", "USER 65532:65532", 'ENTRYPOINT ["/usr/local/bin/opendepot"]']));
    const trivy = stages.find((s) => s.name === "trivy")!;
    expect(resolve(trivy.from)).toBe(`${values.scanning.dbUpdater.image.repository}:${values.scanning.dbUpdater.image.tag}`);
    expect(values.scanning.dbUpdater.image.tag).toBe("0.74.0");
  });

  test("the chart's controller runs the Trivy path the scanning stage installs", async () => {
    const controller = await readFile(join(CHART, "templates", "controller.yaml"), "utf8");
    expect(controller).toContain("--trivy-path=/usr/local/bin/trivy");
  });
});
