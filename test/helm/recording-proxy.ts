// An HTTP proxy in front of the Kubernetes-compatible API that records every call a role makes as RBAC request
// attributes (verb, group, resource[/subresource], namespace, name), the way the API server's authorizer sees
// them. It also records what OwnerReferencesPermissionEnforcement checks: setting an owner reference with
// blockOwnerDeletion needs `update` on the owner's `finalizers` subresource.
import { ALL_KINDS } from "../../src/api/kinds.ts";
import { freePort } from "../support/ports.ts";

export interface ApiCall {
  verb: string;
  group: string;
  resource: string; // "versions" or "versions/status"
  namespace?: string;
  name?: string;
  via?: string; // why an implied call was recorded
}

/** Request attributes of one API request (only resource requests; the roles make no others). */
export function attributesOf(method: string, url: URL): ApiCall {
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  let rest: string[];
  let group: string;
  if (parts[0] === "api") [group, rest] = ["", parts.slice(2)];
  else if (parts[0] === "apis") [group, rest] = [parts[1]!, parts.slice(3)];
  else throw new Error(`not a resource request: ${method} ${url.pathname}`);
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) [namespace, rest] = [rest[1], rest.slice(2)];
  const [resource, name, sub] = rest;
  const watch = ["true", "1"].includes(url.searchParams.get("watch") ?? "");
  const verb = { GET: name ? "get" : watch ? "watch" : "list", POST: "create", PUT: "update", PATCH: "patch", DELETE: name ? "delete" : "deletecollection" }[method];
  if (!verb || !resource) throw new Error(`unexpected request ${method} ${url.pathname}`);
  return { verb, group, resource: sub ? `${resource}/${sub}` : resource, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) };
}

export interface RecordingProxy {
  url: string;
  calls: ApiCall[];
  stop(): void;
}

export function startRecordingProxy(upstream: string, token: string): RecordingProxy {
  const calls: ApiCall[] = [];
  const port = freePort();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    idleTimeout: 0, // watches stay open
    async fetch(request) {
      const url = new URL(request.url);
      const call = attributesOf(request.method, url);
      calls.push(call);
      const body = request.method === "GET" || request.method === "DELETE" ? undefined : await request.text();
      if (body && ["create", "update", "patch"].includes(call.verb)) {
        let parsed: any;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = undefined;
        }
        const refs = (Array.isArray(parsed) ? [] : (parsed?.metadata?.ownerReferences ?? [])) as { apiVersion: string; kind: string; name: string; blockOwnerDeletion?: boolean }[];
        for (const ref of refs.filter((r) => r.blockOwnerDeletion)) {
          const kind = ALL_KINDS.find((k) => k.kind === ref.kind && (k.group ? `${k.group}/${k.version}` : k.version) === ref.apiVersion);
          if (!kind) throw new Error(`owner reference to unknown kind ${ref.apiVersion} ${ref.kind}`);
          calls.push({ verb: "update", group: kind.group, resource: `${kind.plural}/finalizers`, namespace: call.namespace, name: ref.name, via: `blockOwnerDeletion on ${call.resource} ${call.verb}` });
        }
      }
      const headers = new Headers();
      for (const h of ["content-type", "accept"]) if (request.headers.get(h)) headers.set(h, request.headers.get(h)!);
      headers.set("authorization", `Bearer ${token}`);
      const res = await fetch(`${upstream}${url.pathname}${url.search}`, { method: request.method, headers, body, tls: { rejectUnauthorized: false }, signal: request.signal } as RequestInit);
      const out = new Headers(res.headers);
      out.delete("content-length");
      out.delete("content-encoding");
      return new Response(res.body, { status: res.status, headers: out });
    },
  });
  return { url: `http://127.0.0.1:${port}`, calls, stop: () => void server.stop(true) };
}
