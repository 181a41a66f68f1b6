// The chart rendered by the real Helm 3 and Helm 4 for every documented combination: lint --strict is clean, every
// document is valid against the real Kubernetes v1.32 / Gateway API schemas, every container's args parse with the
// project's own flag parser and role validation, every referenced Secret/ConfigMap/ServiceAccount/PVC is rendered
// or user-provided, and every workload runs locked down.
import { describe, expect, test } from "bun:test";
import { parseListen } from "../../src/cli/flags.ts";
import { parseControllerList } from "../../src/roles/controller-manager.ts";
import { mirrorFromFlags, tlsFromFlags, urlTtlSeconds } from "../../src/roles/registry-server.ts";
import { authConfigFromFlags } from "../../src/roles/auth-flags.ts";
import { parseWatchNamespaces } from "../../src/store/multi-namespace-cache.ts";
import { scanSettingsFromFlags } from "../../src/roles/scan-flags.ts";
import { policyDocument } from "../../src/roles/storage-policy.ts";
import { parseTokenAudiences } from "../../src/server/kube-reviews.ts";
import { parsePolicyDocument } from "../../src/storage/policy-document.ts";
import { uiFromFlags } from "../../src/roles/ui-flags.ts";
import { HELMS, keyOf, lint, MATRIX, NAMESPACE, podSpecs, type K8sObject } from "./helm.ts";
import { FULLNAME, renderedChart, roleFlags } from "./rendered.ts";


const chart = renderedChart();

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
        const docs = () => chart.rendered.get(`${helm.name}|${name}`)!;

        test("helm lint --strict is clean", async () => {
          const r = await lint(helm, values);
          expect({ code: r.code, output: r.output }).toEqual({ code: 0, output: expect.stringContaining("0 chart(s) failed") });
          expect(r.output).not.toMatch(/\[(WARNING|ERROR)\]/);
        }, 60_000);

        test("every document validates against the real Kubernetes / Gateway API schemas (unknown fields are errors)", () => {
          expect(docs().length).toBeGreaterThan(5);
          const problems = docs().flatMap((d) => chart.schemas.validate(d).map((p) => `${keyOf(d)}: ${p}`));
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
    for (const name of Object.keys(MATRIX)) expect({ name, docs: normal(chart.rendered.get(`helm4|${name}`)!) }).toEqual({ name, docs: normal(chart.rendered.get(`helm3|${name}`)!) });
  });
});
