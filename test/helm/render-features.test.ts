// What each documented combination of the chart turns on, rendered by the real Helm (test/helm/rendered.ts), and
// proof that the schema validator used by render-matrix.test.ts refuses what the API server refuses.
import { describe, expect, test } from "bun:test";
import { SERVE_FLAGS } from "../../src/roles/serve.ts";
import { UI_FLAGS } from "../../src/roles/ui-flags.ts";
import { parsePolicyDocument } from "../../src/storage/policy-document.ts";
import { HELMS, MATRIX, NAMESPACE, template } from "./helm.ts";
import { FULLNAME, renderedChart, roleFlags } from "./rendered.ts";


const chart = renderedChart();

describe("what the combinations turn on", () => {
  const docs = (name: string) => chart.rendered.get(`helm3|${name}`)!;
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
  test("static routes: the server gets --static-routes beside --anonymous-auth, and only when asked", () => {
    const serverArgs = (name: string) => (find(name, "Deployment").find((d) => d.metadata.name === `${FULLNAME}-server`)!.spec as any).template.spec.containers[0].args as string[];
    expect(serverArgs("anonymous with static routes")).toEqual(expect.arrayContaining(["--anonymous-auth", "--static-routes"]));
    for (const name of ["anonymous", "defaults"]) expect(serverArgs(name)).not.toContain("--static-routes");
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
  const docs = (name: string) => chart.rendered.get(`helm3|${name}`)!;
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
  const docs = (name: string) => chart.rendered.get(`helm3|${name}`)!;
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
  const deployment = () => structuredClone(chart.rendered.get("helm3|defaults")!.find((d) => d.kind === "Deployment")!) as any;
  test("a rendered Deployment is valid; an unknown field deep in the pod template is not", () => {
    expect(chart.schemas.validate(deployment())).toEqual([]);
    const d = deployment();
    d.spec.template.spec.containers[0].securityContext.runAsRoot = true;
    expect(chart.schemas.validate(d)).toEqual(["/spec/template/spec/containers/0/securityContext must NOT have additional properties: runAsRoot"]);
  });
  test("wrong types and unknown kinds are errors", () => {
    const d = deployment();
    d.spec.replicas = "two";
    expect(chart.schemas.validate(d)).toContain("/spec/replicas must be integer");
    expect(chart.schemas.validate({ apiVersion: "apps/v1", kind: "Deploymnet" })).toEqual(["no schema for apps/v1 Deploymnet"]);
  });
  test("CronJob, Job and NetworkPolicy are checked against batch/v1 and networking.k8s.io/v1", () => {
    const of = (kind: string) => structuredClone(chart.rendered.get("helm3|scanning")!.find((d) => d.kind === kind)!) as any;
    const cron = of("CronJob");
    expect(chart.schemas.validate(cron)).toEqual([]);
    cron.spec.concurrency = "Forbid";
    expect(chart.schemas.validate(cron).join("\n")).toContain("concurrency");
    const job = of("Job");
    job.spec.template.spec.containers[0].readOnly = true;
    expect(chart.schemas.validate(job).join("\n")).toContain("readOnly");
    const np = of("NetworkPolicy");
    np.spec.egress[0].ports[0].port = [53];
    expect(chart.schemas.validate(np)).not.toEqual([]);
  });

  test("ServiceMonitor is checked against our own subset schema (test/helm/servicemonitor-subset.crd.yaml)", () => {
    const monitor = structuredClone(chart.rendered.get("helm3|service monitor")!.find((d) => d.kind === "ServiceMonitor")!) as any;
    expect(chart.schemas.validate(monitor)).toEqual([]);
    monitor.spec.endpoints[0].intervall = "30s";
    monitor.spec.endpoints[0].scheme = "ftp";
    const problems = chart.schemas.validate(monitor).join("\n");
    expect(problems).toContain("intervall");
    expect(problems).toContain("scheme");
  });
  test("HTTPRoute is checked against the Gateway API CRD", () => {
    const route = structuredClone(chart.rendered.get("helm3|httproute")!.find((d) => d.kind === "HTTPRoute")!) as any;
    expect(chart.schemas.validate(route)).toEqual([]);
    route.spec.rules[0].backendRefs[0].prot = 80;
    expect(chart.schemas.validate(route).join("\n")).toContain("prot");
  });
});

describe("the chart's CRDs", () => {
  for (const helm of HELMS) {
    test(`${helm.name} --include-crds: the five CRDs, valid CustomResourceDefinitions of apiextensions.k8s.io/v1`, async () => {
      const r = await template(helm, {}, ["--include-crds"]);
      if (!r.ok) throw new Error(r.error);
      const crds = r.docs.filter((d) => d.kind === "CustomResourceDefinition");
      expect(crds.map((d) => d.metadata.name).sort()).toEqual(["depots", "groupbindings", "modules", "providers", "versions"].map((p) => `${p}.opendepot.defdev.io`));
      expect(crds.flatMap((d) => chart.schemas.validate(d).map((p) => `${d.metadata.name}: ${p}`))).toEqual([]);
    }, 30_000);
  }
});
