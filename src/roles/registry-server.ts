// Wiring of the registry server from its parts; used by `standalone` now and `serve` later.
import type { ModuleObject, ProviderObject, VersionObject } from "../api/kinds.ts";
import { Module, Provider, Version } from "../api/kinds.ts";
import type { Logger } from "../log.ts";
import { createApp, type DiscoveryExtras } from "../server/app.ts";
import { ArtifactDelivery } from "../server/artifact-delivery.ts";
import { anonymousGatekeeper, type Gatekeeper, type ShasumsSigner } from "../server/context.ts";
import { RegistryIndex } from "../server/registry-index.ts";
import { listen, withRequestPolicy } from "../server/serve.ts";
import { UrlSigner } from "../server/url-signer.ts";
import { ResourceCache } from "../store/cache.ts";
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
  gatekeeper?: Gatekeeper;
  discovery?: DiscoveryExtras;
  namespace?: string;
}

export async function startRegistryServer(options: RegistryServerOptions) {
  const { store, log } = options;
  const modules = new ResourceCache<ModuleObject>(store, Module, { namespace: options.namespace, log });
  const providers = new ResourceCache<ProviderObject>(store, Provider, { namespace: options.namespace, log });
  const versions = new ResourceCache<VersionObject>(store, Version, { namespace: options.namespace, log });
  await Promise.all([modules.start(), providers.start(), versions.start()]);
  const index = new RegistryIndex({ modules, providers, versions });
  const app = createApp(
    {
      index,
      delivery: new ArtifactDelivery(options.storageFor, log),
      urls: new UrlSigner(options.urlKey, options.urlTtlSeconds),
      signer: options.signer,
      gatekeeper: options.gatekeeper ?? anonymousGatekeeper,
      log,
      publicUrl: options.publicUrl,
      signingKeySourceUrl: options.signingKeySourceUrl,
      ready: () => true,
    },
    options.discovery,
  );
  const handle = (request: Request) => app.handle(request);
  return {
    handle: withRequestPolicy(handle, log),
    listen: (hostname: string, port: number, tls?: { cert: string; key: string }) => listen(handle, { hostname, port, tls }, log),
    stop() {
      index.close();
      for (const c of [modules, providers, versions]) c.stop();
    },
  };
}
