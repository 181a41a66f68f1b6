// Everything the routes need, wired once by main.ts (or a test).
import type { Logger } from "../log.ts";
import type { ArtifactDelivery } from "./artifact-delivery.ts";
import { DEFAULT_YANK_GRACE_MS, type LifecyclePolicy } from "./lifecycle.ts";
import type { BrowseDeps } from "./browse/routes.ts";
import type { RegistryIndex } from "./registry-index.ts";
import type { UrlSigner } from "./url-signer.ts";

export interface RegistryTarget {
  kind: "module" | "provider";
  namespace: string;
  name: string;
}

/**
 * Decides whether a protocol request may see a module or provider. Returns a response (401/403) to refuse, or
 * undefined to allow. Anonymous mode allows everything; OIDC and Kubernetes-token modes plug in here.
 */
export interface Gatekeeper {
  /** May answer synchronously (anonymous mode; a remembered token), so the fast path need not wait a tick. */
  authorize(request: Request, target: RegistryTarget): Response | undefined | Promise<Response | undefined>;
}

export const anonymousGatekeeper: Gatekeeper = { authorize: () => undefined };

/** The provider-signing surface the server needs (implemented by artifacts/signing.ts SigningKey). */
export interface ShasumsSigner {
  readonly keyId: string;
  readonly publicKeyArmored: string;
  sign(data: string | Uint8Array): Promise<Uint8Array<ArrayBuffer>>;
  /** Every active public key (the signing one included), for `signing_keys.gpg_public_keys`; just this key when absent. */
  readonly activeKeys?: readonly { keyId: string; publicKeyArmored: string }[];
  /** Sign with the named active key if it is still held (see artifacts/key-ring.ts), else with the signing key. */
  signWith?(keyId: string | undefined, data: string | Uint8Array): Promise<Uint8Array<ArrayBuffer>>;
}

/** What the provider network mirror serves (see routes-mirror.ts); the mirror is off when absent. */
export interface MirrorConfig {
  /** The Kubernetes namespace whose Providers the mirror serves. */
  namespace: string;
  /** Provider source hostnames the mirror answers for, lowercase (e.g. registry.terraform.io). */
  hostnames: ReadonlySet<string>;
}

export interface ServerContext {
  index: RegistryIndex;
  delivery: ArtifactDelivery;
  urls: UrlSigner;
  signer: ShasumsSigner;
  gatekeeper: Gatekeeper;
  log: Logger;
  /** Absolute base URL for links in responses (e.g. https://registry.example.com); relative links when absent. */
  publicUrl?: string;
  /** Optional `source_url` published with the signing key. */
  signingKeySourceUrl?: string;
  /** Provider network mirror; not served when absent. */
  mirror?: MirrorConfig;
  /** How long exact downloads of a yanked version keep working (default 30 days). */
  lifecycle?: LifecyclePolicy;
  /** The browse API (/opendepot/ui/v1); not served when absent. */
  browse?: BrowseDeps;
  /** Readiness: true while the caches the protocols read reflect the store (listed, not relisting). */
  ready: () => boolean;
  /** The caches readiness waits for, named in /readyz's 503 body. */
  unsynced?: () => string[];
}

export function absolute(ctx: Pick<ServerContext, "publicUrl">, path: string): string {
  return ctx.publicUrl ? `${ctx.publicUrl.replace(/\/+$/, "")}${path}` : path;
}

export function lifecyclePolicy(ctx: ServerContext): LifecyclePolicy {
  return ctx.lifecycle ?? { yankGraceMs: DEFAULT_YANK_GRACE_MS };
}
