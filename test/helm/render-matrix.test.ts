// The chart rendered by the real Helm 3 and Helm 4 for every documented combination: lint --strict is clean, every
// document is valid against the real Kubernetes v1.32 / Gateway API schemas, every container's args parse with the
// project's own flag parser and role validation, every referenced Secret/ConfigMap/ServiceAccount/PVC is rendered
// or user-provided, and every workload runs locked down.
import { beforeAll, describe, expect, test } from "bun:test";
import { parseFlags, parseListen, type FlagSpec } from "../../src/cli/flags.ts";
import { CONTROLLER_ROLE_FLAGS } from "../../src/roles/controller-role.ts";
import { parseControllerList } from "../../src/roles/controller-manager.ts";
import { mirrorFromFlags, tlsFromFlags, urlTtlSeconds } from "../../src/roles/registry-server.ts";
import { SERVE_FLAGS } from "../../src/roles/serve.ts";
import { authConfigFromFlags } from "../../src/roles/auth-flags.ts";
import { parseWatchNamespaces } from "../../src/store/multi-namespace-cache.ts";
import { scanSettingsFromFlags } from "../../src/roles/scan-flags.ts";
import { policyDocument } from "../../src/roles/storage-policy.ts";
import { parseTokenAudiences } from "../../src/server/kube-reviews.ts";
import { parsePolicyDocument } from "../../src/storage/policy-document.ts";
import { UI_FLAGS, uiFromFlags } from "../../src/roles/ui-flags.ts";
import { HELMS, keyOf, lint, MATRIX, NAMESPACE, podSpecs, RELEASE, requireHelm, template, type K8sObject } from "./helm.ts";
import { KubeSchemas } from "./kube-schema.ts";

const ROLE_FLAGS: Record<string, FlagSpec[]> = { serve: SERVE_FLAGS, controller: CONTROLLER_ROLE_FLAGS };
const FULLNAME = `${RELEASE}-opendepot`;
let schemas: KubeSchemas;
const rendered = new Map<string, K8sObject[]>();

beforeAll(async () => {
  for (const helm of HELMS) requireHelm(helm);
  schemas = new KubeSchemas();
  await Promise.all(
    HELMS.flatMap((helm) =>
      Object.entries(MATRIX).map(async ([name, values]) => {
        const r = await template(helm, values);
        if (!r.ok) throw new Error(`${helm.name} template "${name}" failed: ${r.error}`);
        rendered.set(`${helm.name}|${name}`, r.docs);
      }),
    ),
  );
}, 120_000);

/** What a container's args resolve to, as the role would see them (env values where literal, and the pod's namespace). */
function roleFlags(container: any): { role: string; flags: Record<string, string | undefined> } {
  const [role, ...args] = container.args as string[];
  const specs = ROLE_FLAGS[role!];
  if (!specs) throw new Error(`container ${container.name} runs unknown role "${role}"`);
  const env = Object.fromEntries(
    (container.env ?? []).flatMap((e: any) => (typeof e.value === "string" ? [[e.name, e.value]] : e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace" ? [[e.name, NAMESPACE]] : [])),
  );
  return { role: role!, flags: parseFlags(specs, args, env) };
}

/** Secrets/ConfigMaps/ServiceAccounts/PVCs a pod spec names. */
function references(spec: any): { kind: string; name: string }[] {
  const refs: { kind: string; name: string }[] = [];
  if (spec.serviceAccountName) refs.push({ kind: "ServiceAccount", name: spec.serviceAccountName });
  for (const s of spec.imagePullSecrets ?? []) refs.push({ kind: "Secret", name: s.name });
  for (const v of spec.volumes ?? []) {
    if (v.secret) refs.push({ kind: "Secret", name: v.secret.secretName });
    if (v.configMap) refs.push({ kind: "ConfigMap", name: v.configMap.name });
    if (v.persistentVolumeClaim) refs.push({ kind: "PersistentVolumeClaim", name: v.persistentVolumeClaim.claimName });
  }
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.secretKeyRef) refs.push({ kind: "Secret", name: e.valueFrom.secretKeyRef.name });
      if (e.valueFrom?.configMapKeyRef) refs.push({ kind: "ConfigMap", name: e.valueFrom.configMapKeyRef.name });
    }
    for (const e of c.envFrom ?? []) {
      if (e.secretRef) refs.push({ kind: "Secret", name: e.secretRef.name });
      if (e.configMapRef) refs.push({ kind: "ConfigMap", name: e.configMapRef.name });
    }
  }
  return refs;
}

/**
 * Objects the chart names but does not render, each documented in values.yaml as something the user (or, for the
 * keys Secret, the controller at runtime) provides: every `existingSecret`/`existingClaim`, pull secrets, TLS
 * secrets (cert-manager), and what `extraEnvFrom` names.
 */
function userProvided(values: any): Set<string> {
  const names = new Set<string>();
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    else if (typeof v === "string" && /\.(existingSecret|existingClaim|caSecret)$|imagePullSecrets\[\d+\]\.name$|extraEnvFrom\[\d+\]\.(secretRef|configMapRef)\.name$/.test(path)) names.add(v);
  };
  walk(values, "");
  names.add(values.keys?.existingSecret ?? `${FULLNAME}-keys`); // bootstrapped by the controller (src/roles/keys-bootstrap.ts)
  return names;
}

for (const helm of HELMS) {
  describe(`${helm.name} (${helm.version})`, () => {
    for (const [name, values] of Object.entries(MATRIX)) {
      describe(name, () => {
        const docs = () => rendered.get(`${helm.name}|${name}`)!;

        test("helm lint --strict is clean", async () => {
          const r = await lint(helm, values);
          expect({ code: r.code, output: r.output }).toEqual({ code: 0, output: expect.stringContaining("0 chart(s) failed") });
          expect(r.output).not.toMatch(/\[(WARNING|ERROR)\]/);
        }, 60_000);

        test("every document validates against the real Kubernetes / Gateway API schemas (unknown fields are errors)", () => {
          expect(docs().length).toBeGreaterThan(5);
          const problems = docs().flatMap((d) => schemas.validate(d).map((p) => `${keyOf(d)}: ${p}`));
          expect(problems).toEqual([]);
        });

        test("installs into the release namespace; names are unique per kind", () => {
          const watched = parseWatchNamespaces((values as any).watchNamespaces) ?? [];
          for (const d of docs()) {
            if (["ClusterRole", "ClusterRoleBinding"].includes(d.kind)) expect(d.metadata.namespace).toBeUndefined();
            else if (["Role", "RoleBinding"].includes(d.kind) && d.metadata.namespace !== NAMESPACE) expect(watched).toContain(d.metadata.namespace!);
            else expect({ key: keyOf(d), namespace: d.metadata.namespace }).toEqual({ key: keyOf(d), namespace: NAMESPACE });
          }
          const keys = docs().map(keyOf);
          expect(new Set(keys).size).toBe(keys.length);
        });

        test("every opendepot container's args parse with the project's flag parser and pass the role's own checks", async () => {
          const containers = podSpecs(docs()).flatMap((p) => p.spec.containers).filter((c: any) => c.image.startsWith("ghcr.io/opendepot/opendepot:"));
          expect(containers.map((c: any) => c.args[0]).sort()).toEqual([...((values as any).controller?.enabled === false ? [] : ["controller"]), ...((values as any).server?.enabled === false ? [] : ["serve"])]);
          for (const c of containers) {
            const { role, flags } = roleFlags(c);
            parseWatchNamespaces(flags["watch-namespace"]);
            if (role === "serve") {
              parseListen(flags.listen!);
              tlsFromFlags(flags);
              mirrorFromFlags(flags);
              urlTtlSeconds(flags);
              const auth = authConfigFromFlags(flags);
              const v = values as any;
              const expected = v.server?.anonymousAuth ? "anonymous" : v.server?.oidc?.enabled || v.dex?.enabled ? "oidc" : "anonymous";
              expect(auth.mode).toBe(expected);
              if (auth.mode === "oidc") expect(auth.namespace).toBe(NAMESPACE);
              expect(flags["url-signing-key-file"]).toBe("/etc/opendepot/keys/url-signing.key");
              const publicUrl = v.server?.publicUrl || (v.ingress?.enabled || v.httpRoute?.enabled ? "https://registry.example.com" : undefined);
              expect(flags["public-url"]).toBe(publicUrl);
              // TokenReviews ask for the registry's own audience whenever its URL is known (issue #16).
              const audiences = parseTokenAudiences(flags["token-audiences"], flags["public-url"]);
              if (publicUrl) expect(audiences.audiences).toContain(publicUrl);
              expect(audiences.audiences).toEqual(v.server?.tokenAudiences?.filter((a: string) => a !== "api-server") ?? (publicUrl ? [publicUrl] : []));
              // Download statistics: off unless a Valkey (bundled or external) is there to count in.
              const valkey = v.valkey?.enabled !== false || !!v.valkey?.external?.url;
              expect(flags.stats ?? "on").toBe(valkey ? "on" : "off");
              expect(flags["stats-url"] !== undefined).toBe(valkey);
              // The Registry Explorer: on unless ui.enabled=false; its sign-in flags only with OIDC; its own client
              // accepted as an audience; the secret a file on a read-only mount of exactly that Secret key.
              const ui = v.ui ?? {};
              expect(flags.ui).toBe(ui.enabled === false ? "off" : "on");
              const settings = await uiFromFlags({ ...flags, "ui-oidc-client-secret-file": undefined });
              expect(settings === undefined).toBe(ui.enabled === false);
              if (settings) expect(settings.scopes).toEqual(ui.oidc?.scopes ?? ["openid", "profile", "email", "groups"]);
              expect(flags["ui-oidc-client-id"]).toBe(ui.oidc?.clientId);
              if (auth.mode === "oidc" && ui.oidc?.clientId && ui.oidc.clientId !== auth.clientId) expect(auth.extraAudiences).toEqual([...(v.server?.oidc?.extraAudiences ?? []), ui.oidc.clientId]);
              const secretFile = flags["ui-oidc-client-secret-file"];
              const secret = ui.oidc?.clientSecret;
              expect(secretFile !== undefined).toBe(!!(secret?.existingSecret || secret?.value));
              if (secretFile) {
                const mount = (c.volumeMounts as any[]).find((m) => secretFile.startsWith(`${m.mountPath}/`));
                expect(mount?.readOnly).toBe(true);
                const volume = podSpecs(docs()).find((p) => p.spec.containers.includes(c))!.spec.volumes.find((x: any) => x.name === mount.name);
                const key = secretFile.slice(mount.mountPath.length + 1);
                expect(volume.secret).toEqual({ secretName: secret.existingSecret || `${FULLNAME}-ui-oidc`, items: [{ key, path: key }], defaultMode: 0o440 });
                expect(key).toBe(secret.key ?? "client-secret");
              }
              if (secret?.value) expect(JSON.stringify(c)).not.toContain(secret.value);
            } else {
              expect(parseControllerList(flags.only ?? flags.controllers).length).toBeGreaterThan(0);
              parseListen(flags["health-listen"]!);
              expect(flags["leader-elect"]).toBe("true");
              expect(flags["bootstrap-keys-secret"]).toBe((values as any).keys?.existingSecret ? undefined : `${FULLNAME}-keys`);
              const scan = scanSettingsFromFlags(flags);
              const sv = (values as any).scanning ?? {};
              expect({ enabled: scan.enabled, modules: scan.modules, offline: scan.trivy.offline, defaults: scan.defaults, concurrency: scan.concurrency }).toEqual({
                enabled: !!sv.enabled,
                modules: !!sv.modules,
                offline: sv.enabled ? sv.offline !== false : true,
                defaults: { blockOnCritical: !!sv.blockOnCritical, blockOnHigh: !!sv.blockOnHigh },
                concurrency: sv.enabled ? (sv.concurrency ?? 1) : 1,
              });
              // Scratch space and the DB cache are mounted where the flags point.
              const mounts = (c.volumeMounts as any[]).map((m) => m.mountPath);
              expect(mounts).toContain(flags["work-dir"]);
              if (scan.enabled) expect(mounts).toContain(scan.trivy.cacheDir);
            }
            // The storage policy as the role builds it (src/roles/serve.ts, controller.ts): flags over the mounted
            // document over the role's own namespace, which must be the release namespace.
            const mode = { kind: "kubernetes" as const, ownNamespace: role === "serve" ? flags.namespace! : flags["leader-election-namespace"]! };
            expect(mode.ownNamespace).toBe(NAMESPACE);
            const policyFile = flags["storage-policy-file"];
            const cm = policyFile ? docs().find((d) => d.kind === "ConfigMap" && d.metadata.name === `${FULLNAME}-storage-policy`) : undefined;
            if (policyFile) expect((c.volumeMounts as any[]).some((m) => m.readOnly && policyFile.startsWith(`${m.mountPath}/`))).toBe(true);
            const doc = policyDocument(flags, mode, cm ? parsePolicyDocument((cm as any).data["storage-policy.yaml"], "rendered ConfigMap") : undefined);
            const sp = (values as any).storagePolicy ?? {};
            expect(doc.trustedNamespaces).toEqual(sp.trustedNamespaces ?? sp.document?.trustedNamespaces ?? [NAMESPACE]);
          }
        });

        test("every referenced Secret, ConfigMap, ServiceAccount and PVC is rendered or documented as user-provided", () => {
          const have = new Set(docs().map((d) => `${d.kind}/${d.metadata.name}`));
          for (const d of docs().filter((x) => x.kind === "StatefulSet")) for (const t of (d.spec as any).volumeClaimTemplates ?? []) have.add(`PersistentVolumeClaim/${t.metadata.name}`);
          const provided = userProvided(values);
          const missing = podSpecs(docs())
            .flatMap((p) => references(p.spec))
            .filter((r) => !have.has(`${r.kind}/${r.name}`) && !provided.has(r.name))
            .map((r) => `${r.kind}/${r.name}`);
          expect(missing).toEqual([]);
          for (const ing of docs().filter((d) => d.kind === "Ingress")) for (const t of (ing.spec as any).tls ?? []) expect(provided.has(t.secretName) || (values as any).ingress.tls.some((x: any) => x.secretName === t.secretName)).toBe(true);
        });

        test("the keys Secret is never part of the release, so no upgrade can regenerate it", () => {
          expect(docs().filter((d) => d.kind === "Secret" && /-keys$/.test(d.metadata.name))).toEqual([]);
        });

        test("every workload: non-root, read-only root filesystem, no privilege escalation, all capabilities dropped, seccomp RuntimeDefault", () => {
          for (const { owner, spec } of podSpecs(docs())) {
            const longRunning = owner.kind === "Deployment" || owner.kind === "StatefulSet";
            expect({ owner: keyOf(owner), runAsNonRoot: spec.securityContext.runAsNonRoot, seccomp: spec.securityContext.seccompProfile?.type }).toEqual({ owner: keyOf(owner), runAsNonRoot: true, seccomp: "RuntimeDefault" });
            for (const c of spec.containers) {
              expect({ c: c.name, ...c.securityContext }).toMatchObject({ c: c.name, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
              expect(c.resources?.requests).toBeDefined();
              // Jobs run to completion: probes are for what serves.
              if (longRunning) expect(c.readinessProbe && c.livenessProbe).toBeTruthy();
            }
          }
        });

        test("RBAC names no wildcard verb, resource or group", () => {
          for (const d of docs().filter((x) => x.kind === "Role" || x.kind === "ClusterRole")) {
            for (const rule of (d as any).rules) for (const field of ["verbs", "resources", "apiGroups"]) expect({ role: keyOf(d), [field]: rule[field].filter((x: string) => x.includes("*")) }).toEqual({ role: keyOf(d), [field]: [] });
          }
        });
      });
    }
  });
}

describe("Helm 3 and Helm 4 agree", () => {
  test("the same objects for every combination (the generated Valkey password aside)", () => {
    const normal = (docs: K8sObject[]) =>
      docs
        .map((d) => (d.kind === "Secret" && d.metadata.name.endsWith("-valkey") ? { ...d, data: "<generated>" } : d))
        .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    for (const name of Object.keys(MATRIX)) expect({ name, docs: normal(rendered.get(`helm4|${name}`)!) }).toEqual({ name, docs: normal(rendered.get(`helm3|${name}`)!) });
  });
});

describe("what the combinations turn on", () => {
  const docs = (name: string) => rendered.get(`helm3|${name}`)!;
  const find = (name: string, kind: string) => docs(name).filter((d) => d.kind === kind);
  test("defaults: server, controller and Valkey; no Ingress, HTTPRoute or Dex", () => {
    expect(find("defaults", "Deployment").map((d) => d.metadata.name).sort()).toEqual([`${FULLNAME}-controller`, `${FULLNAME}-server`]);
    expect(find("defaults", "StatefulSet").map((d) => (d.spec as any).template.spec.containers[0].image)).toEqual(["docker.io/valkey/valkey:8.1.1"]);
    expect(find("defaults", "Ingress").length + find("defaults", "HTTPRoute").length).toBe(0);
  });
  test("valkey disabled: no StatefulSet and no stats URL; external: the URL and its password", () => {
    expect(find("valkey disabled", "StatefulSet")).toEqual([]);
    const env = (name: string) => (find(name, "Deployment").find((d) => d.metadata.name.endsWith("-server"))!.spec as any).template.spec.containers[0].env;
    expect(env("valkey disabled").map((e: any) => e.name)).not.toContain("OPENDEPOT_VALKEY_URL");
    expect(env("valkey external")).toContainEqual({ name: "OPENDEPOT_VALKEY_URL", value: "rediss://valkey.example.com:6380" });
    expect(env("valkey external")).toContainEqual({ name: "OPENDEPOT_VALKEY_PASSWORD", valueFrom: { secretKeyRef: { name: "valkey-password", key: "password" } } });
  });
  test("dex: its issuer under the registry's host, the CLI client with redirect URIs for ports 10000-10010, /dex routed to it", () => {
    const config = Bun.YAML.parse((find("oidc with dex", "Secret").find((s) => s.metadata.name.endsWith("-dex")) as any).stringData["config.yaml"]) as any;
    expect(config.issuer).toBe("https://registry.example.com/dex");
    const cli = config.staticClients.find((c: any) => c.id === "opendepot");
    expect(cli.public).toBe(true);
    // The Explorer signs in with the same (public) client by default: its callback is registered on it too.
    expect(cli.redirectURIs).toEqual([...Array.from({ length: 11 }, (_, i) => `http://localhost:${10000 + i}/login`), "https://registry.example.com/auth/callback"]);
    expect(config.staticClients.map((c: any) => c.id)).toEqual(["opendepot"]);
    expect(config.connectors[0].id).toBe("github");
    const paths = (find("oidc with dex", "Ingress")[0]!.spec as any).rules[0].http.paths;
    expect(paths.map((p: any) => `${p.path}->${p.backend.service.name}`)).toEqual([`/dex->${FULLNAME}-dex`, `/->${FULLNAME}-server`]);
  });
  test("watchNamespaces a,b: Roles in a and b (no ClusterRole for resources), GroupBindings of the release namespace too", () => {
    const name = "watch namespaces a,b";
    // Namespaces are cluster-scoped: the only ClusterRole is the server's list/watch on them (the browse API).
    expect(find(name, "ClusterRole").map((d) => [d.metadata.name, (d as any).rules])).toEqual([[`${FULLNAME}-server-namespaces`, [{ apiGroups: [""], resources: ["namespaces"], verbs: ["list", "watch"] }]]]);
    const roles = find(name, "Role").map((d) => `${d.metadata.namespace}/${d.metadata.name}`).sort();
    expect(roles).toEqual([`a/${FULLNAME}-controller`, `a/${FULLNAME}-server`, `b/${FULLNAME}-controller`, `b/${FULLNAME}-server`, `${NAMESPACE}/${FULLNAME}-controller-own`, `${NAMESPACE}/${FULLNAME}-server-groupbindings`].sort());
    const gb = find(name, "Role").find((d) => d.metadata.name.endsWith("server-groupbindings")) as any;
    expect(gb.rules).toEqual([{ apiGroups: ["opendepot.defdev.io"], resources: ["groupbindings"], verbs: ["list", "watch"] }]);
  });
  test("metrics: on by default (server port 8082, controller health port) with scrape annotations; off passes --metrics-listen=off; no ServiceMonitor unless asked", () => {
    const deployment = (name: string, component: string) => find(name, "Deployment").find((d) => d.metadata.name === `${FULLNAME}-${component}`)!.spec as any;
    const server = deployment("defaults", "server").template;
    expect(server.spec.containers[0].args).toContain("--metrics-listen=0.0.0.0:8082");
    expect(server.spec.containers[0].ports).toContainEqual({ name: "metrics", containerPort: 8082, protocol: "TCP" });
    expect(server.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "8082", "prometheus.io/path": "/metrics" });
    const controller = deployment("defaults", "controller").template;
    expect(controller.spec.containers[0].args).toContain("--metrics-listen=health");
    expect(controller.metadata.annotations?.["prometheus.io/port"]).toBe("8082");
    for (const name of Object.keys(MATRIX)) expect({ name, monitors: find(name, "ServiceMonitor").length }).toEqual({ name, monitors: name === "service monitor" ? 1 : 0 });
    const off = deployment("metrics off", "server").template;
    expect(off.spec.containers[0].args).toContain("--metrics-listen=off");
    expect(off.spec.containers[0].ports.map((p: any) => p.name)).toEqual(["http"]);
    expect(off.metadata.annotations?.["prometheus.io/scrape"]).toBeUndefined();
    expect(deployment("metrics off", "controller").template.spec.containers[0].args).toContain("--metrics-listen=off");
  });
  test("service monitor: selects exactly the server's and the controller's metrics Services, whose port reaches the container port that serves /metrics", () => {
    const name = "service monitor";
    const [monitor] = find(name, "ServiceMonitor") as any[];
    expect(monitor.metadata.labels.release).toBe("kube-prometheus-stack");
    expect(monitor.spec.endpoints).toEqual([{ port: "metrics", path: "/metrics", scheme: "http", interval: "15s", scrapeTimeout: "10s", relabelings: [{ action: "replace", targetLabel: "cluster", replacement: "eu-1" }], metricRelabelings: [{ action: "drop", sourceLabels: ["__name__"], regex: "process_.*" }] }]);
    const selected = find(name, "Service").filter((s) => Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
    expect(selected.map((s) => s.metadata.name).sort()).toEqual([`${FULLNAME}-controller-metrics`, `${FULLNAME}-server-metrics`]);
    for (const svc of selected as any[]) {
      const port = svc.spec.ports.find((p: any) => p.name === "metrics");
      const pod = find(name, "Deployment").find((d: any) => Object.entries(svc.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v)) as any;
      const container = pod.spec.template.spec.containers[0];
      const target = container.ports.find((p: any) => p.name === port.targetPort);
      expect(target.containerPort).toBe(8082);
      const { flags } = roleFlags(container);
      expect(flags["metrics-listen"]).toBe(container.args[0] === "serve" ? "0.0.0.0:8082" : "health");
      expect(pod.spec.template.metadata.annotations?.["prometheus.io/scrape"]).toBeUndefined(); // podAnnotations: false
    }
  });
  test("azure workload identity: the pod label and the client-id annotation", () => {
    const name = "storage azure with workload identity";
    for (const d of find(name, "Deployment")) expect((d.spec as any).template.metadata.labels["azure.workload.identity/use"]).toBe("true");
    for (const sa of find(name, "ServiceAccount").filter((s) => !s.metadata.name.endsWith("-dex"))) expect(sa.metadata.annotations?.["azure.workload.identity/client-id"]).toBe("00000000-0000-0000-0000-000000000000");
  });
  test("filesystem storage: one RWX claim, kept on uninstall, mounted read-only by the server and read-write by the controller", () => {
    const [pvc] = find("storage filesystem", "PersistentVolumeClaim") as any[];
    expect(pvc.spec.accessModes).toEqual(["ReadWriteMany"]);
    expect(pvc.metadata.annotations["helm.sh/resource-policy"]).toBe("keep");
    const mounts = Object.fromEntries(find("storage filesystem", "Deployment").map((d: any) => [d.metadata.name, d.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === "modules")]));
    expect(mounts[`${FULLNAME}-server`].readOnly).toBe(true);
    expect(mounts[`${FULLNAME}-controller`].readOnly).toBe(false);
  });
});

describe("the Registry Explorer (ui.*)", () => {
  const docs = (name: string) => rendered.get(`helm3|${name}`)!;
  const one = (name: string, kind: string, suffix: string) => docs(name).find((d) => d.kind === kind && d.metadata.name.endsWith(suffix)) as any;
  const dexConfig = (name: string) => Bun.YAML.parse(one(name, "Secret", "-dex").stringData["config.yaml"]) as any;

  test("the serve role registers every UI flag the chart passes", () => {
    for (const f of UI_FLAGS) expect(SERVE_FLAGS.map((s) => s.name)).toContain(f.name);
  });

  test("ui off: --ui=off and no sign-in wiring; defaults: --ui=on", () => {
    const args = (name: string) => one(name, "Deployment", "-server").spec.template.spec.containers[0].args as string[];
    expect(args("ui off").filter((a) => a.startsWith("--ui"))).toEqual(["--ui=off"]);
    expect(args("defaults").filter((a) => a.startsWith("--ui"))).toEqual(["--ui=on"]);
  });

  test("its own client at an external IdP: the client id, the scopes, your Secret mounted, no chart Secret", () => {
    const name = "ui with its own oidc client and existing secret";
    const args = one(name, "Deployment", "-server").spec.template.spec.containers[0].args as string[];
    expect(args).toEqual(expect.arrayContaining(["--oidc-extra-audiences=other,explorer", "--ui=on", "--ui-oidc-client-id=explorer", "--ui-oidc-client-secret-file=/etc/opendepot/ui-oidc/secret", "--ui-oidc-scopes=openid,email,groups"]));
    expect(docs(name).filter((d) => d.kind === "Secret" && d.metadata.name.includes("ui"))).toEqual([]);
  });

  test("with Dex: a confidential client of its own with the callback, its secret from the chart's Secret via secretEnv", () => {
    const name = "ui with dex";
    const config = dexConfig(name);
    expect(config.staticClients.map((c: any) => c.id)).toEqual(["opendepot", "explorer"]);
    expect(config.staticClients[0].redirectURIs).not.toContain("https://registry.example.com/auth/callback");
    expect(config.staticClients[1]).toEqual({ id: "explorer", name: "OpenDepot Registry Explorer", redirectURIs: ["https://registry.example.com/auth/callback"], secretEnv: "OPENDEPOT_UI_OIDC_CLIENT_SECRET" });
    expect(JSON.stringify(config)).not.toContain("s3cr3t-explorer-value");
    const secret = one(name, "Secret", "-ui-oidc");
    expect(secret.stringData).toEqual({ "client-secret": "s3cr3t-explorer-value" });
    const dexEnv = one(name, "Deployment", "-dex").spec.template.spec.containers[0].env;
    expect(dexEnv).toContainEqual({ name: "OPENDEPOT_UI_OIDC_CLIENT_SECRET", valueFrom: { secretKeyRef: { name: `${FULLNAME}-ui-oidc`, key: "client-secret" } } });
    const args = one(name, "Deployment", "-server").spec.template.spec.containers[0].args as string[];
    expect(args).toEqual(expect.arrayContaining(["--oidc-client-id=opendepot", "--oidc-extra-audiences=explorer", "--ui-oidc-client-id=explorer", "--ui-oidc-client-secret-file=/etc/opendepot/ui-oidc/client-secret"]));
  });
});

describe("scanning, storage policy and statistics wiring", () => {
  const docs = (name: string) => rendered.get(`helm3|${name}`)!;
  const one = (name: string, kind: string, suffix: string) => docs(name).find((d) => d.kind === kind && d.metadata.name.endsWith(suffix)) as any;
  const controllerPod = (name: string) => one(name, "Deployment", "-controller").spec.template.spec;
  const serverPod = (name: string) => one(name, "Deployment", "-server").spec.template.spec;
  const updaterPods = (name: string) => [one(name, "CronJob", "-trivy-db-updater").spec.jobTemplate.spec.template.spec, one(name, "Job", "-trivy-db-seed").spec.template.spec];

  test("scanning off: the plain image, no Trivy objects, scratch in /tmp", () => {
    expect(docs("defaults").filter((d) => ["CronJob", "Job", "NetworkPolicy", "PersistentVolumeClaim"].includes(d.kind))).toEqual([]);
    const c = controllerPod("defaults").containers[0];
    expect(c.image).toBe("ghcr.io/opendepot/opendepot:0.1.0");
    expect(c.args).toContain("--work-dir=/tmp");
    expect(c.args.filter((a: string) => /^--(scan|trivy|rescan)/.test(a))).toEqual([]);
  });

  test("scanning on: the -scanning image, an emptyDir at /work, the RWX cache read-write, scanning.resources, fsGroup 65532", () => {
    const pod = controllerPod("scanning");
    const c = pod.containers[0];
    expect(c.image).toBe("ghcr.io/opendepot/opendepot:0.1.0-scanning");
    expect(c.args).toEqual(expect.arrayContaining(["--scanning-enabled=true", "--scan-modules=true", "--scan-offline=true", "--trivy-cache-dir=/var/cache/trivy", "--scan-block-on-critical=true", "--scan-block-on-high=true", "--scan-timeout=10m", "--rescan-interval=12h", "--scan-concurrency=2", "--work-dir=/work"]));
    expect(c.volumeMounts).toEqual(expect.arrayContaining([{ name: "work", mountPath: "/work" }, { name: "trivy-cache", mountPath: "/var/cache/trivy" }]));
    expect(pod.volumes).toEqual(expect.arrayContaining([{ name: "work", emptyDir: {} }, { name: "trivy-cache", persistentVolumeClaim: { claimName: `${FULLNAME}-trivy-cache` } }]));
    expect(c.resources).toEqual({ requests: { cpu: "200m", memory: "512Mi" }, limits: { memory: "2Gi" } });
    expect(pod.securityContext.fsGroup).toBe(65532);
    const pvc = one("scanning", "PersistentVolumeClaim", "-trivy-cache");
    expect(pvc.spec).toEqual({ accessModes: ["ReadWriteMany"], storageClassName: "nfs", resources: { requests: { storage: "5Gi" } } });
  });

  test("the DB updater: CronJob and the post-install/post-upgrade seed run `trivy image --download-db-only` of the pinned image into the cache, locked down", () => {
    const cron = one("scanning", "CronJob", "-trivy-db-updater");
    expect({ schedule: cron.spec.schedule, concurrencyPolicy: cron.spec.concurrencyPolicy, ok: cron.spec.successfulJobsHistoryLimit, failed: cron.spec.failedJobsHistoryLimit }).toEqual({ schedule: "0 2 * * *", concurrencyPolicy: "Forbid", ok: 1, failed: 1 });
    const seed = one("scanning", "Job", "-trivy-db-seed");
    expect(seed.metadata.annotations["helm.sh/hook"]).toBe("post-install,post-upgrade");
    for (const pod of updaterPods("scanning")) {
      const [c] = pod.containers;
      expect(c.image).toBe("docker.io/aquasec/trivy:0.74.0");
      expect(c.args).toEqual(["image", "--download-db-only", "--cache-dir", "/var/cache/trivy"]);
      expect(c.volumeMounts).toContainEqual({ name: "trivy-cache", mountPath: "/var/cache/trivy" });
      expect(pod.volumes).toContainEqual({ name: "trivy-cache", persistentVolumeClaim: { claimName: `${FULLNAME}-trivy-cache` } });
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, fsGroup: 65532 });
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
      expect(pod.automountServiceAccountToken).toBe(false);
    }
    // Given: your claim, a schedule, a DB mirror, a proxy, an image tag; offline off.
    const name = "scanning with existing cache and image";
    expect(docs(name).filter((d) => d.kind === "PersistentVolumeClaim")).toEqual([]);
    expect(controllerPod(name).containers[0].image).toBe("ghcr.io/opendepot/opendepot:1.2.3-trivy");
    expect(controllerPod(name).containers[0].args).toContain("--scan-offline=false");
    expect(one(name, "CronJob", "-trivy-db-updater").spec.schedule).toBe("30 */6 * * *");
    for (const pod of updaterPods(name)) {
      expect(pod.containers[0].args).toEqual(["image", "--download-db-only", "--cache-dir", "/var/cache/trivy", "--db-repository", "registry.example.com/trivy-db"]);
      expect(pod.containers[0].env).toContainEqual({ name: "HTTPS_PROXY", value: "http://proxy:3128" });
      expect(pod.volumes).toContainEqual({ name: "trivy-cache", persistentVolumeClaim: { claimName: "trivy-db" } });
      expect({ nodeSelector: pod.nodeSelector, priorityClassName: pod.priorityClassName, tolerations: pod.tolerations.length }).toEqual({ nodeSelector: { "kubernetes.io/os": "linux" }, priorityClassName: "low", tolerations: 1 });
    }
  });

  test("v0.9's cacheMountPath moves the flag and every mount of the cache together", () => {
    const name = "scanning with v0.9 keys";
    expect(controllerPod(name).containers[0].args).toContain("--trivy-cache-dir=/var/cache/trivy-db");
    expect(controllerPod(name).containers[0].volumeMounts).toContainEqual({ name: "trivy-cache", mountPath: "/var/cache/trivy-db" });
    for (const pod of updaterPods(name)) {
      expect(pod.containers[0].args).toEqual(["image", "--download-db-only", "--cache-dir", "/var/cache/trivy-db"]);
      expect(pod.containers[0].volumeMounts).toContainEqual({ name: "trivy-cache", mountPath: "/var/cache/trivy-db" });
    }
  });

  test("the NetworkPolicy selects only the controller and allows DNS plus the listed egress", () => {
    const np = one("scanning", "NetworkPolicy", "-controller-egress");
    expect(np.spec.podSelector.matchLabels["app.kubernetes.io/component"]).toBe("controller");
    expect(np.spec.policyTypes).toEqual(["Egress"]);
    expect(np.spec.egress[0]).toEqual({ ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] });
    expect(np.spec.egress[1].to[0].ipBlock.except).toEqual(["169.254.169.254/32"]);
    expect(docs("scanning with existing cache and image").filter((d) => d.kind === "NetworkPolicy")).toEqual([]);
  });

  test("storage policy: the same flags, env and read-only ConfigMap mount on the server and the controller", () => {
    const policyBits = (pod: any) => ({
      args: pod.containers[0].args.filter((a: string) => a.startsWith("--storage-")),
      env: pod.containers[0].env.filter((e: any) => e.name.startsWith("OPENDEPOT_STORAGE_")),
      mounts: pod.containers[0].volumeMounts.filter((m: any) => m.name === "storage-policy"),
      volumes: pod.volumes.filter((v: any) => v.name === "storage-policy"),
    });
    for (const name of ["defaults", "storage policy flags", "storage policy document"]) expect({ name, ...policyBits(serverPod(name)) }).toEqual({ name, ...policyBits(controllerPod(name)) });
    expect(policyBits(serverPod("storage policy flags")).args).toEqual([
      "--storage-trusted-namespaces=registry,platform",
      "--storage-allowed-backends=s3,fileSystem",
      "--storage-allowed-endpoints=https://minio.storage.svc:9000",
      "--storage-allowed-buckets=opendepot-{namespace}-*",
      "--storage-allowed-azure-accounts=acct*",
      "--storage-filesystem-roots=/data/modules/shared",
    ]);
    const doc = policyBits(serverPod("storage policy document"));
    expect(doc.env).toEqual([{ name: "OPENDEPOT_STORAGE_POLICY_FILE", value: "/etc/opendepot/storage-policy/storage-policy.yaml" }]);
    expect(doc.mounts).toEqual([{ name: "storage-policy", mountPath: "/etc/opendepot/storage-policy", readOnly: true }]);
    const cm = one("storage policy document", "ConfigMap", "-storage-policy");
    const parsed = parsePolicyDocument(cm.data["storage-policy.yaml"]);
    expect(parsed.namespaces?.["team-a"]?.endpoints).toEqual(["https://minio.storage.svc:9000"]);
    // Lists left empty are not rendered, so the document's own lists (and trustedNamespaces) are not overridden.
    expect(doc.args).toEqual([]);
    expect(policyBits(serverPod("defaults")).args).toEqual([]);
  });

  test("statistics: off with no Valkey at all; an external Valkey's CA mounted and named", () => {
    const env = (name: string) => serverPod(name).containers[0].env;
    expect(env("valkey disabled")).toContainEqual({ name: "OPENDEPOT_STATS", value: "off" });
    for (const name of ["defaults", "valkey external", "valkey external with ca"]) expect(env(name).map((e: any) => e.name)).not.toContain("OPENDEPOT_STATS");
    expect(env("valkey external with ca")).toContainEqual({ name: "OPENDEPOT_VALKEY_CA_FILE", value: "/etc/opendepot/valkey-ca/ca.pem" });
    expect(serverPod("valkey external with ca").volumes).toContainEqual({ name: "valkey-ca", secret: { secretName: "valkey-ca", defaultMode: 0o444 } });
    expect(env("valkey external").map((e: any) => e.name)).not.toContain("OPENDEPOT_VALKEY_CA_FILE");
  });

  test("token audiences: the public URL by default, or the ones given", () => {
    const args = (name: string) => serverPod(name).containers[0].args as string[];
    expect(args("ingress with tls")).toContain("--public-url=https://registry.example.com");
    expect(args("ingress with tls").some((a) => a.startsWith("--token-audiences"))).toBe(false);
    expect(args("token audiences")).toContain("--token-audiences=https://registry.example.com,opendepot");
  });
});

describe("the schema validator itself refuses what the API server refuses", () => {
  const deployment = () => structuredClone(rendered.get("helm3|defaults")!.find((d) => d.kind === "Deployment")!) as any;
  test("a rendered Deployment is valid; an unknown field deep in the pod template is not", () => {
    expect(schemas.validate(deployment())).toEqual([]);
    const d = deployment();
    d.spec.template.spec.containers[0].securityContext.runAsRoot = true;
    expect(schemas.validate(d)).toEqual(["/spec/template/spec/containers/0/securityContext must NOT have additional properties: runAsRoot"]);
  });
  test("wrong types and unknown kinds are errors", () => {
    const d = deployment();
    d.spec.replicas = "two";
    expect(schemas.validate(d)).toContain("/spec/replicas must be integer");
    expect(schemas.validate({ apiVersion: "apps/v1", kind: "Deploymnet" })).toEqual(["no schema for apps/v1 Deploymnet"]);
  });
  test("CronJob, Job and NetworkPolicy are checked against batch/v1 and networking.k8s.io/v1", () => {
    const of = (kind: string) => structuredClone(rendered.get("helm3|scanning")!.find((d) => d.kind === kind)!) as any;
    const cron = of("CronJob");
    expect(schemas.validate(cron)).toEqual([]);
    cron.spec.concurrency = "Forbid";
    expect(schemas.validate(cron).join("\n")).toContain("concurrency");
    const job = of("Job");
    job.spec.template.spec.containers[0].readOnly = true;
    expect(schemas.validate(job).join("\n")).toContain("readOnly");
    const np = of("NetworkPolicy");
    np.spec.egress[0].ports[0].port = [53];
    expect(schemas.validate(np)).not.toEqual([]);
  });

  test("ServiceMonitor is checked against our own subset schema (test/helm/servicemonitor-subset.crd.yaml)", () => {
    const monitor = structuredClone(rendered.get("helm3|service monitor")!.find((d) => d.kind === "ServiceMonitor")!) as any;
    expect(schemas.validate(monitor)).toEqual([]);
    monitor.spec.endpoints[0].intervall = "30s";
    monitor.spec.endpoints[0].scheme = "ftp";
    const problems = schemas.validate(monitor).join("\n");
    expect(problems).toContain("intervall");
    expect(problems).toContain("scheme");
  });
  test("HTTPRoute is checked against the Gateway API CRD", () => {
    const route = structuredClone(rendered.get("helm3|httproute")!.find((d) => d.kind === "HTTPRoute")!) as any;
    expect(schemas.validate(route)).toEqual([]);
    route.spec.rules[0].backendRefs[0].prot = 80;
    expect(schemas.validate(route).join("\n")).toContain("prot");
  });
});

describe("the chart's CRDs", () => {
  for (const helm of HELMS) {
    test(`${helm.name} --include-crds: the five CRDs, valid CustomResourceDefinitions of apiextensions.k8s.io/v1`, async () => {
      const r = await template(helm, {}, ["--include-crds"]);
      if (!r.ok) throw new Error(r.error);
      const crds = r.docs.filter((d) => d.kind === "CustomResourceDefinition");
      expect(crds.map((d) => d.metadata.name).sort()).toEqual(["depots", "groupbindings", "modules", "providers", "versions"].map((p) => `${p}.opendepot.defdev.io`));
      expect(crds.flatMap((d) => schemas.validate(d).map((p) => `${d.metadata.name}: ${p}`))).toEqual([]);
    }, 30_000);
  }
});
