// A bad values file fails `helm template` on Helm 3 and Helm 4 with a message naming what to fix: the schema for
// types and unknown keys, the chart's own checks for combinations. Reserved sections of parallel work are accepted.
import { beforeAll, describe, expect, test } from "bun:test";
import { HELMS, requireHelm, template } from "./helm.ts";

beforeAll(() => {
  for (const helm of HELMS) requireHelm(helm);
});

const REFUSED: { name: string; values: Record<string, unknown>; message: RegExp }[] = [
  { name: "an unknown top-level key", values: { replicaCount: 3 }, message: /replicaCount/ },
  { name: "an unknown nested key (a typo)", values: { server: { replicas: 3 } }, message: /replicas/ },
  { name: "a string for an integer", values: { server: { replicaCount: "three" } }, message: /\/?server[./]replicaCount/ },
  { name: "a string for a boolean", values: { valkey: { enabled: "yes" } }, message: /valkey[./]enabled/ },
  { name: "a watchNamespaces list that is not namespace names", values: { watchNamespaces: "a, B_2" }, message: /watchNamespaces/ },
  { name: "an unknown controller in controller.only", values: { controller: { only: "depot,modul" } }, message: /controller[./]only/ },
  { name: "a relative publicUrl", values: { server: { publicUrl: "registry.example.com" } }, message: /publicUrl/ },
  { name: "a duration without a unit", values: { server: { downloadUrlTtl: "15" } }, message: /downloadUrlTtl/ },
  { name: "an external Valkey that is not a redis URL", values: { valkey: { enabled: false, external: { url: "http://valkey:6379" } } }, message: /external[./]url/ },
  { name: "ingress without hosts", values: { ingress: { enabled: true } }, message: /ingress\.hosts/ },
  { name: "an HTTPRoute without a Gateway", values: { httpRoute: { enabled: true, hostnames: ["r.example.com"] } }, message: /httpRoute\.parentRefs/ },
  { name: "Dex without a way to log in", values: { dex: { enabled: true } }, message: /dex\.connectors/ },
  { name: "OIDC without an issuer", values: { server: { oidc: { enabled: true } } }, message: /server\.oidc\.issuerUrl/ },
  { name: "anonymous and OIDC at once", values: { server: { anonymousAuth: true, oidc: { enabled: true, issuerUrl: "https://idp.example.com" } } }, message: /anonymousAuth/ },
  { name: "static routes with authorization on", values: { server: { staticRoutes: true } }, message: /server\.staticRoutes=true .*server\.anonymousAuth=true/ },
  { name: "a string for server.staticRoutes", values: { server: { anonymousAuth: true, staticRoutes: "yes" } }, message: /server[./]staticRoutes/ },
  { name: "no controller and no keys Secret", values: { controller: { enabled: false } }, message: /keys\.existingSecret/ },
  { name: "both bundled and external Valkey", values: { valkey: { external: { url: "redis://v:6379" } } }, message: /valkey\.enabled=false/ },
  { name: "an unknown scanning key (a typo)", values: { scanning: { enable: true } }, message: /enable/ },
  { name: "a scan concurrency Trivy cannot run", values: { scanning: { enabled: true, concurrency: 0 } }, message: /concurrency/ },
  { name: "a scan timeout without a unit", values: { scanning: { enabled: true, timeout: "300" } }, message: /timeout/ },
  { name: "a block policy with scanning off", values: { scanning: { blockOnCritical: true } }, message: /scanning\.enabled=true/ },
  { name: "scanning without the controller", values: { scanning: { enabled: true }, controller: { enabled: false }, keys: { existingSecret: "k" } }, message: /controller\.enabled=true/ },
  { name: "a Trivy cache the updater and replicas cannot share", values: { scanning: { enabled: true, cache: { accessMode: "ReadWriteOnce" } } }, message: /ReadWriteMany/ },
  { name: "an unknown storage backend", values: { storagePolicy: { allowedBackends: ["ftp"] } }, message: /allowedBackends/ },
  { name: "a storage endpoint that is not an origin", values: { storagePolicy: { allowedEndpoints: ["minio:9000"] } }, message: /allowedEndpoints/ },
  { name: "a relative filesystem root", values: { storagePolicy: { filesystemRoots: ["data"] } }, message: /filesystemRoots/ },
  { name: "an unknown storagePolicy key", values: { storagePolicy: { retain: true } }, message: /retain/ },
  { name: "a Valkey CA without an external rediss:// URL", values: { valkey: { enabled: false, external: { url: "redis://v:6379", caSecret: "ca" } } }, message: /rediss/ },
  { name: "a token audience with a comma", values: { server: { tokenAudiences: ["a,b"] } }, message: /tokenAudiences/ },
  { name: "a ServiceMonitor interval without a unit", values: { metrics: { serviceMonitor: { enabled: true, interval: "30" } } }, message: /metrics[./]serviceMonitor[./]interval/ },
  { name: "an unknown metrics key", values: { metrics: { port: 9090 } }, message: /port/ },
  { name: "a shared filesystem that cannot be shared", values: { storage: { filesystem: { enabled: true, accessModes: ["ReadWriteOnce"] } } }, message: /ReadWriteMany/ },
  { name: "an unknown ui key (a typo)", values: { ui: { enable: false } }, message: /enable/ },
  { name: "an unknown ui.oidc key", values: { ui: { oidc: { clientID: "x" } } }, message: /clientID/ },
  { name: "a string for ui.enabled", values: { ui: { enabled: "off" } }, message: /ui[./]enabled/ },
  { name: "a UI client id with a comma (it joins --oidc-extra-audiences)", values: { server: { oidc: { enabled: true, issuerUrl: "https://idp.example.com" } }, ui: { oidc: { clientId: "a,b" } } }, message: /clientId/ },
  { name: "a UI scope with a space", values: { server: { oidc: { enabled: true, issuerUrl: "https://idp.example.com" } }, ui: { oidc: { scopes: ["openid email"] } } }, message: /scopes/ },
  { name: "a UI secret key that is not a Secret key", values: { server: { oidc: { enabled: true, issuerUrl: "https://idp.example.com" } }, ui: { oidc: { clientSecret: { existingSecret: "s", key: "a/b" } } } }, message: /key/ },
  { name: "a UI client secret without OIDC", values: { ui: { oidc: { clientSecret: { existingSecret: "explorer-oidc" } } } }, message: /server\.oidc\.enabled=true/ },
  { name: "a UI client id with anonymous auth", values: { server: { anonymousAuth: true }, ui: { oidc: { clientId: "explorer" } } }, message: /needs OIDC/ },
  { name: "UI sign-in settings with the UI off", values: { server: { oidc: { enabled: true, issuerUrl: "https://idp.example.com" } }, ui: { enabled: false, oidc: { scopes: ["openid"] } } }, message: /ui\.enabled=false/ },
  { name: "a UI secret both existing and as a value", values: { server: { oidc: { enabled: true, issuerUrl: "https://idp.example.com" } }, ui: { oidc: { clientId: "x", clientSecret: { existingSecret: "s", value: "v" } } } }, message: /not both/ },
  { name: "a UI secret on Dex's public CLI client", values: { dex: { enabled: true, enablePasswordDB: true }, server: { publicUrl: "https://r.example.com" }, ui: { oidc: { clientSecret: { value: "v" } } } }, message: /ui\.oidc\.clientId/ },
  { name: "a Dex client for the UI without a public URL for its redirect URI", values: { dex: { enabled: true, enablePasswordDB: true }, ui: { oidc: { clientId: "explorer" } } }, message: /public URL/ },
];

for (const helm of HELMS) {
  describe(`${helm.name}: bad values fail helm template with a clear message`, () => {
    for (const c of REFUSED) {
      test(c.name, async () => {
        const r = await template(helm, c.values);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error).toMatch(c.message);
      }, 30_000);
    }
  });

  describe(`${helm.name}: accepted`, () => {
    test("ui, scanning and metrics.serviceMonitor together", async () => {
      const r = await template(helm, { scanning: { enabled: true, blockOnCritical: true }, ui: { enabled: true }, metrics: { serviceMonitor: { enabled: true } } });
      expect(r.ok ? "rendered" : r.error).toBe("rendered");
    }, 30_000);
    test("the Explorer's own confidential client in a Dex client you declared (the chart adds only its callback)", async () => {
      const r = await template(helm, { dex: { enabled: true, enablePasswordDB: true, staticClients: [{ id: "explorer", name: "Explorer", secretEnv: "EXPLORER_SECRET", redirectURIs: ["https://other.example.com/cb"] }] }, server: { publicUrl: "https://r.example.com" }, ui: { oidc: { clientId: "explorer", clientSecret: { existingSecret: "explorer-oidc" } } } });
      if (!r.ok) throw new Error(r.error);
      const secret = r.docs.find((d) => d.kind === "Secret" && d.metadata.name.endsWith("-dex")) as any;
      const clients = (Bun.YAML.parse(secret.stringData["config.yaml"]) as any).staticClients;
      expect(clients.map((c: any) => c.id)).toEqual(["opendepot", "explorer"]);
      expect(clients[1]).toEqual({ id: "explorer", name: "Explorer", secretEnv: "EXPLORER_SECRET", redirectURIs: ["https://other.example.com/cb", "https://r.example.com/auth/callback"] });
      // Yours: the chart neither injects a secret env into Dex nor touches the declared entry's secret.
      const dex = r.docs.find((d) => d.kind === "Deployment" && d.metadata.name.endsWith("-dex")) as any;
      expect(dex.spec.template.spec.containers[0].env).toBeUndefined();
    }, 30_000);
    test("a controller-less install with a Secret of your own", async () => {
      const r = await template(helm, { controller: { enabled: false }, keys: { existingSecret: "mine" } });
      expect(r.ok ? "rendered" : r.error).toBe("rendered");
    }, 30_000);
  });
}
