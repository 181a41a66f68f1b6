// Wiring of the registry server from its parts; used by `standalone` now and `serve` later.
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { Module, Provider, Version } from "../api/kinds.ts";
import type { Logger } from "../log.ts";
import { createApp, type DiscoveryExtras } from "../server/app.ts";
import type { AuthConfig } from "../server/auth/config.ts";
import type { KubernetesTokenAuthorizer } from "../server/auth/kubernetes.ts";
import { startAuth } from "../server/auth/setup.ts";
import { ArtifactDelivery } from "../server/artifact-delivery.ts";
import { anonymousGatekeeper, type Gatekeeper, type ShasumsSigner } from "../server/context.ts";
import { RegistryIndex } from "../server/registry-index.ts";
import { listen, withRequestPolicy } from "../server/serve.ts";
import { UrlSigner } from "../server/url-signer.ts";
import { cacheFor } from "../store/multi-namespace-cache.ts";
import type { ResourceStore } from "../store/types.ts";
import type { StorageFor } from "../storage/locate.ts";

export interface RegistryServerOptions {
  store: ResourceStore;
  storageFor: StorageFor;
  signer: ShasumsSigner;
  urlKey: Uint8Array;
  urlTtlSeconds: number;
  log: Logger;
  publicUrl?: string;
  signingKeySourceUrl?: string;
  /** Anonymous, or OIDC with GroupBindings (builds the gatekeeper and login.v1); ignored when `gatekeeper` is given. */
  auth?: AuthConfig;
  /** TokenReview + SubjectAccessReview, for --oidc-allow-sa-fallback. */
  kubernetes?: KubernetesTokenAuthorizer;
  gatekeeper?: Gatekeeper;
  discovery?: DiscoveryExtras;
  /** Namespaces served (WATCH_NAMESPACE); all when absent. */
  namespaces?: string[];
}

export async function startRegistryServer(options: RegistryServerOptions) {
  const { store, log } = options;
  const modules = cacheFor<ModuleObject>(store, Module, options.namespaces, { log });
  const providers = cacheFor<ProviderObject>(store, Provider, options.namespaces, { log });
  const versions = cacheFor<VersionObject>(store, Version, options.namespaces, { log });
  await Promise.all([modules.start(), providers.start(), versions.start()]);
  const index = new RegistryIndex({ modules, providers, versions });
  const auth = options.gatekeeper ? undefined : await startAuth(options.auth ?? { mode: "anonymous", reason: "default" }, { store, log, kubernetes: options.kubernetes, namespaces: options.namespaces });
  const app = createApp(
    {
      index,
      delivery: new ArtifactDelivery(options.storageFor, log),
      urls: new UrlSigner(options.urlKey, options.urlTtlSeconds),
      signer: options.signer,
      gatekeeper: options.gatekeeper ?? auth?.gatekeeper ?? anonymousGatekeeper,
      log,
      publicUrl: options.publicUrl,
      signingKeySourceUrl: options.signingKeySourceUrl,
      ready: () => true,
    },
    options.discovery ?? auth?.discovery,
  );
  const handle = (request: Request) => app.handle(request);
  return {
    handle: withRequestPolicy(handle, log),
    listen: (hostname: string, port: number, tls?: { cert: string; key: string }) => listen(handle, { hostname, port, tls }, log),
    stop() {
      index.close();
      auth?.stop();
      for (const c of [modules, providers, versions]) c.stop();
    },
  };
}
