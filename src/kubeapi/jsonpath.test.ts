import { describe, expect, test } from "bun:test";
import { compileJsonPath } from "./jsonpath.ts";
import { humanDuration } from "./table.ts";

const obj = {
  metadata: { name: "x", labels: { "app.kubernetes.io/name": "y" } },
  status: { conditions: [{ type: "Synced", status: "False" }, { type: "Ready", status: "True" }], modules: ["a", "b"], count: 3 },
};

describe("printer-column JSONPath", () => {
  test("fields, indexes, wildcards, quoted keys and == / != filters", () => {
    expect(compileJsonPath(".metadata.name")(obj)).toEqual(["x"]);
    expect(compileJsonPath("{.status.modules[1]}")(obj)).toEqual(["b"]);
    expect(compileJsonPath(".status.modules[-1]")(obj)).toEqual(["b"]);
    expect(compileJsonPath(".status.conditions[*].type")(obj)).toEqual(["Synced", "Ready"]);
    expect(compileJsonPath(".metadata.labels['app.kubernetes.io/name']")(obj)).toEqual(["y"]);
    expect(compileJsonPath('.status.conditions[?(@.type=="Ready")].status')(obj)).toEqual(["True"]);
    expect(compileJsonPath(".status.conditions[?(@.type!='Ready')].status")(obj)).toEqual(["False"]);
    expect(compileJsonPath(".status.missing.deeper")(obj)).toEqual([]);
    expect(compileJsonPath("$.status.count")(obj)).toEqual([3]);
  });

  test("unsupported expressions are refused when compiled", () => {
    expect(() => compileJsonPath(".a[?(@.b > 1)]")).toThrow(/unsupported filter/);
    expect(() => compileJsonPath(".a[")).toThrow(/unclosed/);
  });
});

describe("humanDuration (kubectl's AGE)", () => {
  test("matches Go's duration.HumanDuration", () => {
    const s = 1000;
    expect(humanDuration(5 * s)).toBe("5s");
    expect(humanDuration(119 * s)).toBe("119s");
    expect(humanDuration(150 * s)).toBe("2m30s");
    expect(humanDuration(10 * 60 * s)).toBe("10m");
    expect(humanDuration(3 * 3600 * s + 5 * 60 * s)).toBe("3h5m");
    expect(humanDuration(30 * 3600 * s)).toBe("30h");
    expect(humanDuration(3 * 86400 * s + 4 * 3600 * s)).toBe("3d4h");
    expect(humanDuration(400 * 86400 * s)).toBe("400d");
    expect(humanDuration(3 * 365 * 86400 * s + 10 * 86400 * s)).toBe("3y10d");
    expect(humanDuration(-5 * s)).toBe("<invalid>");
  });
});
