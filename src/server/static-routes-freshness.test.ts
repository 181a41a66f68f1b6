// The native route table (--static-routes) must never answer what the fetch path would no longer answer: it follows
// index changes (new, changed, deleted versions and owners), the URL-expiry window, yank deadlines and key reloads,
// on a hand-driven clock, and stays bounded. Tests await the rebuild that reflects a change (no sleeping).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { VersionObject } from "../api/kinds.ts";
import { moduleVersionName, providerVersionName } from "../api/naming.ts";
import { SigningKey } from "../artifacts/signing.ts";
import { metricsResponse } from "../metrics/registry.ts";
import { parsePrometheusText, sumOf } from "../../test/support/prometheus-text.ts";
import { StaticRoutes } from "./static-routes.ts";
import { GRACE_MS, M, P, request, staticRoutesWorld, TTL_SECONDS, type StaticRoutesWorld } from "../../test/support/static-routes-world.ts";

let keys: SigningKey[];
beforeAll(async () => {
  keys = await Promise.all([1, 2].map((n) => SigningKey.generate({ name: `Test ${n}`, email: `test${n}@example.com`, rsaBits: 2048 })));
}, 60_000);

const worlds: StaticRoutesWorld[] = [];
afterAll(() => {
  for (const w of worlds) w.stop();
});
async function world(options = {}) {
  const w = await staticRoutesWorld(keys, options);
  worlds.push(w);
  return w;
}

/** The same GET to both listeners: equal answers (but the request id), and whether the table held the path. */
async function same(w: StaticRoutesWorld, path: string) {
  const { table, fetch } = await w.both(request("GET", path));
  expect({ path, ...table, requestId: true }).toEqual({ path, ...fetch, requestId: true });
  return { status: table.status, body: table.body, held: w.routes.paths().includes(path) };
}
const versionOf = (w: StaticRoutesWorld, name: string) => w.versions.list().find((v) => v.metadata.name === name)!;

describe("index changes", () => {
  test("a new version appears, a deleted one goes, a deleted owner leaves the table", async () => {
    const w = await world();
    const list = `${M}/vpc/aws/versions`;
    const gadget = `${P}/gadget/versions`;
    const build = `${P}/widget/1.1.0/download/linux/amd64`;
    await w.promote(list, gadget, build);
    expect(w.routes.paths()).toEqual(["/.well-known/terraform.json", list, build, gadget].sort());

    await w.publish.module("vpc", "1.3.0");
    await w.routes.reflects(w.index.changes);
    let answer = await same(w, list);
    expect([answer.held, answer.body.includes('"1.3.0"')]).toEqual([true, true]);

    // The feed's event schedules the rebuild by itself: settled() only waits for what is scheduled.
    const added = versionOf(w, moduleVersionName("vpc", "1.3.0"));
    w.versions.remove(added);
    await w.routes.settled();
    answer = await same(w, list);
    expect([answer.held, answer.body.includes('"1.3.0"')]).toEqual([true, false]);

    // The provider and its only version go: the table drops the entry and both answer the fetch path's 404.
    w.versions.remove(versionOf(w, providerVersionName("gadget", "0.1.0", "linux", "amd64")));
    await w.routes.reflects(w.index.changes);
    // Still declared by its Provider: an empty list, served from the table.
    answer = await same(w, gadget);
    expect([answer.status, answer.held, answer.body]).toEqual([200, true, '{"versions":[]}']);
    w.providers.remove(w.providers.list().find((p) => p.metadata.name === "gadget")!);
    await w.routes.reflects(w.index.changes);
    answer = await same(w, gadget);
    expect([answer.status, answer.held]).toEqual([404, false]);

    // A build deleted: its metadata leaves the table.
    w.versions.remove(versionOf(w, providerVersionName("widget", "1.1.0", "linux", "amd64")));
    await w.routes.reflects(w.index.changes);
    answer = await same(w, build);
    expect([answer.status, answer.held]).toEqual([404, false]);
  });

  test("a burst of changes is one rebuild; reflects() waits for the rebuild that has them", async () => {
    const w = await world();
    await w.promote(`${M}/vpc/aws/versions`);
    const before = w.routes.rebuilds;
    const v = versionOf(w, moduleVersionName("vpc", "1.0.0"));
    for (let i = 0; i < 50; i++) w.versions.put({ ...v, metadata: { ...v.metadata, annotations: { n: String(i) } } });
    await w.routes.reflects(w.index.changes);
    expect(w.routes.rebuilds).toBe(before + 1);
    await w.routes.reflects(w.index.changes); // already reflected: no rebuild
    expect(w.routes.rebuilds).toBe(before + 1);
  });
});

describe("time", () => {
  test("the URL-expiry window: metadata leaves the table just before it rolls and comes back with the new URLs", async () => {
    const w = await world();
    const build = `${P}/widget/1.0.0/download/linux/amd64`;
    await w.promote(build);
    const first = await same(w, build);
    expect(first.held).toBe(true);
    const rolls = (w.ctx.urls.expiresAt() - TTL_SECONDS + 1) * 1000;

    w.clock.now = rolls - 100; // inside the lead
    w.routes.checkNow();
    const inLead = await same(w, build);
    expect([inLead.held, inLead.body]).toEqual([false, first.body]);

    w.clock.now = rolls;
    w.routes.checkNow();
    const rolled = await same(w, build);
    expect(rolled.held).toBe(true);
    expect(rolled.body).not.toBe(first.body); // new expiry and signatures
    expect(JSON.parse(rolled.body).download_url).toContain(`expires=${w.ctx.urls.expiresAt()}&`);
  });

  test("a yanked build's metadata is served through its grace, then leaves with the fetch path's 404", async () => {
    const w = await world();
    const build = `${P}/widget/1.0.0/download/darwin/arm64`;
    await w.promote(build);
    const v = versionOf(w, providerVersionName("widget", "1.0.0", "darwin", "arm64"));
    const since = w.clock.now;
    w.versions.put({ ...v, spec: { ...v.spec, yanked: { reason: "broken" } }, status: { ...v.status!, yankedAt: new Date(since).toISOString() } } as VersionObject);
    await w.routes.reflects(w.index.changes);
    expect((await same(w, build)).held).toBe(true);

    // Window rolls on the way are checked too; each step is compared with the fetch path.
    for (let t = since + 60_000; t < since + GRACE_MS - 1000; t += 600_000) {
      w.clock.now = t;
      w.routes.checkNow();
      expect(await same(w, build)).toMatchObject({ status: 200 });
    }
    w.clock.now = since + GRACE_MS - 100;
    w.routes.checkNow();
    expect(await same(w, build)).toMatchObject({ status: 200, held: false });
    w.clock.now = since + GRACE_MS;
    w.routes.checkNow();
    expect(await same(w, build)).toMatchObject({ status: 404, held: false });
  });

  test("a listed yanked module version (a newer patch shields it) leaves the list when its grace ends", async () => {
    const w = await world();
    const list = `${M}/vpc/aws/versions`;
    await w.publish.module("vpc", "1.2.1");
    await w.promote(list);
    const v = versionOf(w, moduleVersionName("vpc", "1.2.0"));
    const since = w.clock.now;
    w.versions.put({ ...v, spec: { ...v.spec, yanked: { reason: "broken" } }, status: { ...v.status!, yankedAt: new Date(since).toISOString() } } as VersionObject);
    await w.routes.reflects(w.index.changes);
    expect(await same(w, list)).toMatchObject({ held: true });
    expect((await same(w, list)).body).toContain('"1.2.0"');

    w.clock.now = since + GRACE_MS - 100;
    w.routes.checkNow();
    expect(await same(w, list)).toMatchObject({ held: false });
    w.clock.now = since + GRACE_MS;
    w.routes.checkNow();
    const after = await same(w, list);
    expect(after.held).toBe(true);
    expect(after.body).not.toContain('"1.2.0"');
  });

  test("a reload of the signing keys rebuilds the metadata with every published key", async () => {
    const w = await world();
    const build = `${P}/widget/1.0.0/download/linux/amd64`;
    await w.promote(build);
    const keyIds = async () => (JSON.parse((await same(w, build)).body).signing_keys.gpg_public_keys as { key_id: string }[]).map((k) => k.key_id).sort();
    expect(await keyIds()).toEqual([keys[0]!.keyId]);
    w.signer.replace([keys[0]!, keys[1]!]);
    w.routes.checkNow();
    expect(w.routes.paths()).toContain(build);
    expect(await keyIds()).toEqual([keys[0]!.keyId, keys[1]!.keyId].sort());
  });
});

describe("bounds", () => {
  test("metadata and lists are held up to their counts, the oldest promoted leaving first; the rest is the fetch path's", async () => {
    const w = await world({ maxMetadata: 2, maxLists: 2 });
    const builds = ["1.0.0/download/linux/amd64", "1.0.0/download/darwin/arm64", "1.0.0/download/windows/amd64"].map((b) => `${P}/widget/${b}`);
    const lists = [`${M}/vpc/aws/versions`, `${M}/db/google/versions`, `${P}/widget/versions`];
    await w.promote(...builds, ...lists);
    expect(w.routes.paths()).toEqual(["/.well-known/terraform.json", builds[1]!, builds[2]!, lists[1]!, lists[2]!].sort());
    expect(await same(w, builds[0]!)).toMatchObject({ status: 200, held: false });
    expect(await same(w, lists[0]!)).toMatchObject({ status: 200, held: false });

    const text = await (await metricsResponse()).text();
    const families = parsePrometheusText(text);
    expect(sumOf(families, "opendepot_static_route_entries", { kind: "providerMetadata" })).toBeGreaterThanOrEqual(2);
    expect(sumOf(families, "opendepot_static_route_rebuilds_total", { reason: "start" })).toBeGreaterThanOrEqual(1);
  });

  test("a table the runtime refuses is emptied and given up: the fetch path answers everything, nothing throws", async () => {
    const w = await world();
    const errors: unknown[] = [];
    const routes = new StaticRoutes({ ...w.ctx, log: { ...w.ctx.log, error: (_msg: string, fields?: Record<string, unknown>) => void errors.push(fields?.error) } }, {});
    const sizes: number[] = [];
    routes.attach({
      setStaticRoutes(table) {
        sizes.push(Object.keys(table).length);
        if (Object.keys(table).length) throw new Error("refused");
      },
    });
    expect(sizes).toEqual([1, 0]);
    expect(routes.size).toBe(0);
    expect(String(errors[0])).toContain("refused");
    await routes.reflects(w.index.changes + 1); // given up: nothing left to wait for
    routes.checkNow();
    expect(sizes).toEqual([1, 0]);
  });
});

