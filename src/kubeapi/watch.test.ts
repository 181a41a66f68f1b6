// Watch over HTTP: event stream shape, resuming from a resourceVersion, 410 Expired for a compacted one,
// bookmarks, selectors, timeouts, Table events (kubectl get -w) and the watch-list protocol.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MODULES, moduleManifest, readEvents, startTestApi, type TestApi } from "../../test/support/kube-api.ts";
import { waitFor } from "../../test/support/ports.ts";
import { activeWatches } from "./watch.ts";

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi({ eventBufferSize: 20, bookmarkIntervalMs: 100 });
});
afterAll(() => t.close());

const merge = (name: string, body: unknown) => t.request("PATCH", `${MODULES}/${name}`, { type: "application/merge-patch+json", body });

describe("watch", () => {
  test("from a list's resourceVersion: every later change, in order, as ADDED/MODIFIED/DELETED", async () => {
    await t.post(MODULES, moduleManifest("w1"));
    const list = await (await t.get(MODULES)).json();
    const w = await t.get(`${MODULES}?watch=true&resourceVersion=${list.metadata.resourceVersion}`);
    expect(w.status).toBe(200);
    expect(w.headers.get("content-type")).toBe("application/json");
    await t.post(MODULES, moduleManifest("w2"));
    await merge("w1", { spec: { forceSync: true } });
    await t.request("DELETE", `${MODULES}/w2`);
    const events = await readEvents(w, (e) => e.length >= 3);
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([["ADDED", "w2"], ["MODIFIED", "w1"], ["DELETED", "w2"]]);
    expect(events.every((e) => e.object.kind === "Module" && e.object.apiVersion === "opendepot.defdev.io/v1alpha1")).toBe(true);
  });

  test("without a resourceVersion: the current objects as ADDED first (legacy /watch/ path too)", async () => {
    const w = await t.get("/apis/opendepot.defdev.io/v1alpha1/watch/namespaces/default/modules");
    const events = await readEvents(w, (e) => e.length >= 1);
    expect(events[0]).toMatchObject({ type: "ADDED", object: { metadata: { name: "w1" } } });
  });

  test("a resourceVersion too old to replay → one ERROR event with a 410 Expired Status, then the stream ends", async () => {
    for (let i = 0; i < 25; i++) await merge("w1", { metadata: { annotations: { n: String(i) } } });
    const w = await t.get(`${MODULES}?watch=true&resourceVersion=2`);
    expect(w.status).toBe(200);
    const events = await readEvents(w, () => false);
    expect(events).toHaveLength(1);
    expect(events[0]!.type).toBe("ERROR");
    expect(events[0]!.object).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "Expired", code: 410 });
    expect(events[0]!.object.message).toContain("too old resource version: 2");
  });

  test("allowWatchBookmarks → BOOKMARK events carrying only a resourceVersion", async () => {
    const rv = (await (await t.get(MODULES)).json()).metadata.resourceVersion;
    const w = await t.get(`${MODULES}?watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`);
    const events = await readEvents(w, (e) => e.some((x) => x.type === "BOOKMARK"));
    const bookmark = events.find((e) => e.type === "BOOKMARK")!;
    expect(bookmark.object).toMatchObject({ kind: "Module", apiVersion: "opendepot.defdev.io/v1alpha1", metadata: { resourceVersion: rv } });
    expect(Object.keys(bookmark.object.metadata)).toEqual(["resourceVersion"]);
  });

  test("label and field selectors; an object leaving the selector is DELETED for this watch", async () => {
    const rv = (await (await t.get(MODULES)).json()).metadata.resourceVersion;
    const w = await t.get(`${MODULES}?watch=true&resourceVersion=${rv}&labelSelector=team%3Dred&fieldSelector=metadata.name!%3Dskip`);
    await t.post(MODULES, moduleManifest("skip", { metadata: { labels: { team: "red" } } }));
    await t.post(MODULES, moduleManifest("blue", { metadata: { labels: { team: "blue" } } }));
    await t.post(MODULES, moduleManifest("red", { metadata: { labels: { team: "red" } } }));
    await merge("red", { metadata: { labels: { team: "blue" } } });
    const events = await readEvents(w, (e) => e.length >= 2);
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([["ADDED", "red"], ["DELETED", "red"]]);
  });

  test("timeoutSeconds ends the stream", async () => {
    const w = await t.get(`${MODULES}?watch=true&timeoutSeconds=1&resourceVersion=${(await (await t.get(MODULES)).json()).metadata.resourceVersion}`);
    // readEvents returns when the server ends the stream and throws if it is still open when its wait runs out.
    expect(await readEvents(w, () => false, 5000)).toEqual([]);
  });

  test("kubectl get -w: Table events, column definitions only in the first", async () => {
    const rv = (await (await t.get(MODULES)).json()).metadata.resourceVersion;
    const w = await t.get(`${MODULES}?watch=true&resourceVersion=${rv}`, { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" });
    await merge("w1", { spec: { forceSync: false } });
    await merge("w1", { spec: { forceSync: true } });
    const events = await readEvents(w, (e) => e.length >= 2);
    expect(events[0]!.object).toMatchObject({ kind: "Table", apiVersion: "meta.k8s.io/v1" });
    expect(events[0]!.object.columnDefinitions.map((c: any) => c.name)).toContain("LatestVersion");
    expect(events[0]!.object.rows[0].cells[0]).toBe("w1");
    expect(events[0]!.object.rows[0].object).toMatchObject({ kind: "PartialObjectMetadata", metadata: { name: "w1" } });
    expect(events[1]!.object.columnDefinitions).toBeNull();
  });

  test("sendInitialEvents: ADDED for the current state, then a bookmark marking their end", async () => {
    const w = await t.get(`${MODULES}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector=team%3Dblue`);
    const events = await readEvents(w, (e) => e.some((x) => x.type === "BOOKMARK"));
    expect(events.map((e) => e.type)).toEqual(["ADDED", "ADDED", "BOOKMARK"]);
    expect(events[2]!.object.metadata.annotations).toEqual({ "k8s.io/initial-events-end": "true" });
    const bad = await t.get(`${MODULES}?watch=true&sendInitialEvents=true`);
    expect(bad.status).toBe(422);
  });

  test("a malformed resourceVersion or selector is a 400 before any stream starts", async () => {
    expect((await t.get(`${MODULES}?watch=true&resourceVersion=abc`)).status).toBe(400);
    expect((await t.get(`${MODULES}?watch=true&labelSelector=%3D%3D`)).status).toBe(400);
  });

  test("every watch above was released when its client went away", async () => {
    await waitFor(() => activeWatches() === 0, 3000, "watches to be released");
  });
});
