// Download-statistics flags of the roles that serve the registry: Valkey when a URL is given, else (standalone) an
// embedded counter file in the data directory, or off.
import { join } from "node:path";
import { UsageError, type FlagSpec } from "../cli/flags.ts";
import type { Logger } from "../log.ts";
import { runtime } from "../runtime/index.ts";
import { embeddedStats } from "../stats/embedded.ts";
import { statsOff, type DownloadStats } from "../stats/types.ts";

export const STATS_FLAGS: FlagSpec[] = [
  { name: "stats", env: "OPENDEPOT_STATS", default: "on", description: "Download statistics: on, or off (nothing recorded, counts read as zero)" },
  {
    name: "stats-url",
    env: "OPENDEPOT_VALKEY_URL",
    description: "Valkey/Redis for download statistics: redis://host:port, rediss:// for TLS (password from OPENDEPOT_VALKEY_PASSWORD); standalone uses <data-dir>/stats.db when unset",
  },
  { name: "stats-ca-file", env: "OPENDEPOT_VALKEY_CA_FILE", description: "PEM CA bundle trusted for a rediss:// Valkey with a private CA" },
];

export async function startStats(flags: Record<string, string | undefined>, options: { log: Logger; dataDir?: string; env?: Record<string, string | undefined> }): Promise<DownloadStats> {
  const log = options.log.child({ component: "stats" });
  const mode = (flags.stats ?? "on").toLowerCase();
  if (mode !== "on" && mode !== "off") throw new UsageError(`--stats must be on or off, got "${flags.stats}"`);
  if (mode === "off") {
    log.info("download statistics are off (--stats=off)");
    return statsOff;
  }
  const url = flags["stats-url"];
  if (url) {
    // The redis client is a large module graph (~20 MiB, ~0.3 s to load): loaded only when Valkey is asked for.
    const { parseValkeyUrl, redactedUrl, valkeyStats } = await import("../stats/valkey.ts");
    let parsed;
    try {
      parsed = parseValkeyUrl(url);
    } catch (e) {
      throw new UsageError(`--stats-url: ${(e as Error).message}`);
    }
    const password = (options.env ?? process.env).OPENDEPOT_VALKEY_PASSWORD || undefined;
    log.info("download statistics in Valkey", { url: redactedUrl(parsed), tls: parsed.protocol === "rediss:", password: password ? "from OPENDEPOT_VALKEY_PASSWORD" : parsed.password ? "from the URL" : "none" });
    const caFile = flags["stats-ca-file"];
    if (caFile && parsed.protocol !== "rediss:") throw new UsageError("--stats-ca-file needs a rediss:// --stats-url");
    const ca = caFile ? await runtime.readText(caFile).catch(() => { throw new UsageError(`--stats-ca-file: cannot read ${caFile}`); }) : undefined;
    return valkeyStats({ url, password, log, ca });
  }
  if (!options.dataDir) {
    log.info("download statistics are off: no --stats-url (OPENDEPOT_VALKEY_URL) given");
    return statsOff;
  }
  const path = join(options.dataDir, "stats.db");
  log.info("download statistics in the data directory", { path });
  return embeddedStats(path, { log });
}
