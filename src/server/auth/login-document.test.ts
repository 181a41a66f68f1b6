import { describe, expect, test } from "bun:test";
import { loginDocument } from "./login-document.ts";

const discovery = { authorizationEndpoint: "https://idp.example/auth", tokenEndpoint: "https://idp.example/token" };

describe("login.v1", () => {
  test("authz_code only when the issuer has no device authorization endpoint", () => {
    expect(loginDocument({ clientId: "cli", discovery }).grant_types).toEqual(["authz_code"]);
  });
  test("device_code too when the issuer's discovery has device_authorization_endpoint; authz_code stays first", () => {
    const doc = loginDocument({ clientId: "cli", discovery: { ...discovery, deviceAuthorizationEndpoint: "https://idp.example/device/code" } });
    expect(doc).toEqual({ client: "cli", grant_types: ["authz_code", "device_code"], authz: "https://idp.example/auth", token: "https://idp.example/token", ports: [10000, 10010], scopes: ["openid", "profile", "email", "groups"] });
  });
});
