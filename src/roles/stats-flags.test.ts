// The statistics flags: which backend each combination selects, and the usage errors with their reasons.
import { afterEach, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseFlags, UsageError } from "../cli/flags.ts";
import { silentLogger } from "../log.ts";
import type { DownloadStats } from "../stats/types.ts";
import { STATS_FLAGS, startStats } from "./stats-flags.ts";

const started: DownloadStats[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const start = async (argv: string[], env: Record<string, string> = {}, dataDir?: string) => {
  const s = await startStats(parseFlags(STATS_FLAGS, argv, env), { log: silentLogger, dataDir, env });
  started.push(s);
  return s;
};

test("standalone defaults to the embedded file; a URL (flag or OPENDEPOT_VALKEY_URL) selects Valkey; off is off", async () => {
  const dir = await mkdtemp(join(tmpdir(), "opendepot-statsflags-"));
  dirs.push(dir);
  expect((await start([], {}, dir)).description).toBe(`embedded ${join(dir, "stats.db")}`);
  expect((await start(["--stats-url", "redis://127.0.0.1:1"], {}, dir)).description).toBe("valkey redis://127.0.0.1:1");
  expect((await start([], { OPENDEPOT_VALKEY_URL: "valkey:6379", OPENDEPOT_VALKEY_PASSWORD: "pw" }, dir)).description).toBe("valkey redis://valkey:6379");
  expect((await start(["--stats=off", "--stats-url", "redis://127.0.0.1:1"], {}, dir)).description).toBe("off");
  expect((await start([], { OPENDEPOT_STATS: "OFF" }, dir)).description).toBe("off");
  // serve has no data dir: without a URL, statistics are off.
  expect((await start([])).description).toBe("off");
  // The password never appears in the description (it is logged).
  expect((await start(["--stats-url", "redis://user:secret@127.0.0.1:1"])).description).toBe("valkey redis://user@127.0.0.1:1");
});

test("usage errors say what is wrong", async () => {
  await expect(start(["--stats", "maybe"])).rejects.toThrow(UsageError);
  await expect(start(["--stats", "maybe"])).rejects.toThrow(/--stats must be on or off/);
  await expect(start(["--stats-url", "http://cache:6379"])).rejects.toThrow(/--stats-url: .*redis:\/\/ or rediss:\/\//);
  await expect(start(["--stats-url", "redis://cache:6379", "--stats-ca-file", "/etc/ca.pem"])).rejects.toThrow(/needs a rediss:\/\//);
  await expect(start(["--stats-url", "rediss://cache:6379", "--stats-ca-file", "/nonexistent/ca.pem"])).rejects.toThrow(/cannot read/);
});
