// The shared storage conformance suite against the filesystem backend (a temp dir per run).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storageConformance } from "./conformance.ts";
import { FilesystemStorage } from "./filesystem.ts";

storageConformance("filesystem", async () => {
  const root = await mkdtemp(join(tmpdir(), "opendepot-fs-conformance-"));
  return {
    storage: new FilesystemStorage(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
    checksPresignSignatures: false,
    supportsPresign: false,
    largeSize: 3 * 1024 * 1024 + 17,
  };
});
