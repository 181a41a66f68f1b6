// Findings (Low): a visibly corrupted artifact was refused at once but repaired only at the next resync (up to 10
// min), under a new file name that broke download URLs already handed out. Replayed with the controllers and the
// server in one process (resync set to an hour, so only the refusal can trigger the repair): the object is
// corrupted in place, the server refuses it, and the same signed URL serves the right bytes again soon after.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openSync, closeSync, writeSync, statSync } from "node:fs";
import { join } from "node:path";
import { Module, Version, type ModuleObject, type VersionObject } from "../../src/api/kinds.ts";
import { API_VERSION } from "../../src/api/meta.ts";
import { REPAIR_ANNOTATION } from "../../src/server/repair-hint.ts";
import { locateArtifact } from "../../src/storage/locate.ts";
import { startSampleUpstreams, type SampleUpstreams } from "../../fixtures/upstream-fakes.ts";
import { startHarness, type Harness } from "../support/registry-harness.ts";
import { waitFor } from "../support/ports.ts";
import { SecurityTally } from "./capture.ts";

const tally = new SecurityTally("corrupted artifact repair");
let upstreams: SampleUpstreams;
let h: Harness;

beforeAll(async () => {
  upstreams = await startSampleUpstreams();
  h = await startHarness({ env: upstreams.env, flags: ["--resync-interval", "1h"] });
}, 60_000);
afterAll(async () => {
  tally.print();
  await h?.stop();
  await upstreams?.stop();
});

const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("base64");

describe("repair on refusal", () => {
  test("in-place corruption → 503 → restored under the same name; the URL handed out before works again", async () => {
    const m: ModuleObject = { apiVersion: API_VERSION, kind: "Module", metadata: { name: "terraform-aws-vpc", namespace: "default" }, spec: { moduleConfig: { repoOwner: "acme", provider: "aws", fileFormat: "zip" }, versions: [{ version: "v1.2.0" }] } };
    await h.store.create(m);
    await h.until<ModuleObject>(Module, "terraform-aws-vpc", (o) => o.status?.synced === true);
    const before = (await h.get<VersionObject>(Version, "terraform-aws-vpc-1-2-0"))!;
    const dl = await fetch(`${h.url}/opendepot/modules/v1/default/terraform-aws-vpc/aws/1.2.0/download`);
    const url = new URL(dl.headers.get("x-terraform-get")!, h.url).toString();
    const good = new Uint8Array(await (await fetch(url)).arrayBuffer());
    expect(sha256(good)).toBe(before.status!.checksum!);

    const { key } = locateArtifact(before, h.storageFor);
    const path = join(h.root, "artifacts", key);
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.from("XXXX"), 0, 4, 100); // same size, in place
    closeSync(fd);
    const size = statSync(path).size;
    tally.tried++;
    expect((await fetch(url)).status).toBe(503);
    tally.refused++;

    const repaired = await waitFor(async () => {
      const r = await fetch(url);
      return r.status === 200 ? new Uint8Array(await r.arrayBuffer()) : undefined;
    }, 20_000, "the artifact to be restored", 100);
    expect(sha256(repaired)).toBe(before.status!.checksum!);
    expect(statSync(path).size).toBe(size);
    const after = (await h.get<VersionObject>(Version, "terraform-aws-vpc-1-2-0"))!;
    expect(after.spec.fileName).toBe(before.spec.fileName);
    expect(after.metadata.annotations?.[REPAIR_ANNOTATION]).toMatch(/ corrupt$/);
  }, 60_000);
});
