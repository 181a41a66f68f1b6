// The AWS credential chain against small local fakes of STS, the container credential endpoint and IMDSv2.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageError } from "../types.ts";
import { awsCredentialChain } from "./aws.ts";
import { runtime } from "../../runtime/index.ts";

let dir: string;
const calls: { path: string; method: string; headers: Headers; body: string }[] = [];
let expiresInMs = 3600_000;
let stsError = false;

const server = runtime.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const url = new URL(req.url);
    const body = await req.text();
    calls.push({ path: url.pathname, method: req.method, headers: req.headers, body });
    const expiration = new Date(Date.now() + expiresInMs).toISOString();
    if (url.pathname === "/sts/") {
      const form = new URLSearchParams(body);
      if (stsError || form.get("WebIdentityToken") !== "projected-token-1") {
        return new Response(
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Couldn't retrieve verification key from your identity provider</Message></Error><RequestId>x</RequestId></ErrorResponse>`,
          { status: 400 },
        );
      }
      return new Response(
        `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAWEBID</AccessKeyId><SecretAccessKey>web-secret</SecretAccessKey><SessionToken>web-session&amp;token</SessionToken><Expiration>${expiration}</Expiration></Credentials><SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
      );
    }
    if (url.pathname === "/container/creds") {
      if (req.headers.get("authorization") !== "pod-identity-token") return new Response("unauthorized", { status: 401 });
      return Response.json({ AccessKeyId: "ASIACONTAINER", SecretAccessKey: "c-secret", Token: "c-token", Expiration: expiration, AccountId: "123" });
    }
    if (url.pathname === "/latest/api/token" && req.method === "PUT") return new Response("imds-session-token");
    if (url.pathname.startsWith("/latest/meta-data/")) {
      if (req.headers.get("x-aws-ec2-metadata-token") !== "imds-session-token") return new Response("", { status: 401 });
      if (url.pathname === "/latest/meta-data/iam/security-credentials/") return new Response("node-role\n");
      if (url.pathname === "/latest/meta-data/iam/security-credentials/node-role") {
        return Response.json({ Code: "Success", LastUpdated: new Date().toISOString(), Type: "AWS-HMAC", AccessKeyId: "ASIAIMDS", SecretAccessKey: "i-secret", Token: "i-token", Expiration: expiration });
      }
    }
    return new Response("not found", { status: 404 });
  },
});
const base = `http://127.0.0.1:${server.port}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aws-creds-"));
  await writeFile(join(dir, "token"), "projected-token-1\n");
  await writeFile(join(dir, "pod-token"), "pod-identity-token");
});
afterAll(async () => {
  server.stop(true);
  await rm(dir, { recursive: true, force: true });
});

const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: StorageError) => e);

describe("AWS credential chain", () => {
  test("environment keys come first", async () => {
    const c = awsCredentialChain({ env: { AWS_ACCESS_KEY_ID: "AKIA1", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t", AWS_WEB_IDENTITY_TOKEN_FILE: "/nope", AWS_ROLE_ARN: "arn" } });
    expect(await c.get()).toEqual({ accessKeyId: "AKIA1", secretAccessKey: "s", sessionToken: "t" });
    expect(c.source).toContain("environment");
  });

  test("web identity (IRSA): token file → STS AssumeRoleWithWebIdentity, cached until near expiry", async () => {
    calls.length = 0;
    expiresInMs = 3600_000;
    const env = { AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "token"), AWS_ROLE_ARN: "arn:aws:iam::123:role/registry", AWS_ENDPOINT_URL_STS: `${base}/sts`, AWS_EC2_METADATA_DISABLED: "true" };
    const c = awsCredentialChain({ env });
    const creds = await c.get();
    expect(creds).toMatchObject({ accessKeyId: "ASIAWEBID", secretAccessKey: "web-secret", sessionToken: "web-session&token" });
    expect(creds.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    await c.get();
    expect(calls.length).toBe(1);
    const form = new URLSearchParams(calls[0]!.body);
    expect(form.get("Action")).toBe("AssumeRoleWithWebIdentity");
    expect(form.get("RoleArn")).toBe("arn:aws:iam::123:role/registry");
    // Credentials that expire within the refresh window are fetched again.
    expiresInMs = 4 * 60_000;
    const soon = awsCredentialChain({ env });
    await soon.get();
    await soon.get();
    expect(calls.length).toBe(3);
  });

  test("an STS rejection is a Credentials error that names the source and the STS code", async () => {
    stsError = true;
    try {
      const c = awsCredentialChain({ env: { AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "token"), AWS_ROLE_ARN: "arn:aws:iam::123:role/r", AWS_ENDPOINT_URL_STS: `${base}/sts` } });
      const err = await errorOf(c.get());
      expect(err?.kind).toBe("Credentials");
      expect(err?.message).toContain("web identity");
      expect(err?.message).toContain("InvalidIdentityToken");
      const missing = await errorOf(awsCredentialChain({ env: { AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "absent"), AWS_ROLE_ARN: "arn" } }).get());
      expect(missing?.message).toContain("cannot read token file");
    } finally {
      stsError = false;
    }
  });

  test("EKS Pod Identity: full URI with an authorization token file", async () => {
    expiresInMs = 3600_000;
    const c = awsCredentialChain({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: `${base}/container/creds`, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: join(dir, "pod-token") } });
    expect(await c.get()).toMatchObject({ accessKeyId: "ASIACONTAINER", secretAccessKey: "c-secret", sessionToken: "c-token" });
    const wrong = awsCredentialChain({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: `${base}/container/creds`, AWS_CONTAINER_AUTHORIZATION_TOKEN: "bad" } });
    const err = await errorOf(wrong.get());
    expect(err?.kind).toBe("Credentials");
    expect(err?.message).toContain("container credentials");
    expect(err?.message).toContain("401");
  });

  test("ECS-style relative URI, and full URIs off loopback over plain http are refused", async () => {
    const c = awsCredentialChain({ env: { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/container/creds", AWS_CONTAINER_AUTHORIZATION_TOKEN: "pod-identity-token" }, containerCredentialsHost: base });
    expect((await c.get()).accessKeyId).toBe("ASIACONTAINER");
    expect(() => awsCredentialChain({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://10.1.2.3/creds" } })).toThrow(StorageError);
  });

  test("EC2 IMDSv2: session token, role name, role credentials", async () => {
    calls.length = 0;
    const c = awsCredentialChain({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: base } });
    expect(await c.get()).toMatchObject({ accessKeyId: "ASIAIMDS", secretAccessKey: "i-secret", sessionToken: "i-token" });
    expect(calls.map((x) => `${x.method} ${x.path}`)).toEqual(["PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/", "GET /latest/meta-data/iam/security-credentials/node-role"]);
    expect(calls[0]!.headers.get("x-aws-ec2-metadata-token-ttl-seconds")).toBe("21600");
  });

  test("nothing configured: the error lists every source tried", async () => {
    const err = await errorOf(awsCredentialChain({ env: { AWS_EC2_METADATA_DISABLED: "true" } }).get());
    expect(err?.kind).toBe("Credentials");
    for (const s of ["AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS", "AWS_EC2_METADATA_DISABLED"]) expect(err?.message).toContain(s);
    const unreachable = await errorOf(awsCredentialChain({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:9" }, retries: 0, timeoutMs: 500 }).get());
    expect(unreachable?.kind).toBe("Credentials");
    expect(unreachable?.message).toContain("EC2 instance metadata");
  });
});
