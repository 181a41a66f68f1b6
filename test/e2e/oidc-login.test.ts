// Acceptance: OIDC sign-in with the real Terraform CLI. `terraform login` discovers login.v1 over HTTPS, runs the
// authorization-code flow with PKCE against the fixture provider (the test plays the browser), and the token it
// stores lets `terraform init` install what the user's group is bound to — and nothing else. A CI job's
// client-credentials token (TF_TOKEN_<host>) installs what `client:<sub>` is bound to. Refused tokens get 401.
// (The ServiceAccount fallback needs Kubernetes; it is covered in-process in src/server/auth/oidc-gatekeeper.test.ts.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FixtureOidcProvider } from "../../fixtures/oidc-provider.ts";
import { EmbeddedStore } from "../../src/store/embedded.ts";
import { publishModule } from "../support/publish.ts";
import { waitFor } from "../support/ports.ts";
import { TERRAFORM } from "../support/terraform.ts";
import { createFixtureRegistry, MODULE_FILES } from "./fixture-registry.ts";
import { makeCertificates, startTlsStandalone, TerraformUser, type TlsStandalone } from "./oidc-login-support.ts";

const BINDINGS = `apiVersion: opendepot.defdev.io/v1alpha1
kind: GroupBinding
metadata: { name: 00-typo, namespace: opendepot-system }
spec:
  expression: '"platform-team" in grups'
  moduleResources: ["*"]
  providerResources: ["*"]
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: GroupBinding
metadata: { name: 10-platform, namespace: opendepot-system }
spec:
  expression: '"platform-team" in groups'
  moduleResources: ["net*"]
  providerResources: ["widget"]
---
apiVersion: opendepot.defdev.io/v1alpha1
kind: GroupBinding
metadata: { name: 20-ci, namespace: opendepot-system }
spec:
  expression: '"client:ci-bot" in groups'
  moduleResources: ["vault"]
`;

const VAULT_MODULE = `apiVersion: opendepot.defdev.io/v1alpha1
kind: Module
metadata: { name: vault, namespace: default }
spec:
  moduleConfig: { provider: aws, repoOwner: acme, fileFormat: zip }
  versions:
    - version: 1.0.0
`;

const moduleConfig = (host: string, name: string, version: string) => `module "m" {\n  source  = "${host}/default/${name}/aws"\n  version = "${version}"\n  name    = "core"\n}\n`;
const providerConfig = (host: string) => `terraform {\n  required_providers {\n    widget = {\n      source  = "${host}/default/widget"\n      version = "2.1.0"\n    }\n  }\n}\n`;

let idp: FixtureOidcProvider;
let server: TlsStandalone;
let ca: string;
let caFile: string;

beforeAll(async () => {
  if (!existsSync(TERRAFORM)) throw new Error(`Terraform CLI not found at ${TERRAFORM}: the acceptance tests need it`);
  idp = await FixtureOidcProvider.start({
    user: { sub: "alice", email: "alice@example.com", name: "Alice", groups: ["platform-team", "developers"] },
    clients: [{ id: "terraform-cli", redirectUris: "loopback" }, { id: "ci-bot", secret: "ci-secret" }],
  });
  const fixture = await createFixtureRegistry();
  await writeFile(join(fixture.manifests, "bindings.yaml"), BINDINGS);
  await writeFile(join(fixture.manifests, "vault.yaml"), VAULT_MODULE);
  const store = EmbeddedStore.open(join(fixture.dataDir, "store.db"), { namespaces: ["opendepot-system"] });
  await publishModule(store, fixture.storageFor, { namespace: "default", module: "vault", version: "1.0.0", files: MODULE_FILES });
  await store.close();
  const certs = await makeCertificates(join(fixture.root, "tls"));
  caFile = certs.ca;
  ca = await readFile(certs.ca, "utf8");
  server = await startTlsStandalone({
    dataDir: fixture.dataDir,
    manifests: fixture.manifests,
    certs,
    extra: [
      "--oidc-issuer-url", idp.issuer,
      "--oidc-client-id", "terraform-cli",
      "--oidc-allow-client-credentials",
      "--oidc-client-credentials-audiences", "opendepot-ci",
      "--oidc-jwks-min-refresh-interval", "0s",
      "--oidc-clock-skew", "5s",
    ],
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await idp?.stop();
});

const get = (path: string, token?: string) => fetch(`${server.url}${path}`, { tls: { ca }, headers: token ? { authorization: `Bearer ${token}` } : {} });
const NETWORK_VERSIONS = "/opendepot/modules/v1/default/network/aws/versions";

describe("terraform login + GroupBindings", () => {
  let user: TerraformUser;

  test("terraform login completes the authorization-code flow against the fixture provider", async () => {
    user = await TerraformUser.create(caFile);
    const login = user.login(server.host);
    const authorizationUrl = await waitFor(async () => (existsSync(user.browserUrlFile) ? await readFile(user.browserUrlFile, "utf8") : undefined), 15_000, "terraform login to open the browser");
    const url = new URL(authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${idp.issuer}/auth`);
    expect(url.searchParams.get("client_id")).toBe("terraform-cli");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("scope")).toBe("openid profile email groups");
    expect(url.searchParams.get("redirect_uri")).toMatch(/^http:\/\/localhost:100(0\d|10)\/login$/);
    const callback = await idp.completeBrowserLogin(authorizationUrl); // auto-approve, redirect to Terraform's listener
    expect(callback.status).toBe(200);
    const result = await login;
    expect(result.output).toContain("Success! Terraform has obtained and saved an API token.");
    expect(result.exitCode).toBe(0);
    const credentials = JSON.parse(await readFile(join(user.home, ".terraform.d", "credentials.tfrc.json"), "utf8"));
    const token: string = credentials.credentials[server.host].token;
    expect(JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString())).toMatchObject({ sub: "alice", aud: "terraform-cli", groups: ["platform-team", "developers"] });
  }, 60_000);

  test("terraform init then installs the module and provider the user's group is bound to", async () => {
    const init = await user.init({ "main.tf": moduleConfig(server.host, "network", "1.2.0") + providerConfig(server.host) });
    expect(init.output).not.toContain("Error");
    expect(init.exitCode).toBe(0);
    expect(await readFile(join(init.dir, ".terraform/modules/m/main.tf"), "utf8")).toBe(MODULE_FILES["main.tf"]);
    expect(init.output).toContain(`Installed ${server.host}/default/widget v2.1.0`);
  }, 60_000);

  test("a module outside the binding fails with a permission error", async () => {
    const init = await user.init({ "main.tf": moduleConfig(server.host, "vault", "1.0.0") });
    expect(init.exitCode).toBe(1);
    expect(init.output).toContain("403 Forbidden");
    // The server writes its log in batches through a pipe: wait for the line rather than read the moment init exits.
    const denial = await waitFor(() => server.logs().find((l) => l.msg === "access denied" && l.name === "vault"), 10_000, "the denial's log line");
    expect(denial).toMatchObject({ status: 403, subject: "alice", binding: "opendepot-system/10-platform" });
  }, 60_000);

  test("a client-credentials token in TF_TOKEN_<host> installs what client:<sub> is bound to", async () => {
    const token = await idp.clientCredentials("ci-bot", "ci-secret", "opendepot-ci");
    // Terraform reads TF_TOKEN_<host> with dots as underscores; this test host also carries a port.
    const ci = await TerraformUser.create(caFile, { [`TF_TOKEN_${server.host.replaceAll(".", "_")}`]: token });
    const vault = await ci.init({ "main.tf": moduleConfig(server.host, "vault", "1.0.0") });
    expect(vault.output).not.toContain("Error");
    expect(vault.exitCode).toBe(0);
    const network = await ci.init({ "main.tf": moduleConfig(server.host, "network", "1.2.0") });
    expect(network.exitCode).toBe(1);
    expect(network.output).toContain("403 Forbidden");
  }, 60_000);

  test("an expired token fails terraform init with 401", async () => {
    const expired = await idp.mint({ sub: "alice", aud: "terraform-cli", groups: ["platform-team"] }, { ttlSeconds: -120 });
    const stale = await TerraformUser.create(caFile, { [`TF_TOKEN_${server.host.replaceAll(".", "_")}`]: expired });
    const init = await stale.init({ "main.tf": moduleConfig(server.host, "network", "1.2.0") });
    expect(init.exitCode).toBe(1);
    expect(init.output).toContain("401 Unauthorized");
  }, 60_000);
});

describe("refused tokens over HTTPS", () => {
  const claims = { sub: "alice", aud: "terraform-cli", groups: ["platform-team"] };

  test.each([
    ["no token", async () => undefined, undefined],
    ["an expired token", () => idp.mint(claims, { ttlSeconds: -120 }), "token has expired"],
    ["a token for another audience", () => idp.mint({ ...claims, aud: "payroll" }), "token was issued for another audience"],
    ["a machine token for another audience", () => idp.clientCredentials("ci-bot", "ci-secret", "payroll"), "token was issued for another audience"],
    ["a token signed by an unknown key", () => idp.mint(claims, { key: "foreign" }), "token is signed by an unknown key"],
    ["an unsigned token (alg none)", async () => idp.mintUnsigned(claims), 'signing algorithm "none" is not allowed'],
  ])("%s → 401", async (_what, mint, reason) => {
    const r = await get(NETWORK_VERSIONS, await mint());
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBe(reason ? `Bearer realm="opendepot", error="invalid_token", error_description="${reason.replaceAll('"', "")}"` : 'Bearer realm="opendepot"');
  });

  test("a token from a rotated-out key → 401, while the new key's tokens work", async () => {
    const old = await idp.mint(claims);
    expect((await get(NETWORK_VERSIONS, old)).status).toBe(200);
    await idp.rotateKeys(); // the old key leaves the JWKS
    expect((await get(NETWORK_VERSIONS, await idp.mint(claims))).status).toBe(200); // unknown kid → keys refreshed
    const r = await get(NETWORK_VERSIONS, old);
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toContain("token is signed by an unknown key");
  });

  test("no token is ever written to the log", () => {
    const text = JSON.stringify(server.logs());
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  });
});
