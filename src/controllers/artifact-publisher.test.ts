// The cheap integrity check of published artifacts: a changed pin means re-hash; an unchanged pin is trusted
// until the periodic full re-hash, which catches corruption that left the pin as it was (bit rot, a storage
// backend that keeps its ETag).
import { describe, expect, test } from "bun:test";
import type { VersionObject } from "../api/kinds.ts";
import { API_VERSION } from "../api/meta.ts";
import { artifactFileName } from "../api/naming.ts";
import { silentLogger } from "../log.ts";
import type { ArtifactStorage, GetResult, ObjectInfo } from "../storage/types.ts";
import { ArtifactPublisher } from "./artifact-publisher.ts";
import type { Upstreams } from "./upstreams.ts";

/** Storage whose bytes can change underneath a fixed pin. */
class PinnedStorage implements ArtifactStorage {
  readonly description = "pinned";
  bytes = new TextEncoder().encode("the published archive");
  fullReads = 0;
  async head(): Promise<ObjectInfo> {
    return { size: this.bytes.length, pin: "pin-1" };
  }
  async get(): Promise<GetResult> {
    this.fullReads++;
    return { size: this.bytes.length, pin: "pin-1", body: new Blob([this.bytes]).stream() };
  }
  put(): never {
    throw new Error("unused");
  }
  async delete() {}
  presign(): never {
    throw new Error("unused");
  }
}

const version = (checksum: string, verifiedAt: string): VersionObject => ({
  apiVersion: API_VERSION,
  kind: "Version",
  metadata: { name: "vpc-1-0-0", namespace: "default" },
  spec: { type: "Module", version: "1.0.0", fileName: artifactFileName(".zip"), moduleConfigRef: { name: "vpc" } },
  status: { synced: true, checksum, verifiedPin: "pin-1", verifiedAt },
});

describe("ArtifactPublisher.check", () => {
  const storage = new PinnedStorage();
  const publisher = new ArtifactPublisher(() => storage, {} as Upstreams, { rehashIntervalMs: 60_000 });
  const checksum = new Bun.CryptoHasher("sha256").update(storage.bytes).digest("base64");

  test("an unchanged pin within the re-hash interval is trusted without reading the object", async () => {
    storage.fullReads = 0;
    expect((await publisher.check(version(checksum, new Date().toISOString()), silentLogger)).state).toBe("intact");
    expect(storage.fullReads).toBe(0);
  });

  test("once the re-hash is due, corruption behind an unchanged pin is found", async () => {
    const due = new Date(Date.now() - 120_000).toISOString();
    expect((await publisher.check(version(checksum, due), silentLogger)).state).toBe("intact");
    storage.bytes = new TextEncoder().encode("the published archivX"); // same size, same pin
    expect((await publisher.check(version(checksum, new Date().toISOString()), silentLogger)).state).toBe("intact"); // not due: not read
    expect((await publisher.check(version(checksum, due), silentLogger)).state).toBe("corrupt");
  });
});
