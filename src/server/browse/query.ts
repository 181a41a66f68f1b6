// The browse API's query strings, validated: a parameter given twice (unless repeatable), an unknown value, a
// page out of range or an oversized search is a 400 with the reason — never a 5xx, never silently ignored.
import { isNamespaceName } from "../../api/naming.ts";
import { BadRequest, nameParam, namespaceParam } from "../params.ts";
import type { BrowseKind } from "./types.ts";

export const MAX_PAGE_SIZE = 100;
export const MAX_QUERY_LENGTH = 256;
const MAX_PAGE = 100_000;
const MAX_NAMESPACES = 100;
const MAX_DAYS = 90;

const show = (v: string) => JSON.stringify(v.slice(0, 64));

export class Query {
  constructor(private readonly params: URLSearchParams) {}

  /** One value or undefined; a repeated parameter is refused. */
  one(name: string): string | undefined {
    const all = this.params.getAll(name);
    if (all.length > 1) throw new BadRequest(`query parameter ${name} is given ${all.length} times; give it once`);
    return all[0];
  }

  text(name: string, max = MAX_QUERY_LENGTH): string | undefined {
    const v = this.one(name);
    if (v === undefined || v === "") return undefined;
    if (v.length > max) throw new BadRequest(`${name} is longer than ${max} characters`);
    return v;
  }

  choice<T extends string>(name: string, allowed: readonly T[], fallback?: T): T | undefined {
    const v = this.one(name);
    if (v === undefined || v === "") return fallback;
    const lower = v.toLowerCase() as T;
    if (!allowed.includes(lower)) throw new BadRequest(`${name} must be one of ${allowed.join(", ")}; got ${show(v)}`);
    return lower;
  }

  bool(name: string): boolean | undefined {
    const v = this.choice(name, ["true", "false"] as const);
    return v === undefined ? undefined : v === "true";
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.one(name);
    if (v === undefined || v === "") return fallback;
    if (!/^\d{1,9}$/.test(v)) throw new BadRequest(`${name} must be a whole number; got ${show(v)}`);
    const n = Number(v);
    if (n < min || n > max) throw new BadRequest(`${name} must be between ${min} and ${max}; got ${n}`);
    return n;
  }

  page(): { page: number; pageSize: number } {
    return { page: this.int("page", 1, 1, MAX_PAGE), pageSize: this.int("page_size", 20, 1, MAX_PAGE_SIZE) };
  }

  days(fallback: number): number {
    return this.int("days", fallback, 1, MAX_DAYS);
  }

  kind(): BrowseKind | undefined {
    return this.choice("kind", ["module", "provider"] as const);
  }

  namespace(): string | undefined {
    const v = this.one("namespace");
    return v === undefined || v === "" ? undefined : namespaceParam(v);
  }

  /** `namespace`, repeatable. */
  namespaces(): string[] {
    const all = this.params.getAll("namespace").filter((v) => v !== "");
    if (all.length > MAX_NAMESPACES) throw new BadRequest(`at most ${MAX_NAMESPACES} namespace parameters`);
    for (const ns of all) if (!isNamespaceName(ns)) throw new BadRequest(`invalid namespace ${show(ns)}`);
    return [...new Set(all)];
  }

  /** os/arch filters: the characters a platform name can have. */
  platform(name: "os" | "arch"): string | undefined {
    const v = this.text(name, 32);
    if (v === undefined) return undefined;
    if (!/^[A-Za-z0-9_]+$/.test(v)) throw new BadRequest(`invalid ${name} ${show(v)}`);
    return v.toLowerCase();
  }

  /** A version as a user types it: leading `v` and surrounding spaces dropped. */
  version(name: string): string | undefined {
    const v = this.text(name, 128)?.trim().replace(/^v/i, "");
    if (!v) return undefined;
    if (!/^[0-9A-Za-z.+-]+$/.test(v)) throw new BadRequest(`invalid ${name} ${show(v)}`);
    return v;
  }
}

/** Path segments of resources/{namespace}/{kind}/{name}. */
export function resourcePath(params: Record<string, string | undefined>): { namespace: string; kind: BrowseKind; name: string } {
  const kind = params.kind;
  if (kind !== "module" && kind !== "provider") throw new BadRequest("kind must be 'module' or 'provider'");
  return { namespace: namespaceParam(params.namespace ?? ""), kind, name: nameParam(params.name ?? "", `${kind} name`) };
}
