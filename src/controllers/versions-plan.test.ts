import { describe, expect, test } from "bun:test";
import { LABELS } from "../api/meta.ts";
import { depotListOf, planVersions } from "./versions-plan.ts";

describe("planVersions", () => {
  test("the union of the person's and the Depot's lists, each version with every owner that lists it", () => {
    const plan = planVersions(["v2.1.0", "1.0.0"], undefined, [{ owner: "depot/mirror", field: "depotVersions", versions: ["2.1.0", "2.2.0"] }]);
    expect(plan.keep).toEqual(["2.2.0", "v2.1.0", "1.0.0"]);
    expect(plan.owners.get("v2.1.0")).toEqual(["spec.versions", "depot/mirror"]);
    expect(plan.owners.get("2.2.0")).toEqual(["depot/mirror"]);
    expect(plan.owners.get("1.0.0")).toEqual(["spec.versions"]);
    expect(plan.latest).toBe("v2.2.0");
  });

  test("versionHistoryLimit trims the union; entries that are not versions are reported with their field", () => {
    const plan = planVersions(["1.0.0", "latest"], 2, [{ owner: "depot/mirror", field: "depotVersions", versions: ["2.0.0", "3.0.0", ""] }]);
    expect(plan.keep).toEqual(["3.0.0", "2.0.0"]);
    expect(plan.trimmed).toEqual(["1.0.0"]);
    expect(plan.invalid).toEqual(['versions[1]: "latest" is not a semantic version', "depotVersions[2]: version is empty"]);
  });

  test("depotListOf names the Depot of the label, or a released list", () => {
    const spec = { versions: [], depotVersions: [{ version: "1.0.0" }] };
    expect(depotListOf({ metadata: { labels: { [LABELS.depot]: "mirror" } }, spec })[0]!.owner).toBe("depot/mirror");
    expect(depotListOf({ metadata: {}, spec })[0]!.owner).toBe("depot");
    expect(depotListOf({ metadata: {}, spec: {} })).toEqual([]);
  });
});
