// get and list of store-backed kinds. `limit`/`continue` are accepted and the whole result is returned at once
// (the API allows a server to ignore limit); field selectors are applied after the store's label selection.
import type { KubeObject } from "../api/meta.ts";
import type { Call } from "./call.ts";
import { parseFieldSelector } from "./field-selector.ts";
import { renderList, renderObject } from "./output.ts";
import { fromStoreError, notFound } from "./status.ts";

export async function getObject(call: Call): Promise<Response> {
  const obj = await call.deps.store.get<KubeObject>(call.d, call.namespace, call.name!).catch((e) => {
    throw fromStoreError(e, call.r, call.name!);
  });
  if (!obj) throw notFound(call.r, call.name!);
  return renderObject(call.r, obj, call.output);
}

export async function listSelected(call: Call): Promise<{ items: KubeObject[]; resourceVersion: string }> {
  const fields = parseFieldSelector(call.query.get("fieldSelector"), call.r.resource);
  const labelSelector = call.query.get("labelSelector") ?? undefined;
  const { items, resourceVersion } = await call.deps.store.list<KubeObject>(call.d, { namespace: call.namespace, labelSelector }).catch((e) => {
    throw fromStoreError(e, call.r, "");
  });
  return { items: items.filter((o) => fields.matches(o)), resourceVersion };
}

export async function listObjects(call: Call): Promise<Response> {
  const { items, resourceVersion } = await listSelected(call);
  return renderList(call.r, items, resourceVersion, call.output);
}
