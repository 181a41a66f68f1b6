// The `login.v1` service of the discovery document, which `terraform login` / `tofu login` read.
// grant_types is ["authz_code"] only: it is the one grant both CLIs implement for a non-HCP host (the disco
// library ignores names it doesn't know, and "password" is honoured only for app.terraform.io), and login.v1 has
// no field for a device authorization endpoint, so advertising "device_code" as v0.9 does would send a client
// that trusted it to POST a device request to the authorization endpoint. Headless machines use client
// credentials (or a TF_TOKEN_<host> variable) instead.
import type { OidcDiscovery } from "./oidc-discovery.ts";

/** The loopback ports the CLI may listen on for the redirect; register http://localhost:10000-10010/login at the IdP. */
export const LOGIN_PORTS: [number, number] = [10000, 10010];
export const DEFAULT_LOGIN_SCOPES = ["openid", "profile", "email", "groups"];

export interface LoginDocumentOptions {
  clientId: string;
  discovery: Pick<OidcDiscovery, "authorizationEndpoint" | "tokenEndpoint">;
  authzUrl?: string;
  tokenUrl?: string;
  scopes?: string[];
}

export function loginDocument(options: LoginDocumentOptions): Record<string, unknown> {
  return {
    client: options.clientId,
    grant_types: ["authz_code"],
    authz: options.authzUrl ?? options.discovery.authorizationEndpoint,
    token: options.tokenUrl ?? options.discovery.tokenEndpoint,
    ports: LOGIN_PORTS,
    scopes: options.scopes ?? DEFAULT_LOGIN_SCOPES,
  };
}
