// Finding (Low): `kill -9` during syncs left opendepot-provider-*.zip in the work dir and .*.tmp beside artifacts
// (518 MB after four kills). Replayed with the files such kills leave: a standalone process sweeps what is stale
// at start (and on a timer), and leaves fresh work and files that are not ours alone.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sweepStaleTemp, STORAGE_TEMP, WORK_DIR_TEMP } from "../../src/storage/temp-sweep.ts";
import { startStandalone } from "../support/standalone-process.ts";
import { waitFor } from "../support/ports.ts";
import { SecurityTally } from "./capture.ts";

const tally = new SecurityTally("temporary leftovers after kill -9");
const root = mkdtempSync(join(tmpdir(), "opendepot-sec-temp-"));
afterAll(() => {
  tally.print();
  rmSync(root, { recursive: true, force: true });
});

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
function leave(path: string, bytes: number, age: Date): string {
  writeFileSync(path, new Uint8Array(bytes));
  utimesSync(path, age, age);
  return path;
}

describe("stale temporary files", () => {
  test("standalone sweeps stale downloads, repack dirs and .tmp beside artifacts at start; fresh and foreign files stay", async () => {
    const work = join(root, "work");
    const data = join(root, "data");
    const artifacts = join(data, "artifacts", "default", "providers", "aws");
    mkdirSync(work, { recursive: true });
    mkdirSync(artifacts, { recursive: true });
    const stale = [
      leave(join(work, `opendepot-provider-${crypto.randomUUID()}.zip`), 1_000_000, hoursAgo(3)),
      leave(join(artifacts, ".0190a0b0-0000-7000-8000-000000000000.zip.a1b2c3d4e5f6.tmp"), 500_000, hoursAgo(2)),
    ];
    const repack = join(work, "opendepot-repack-Ab12Cd");
    mkdirSync(repack);
    leave(join(repack, "entry"), 100_000, hoursAgo(5));
    utimesSync(repack, hoursAgo(5), hoursAgo(5));
    stale.push(repack);
    const kept = [
      leave(join(work, `opendepot-provider-${crypto.randomUUID()}.zip`), 1000, new Date()), // in flight
      leave(join(work, "someone-elses.zip"), 1000, hoursAgo(9)),
      leave(join(artifacts, "0190a0b0-0000-7000-8000-000000000000.zip"), 1000, hoursAgo(9)), // an artifact
    ];
    tally.tried += stale.length + kept.length;
    const sp = await startStandalone({ dataDir: data, extra: ["--work-dir", work] });
    try {
      await waitFor(() => stale.every((p) => !existsSync(p)), 10_000, "the stale files to be swept");
      for (const p of kept) expect(existsSync(p), p).toBe(true);
      tally.refused += stale.length;
      const line = sp.logs().find((l) => l.msg === "removed stale temporary files");
      expect(line).toMatchObject({ removed: 3, bytes: 1_600_000 });
    } finally {
      await sp.stop();
    }
  }, 60_000);

  test("the patterns match only our names", () => {
    expect(WORK_DIR_TEMP.test(`opendepot-provider-${crypto.randomUUID()}.zip`)).toBe(true);
    expect(WORK_DIR_TEMP.test("opendepot-repack-x1Y2z3")).toBe(true);
    expect(WORK_DIR_TEMP.test("opendepot-provider-notes.zip")).toBe(false);
    expect(WORK_DIR_TEMP.test("opendepot-e2e-abc")).toBe(false);
    expect(STORAGE_TEMP.test(".x.zip.0123456789ab.tmp")).toBe(true);
    expect(STORAGE_TEMP.test("x.zip")).toBe(false);
  });

  test("symlinks are never followed or removed", async () => {
    const dir = join(root, "links");
    mkdirSync(dir);
    const target = join(root, "precious");
    mkdirSync(target);
    leave(join(target, ".a.0123456789ab.tmp"), 10, hoursAgo(5));
    Bun.spawnSync(["ln", "-s", target, join(dir, "link")]);
    const r = await sweepStaleTemp(dir, STORAGE_TEMP, 3_600_000, 4);
    expect(r.removed).toBe(0);
    expect(existsSync(join(target, ".a.0123456789ab.tmp"))).toBe(true);
  });
});
