// The `login.v1` service of the discovery document, which `terraform login` / `tofu login` read.
// grant_types always has "authz_code", the one grant both CLIs implement for a non-HCP host. "device_code" is added
// (as v0.9 and the seeds do) only when the issuer's discovery document has a device_authorization_endpoint, so the
// advertisement is true: a client that speaks the device flow finds the endpoint in the issuer's own discovery
// (login.v1 has no field for it), and Terraform and OpenTofu ignore grant names they don't know. Headless machines
// can equally use client credentials (or a TF_TOKEN_<host> variable).
import type { OidcDiscovery } from "./oidc-discovery.ts";

/** The loopback ports the CLI may listen on for the redirect; register http://localhost:10000-10010/login at the IdP. */
export const LOGIN_PORTS: [number, number] = [10000, 10010];
export const DEFAULT_LOGIN_SCOPES = ["openid", "profile", "email", "groups"];

export interface LoginDocumentOptions {
  clientId: string;
  discovery: Pick<OidcDiscovery, "authorizationEndpoint" | "tokenEndpoint" | "deviceAuthorizationEndpoint">;
  authzUrl?: string;
  tokenUrl?: string;
  scopes?: string[];
}

export function loginDocument(options: LoginDocumentOptions): Record<string, unknown> {
  return {
    client: options.clientId,
    grant_types: options.discovery.deviceAuthorizationEndpoint ? ["authz_code", "device_code"] : ["authz_code"],
    authz: options.authzUrl ?? options.discovery.authorizationEndpoint,
    token: options.tokenUrl ?? options.discovery.tokenEndpoint,
    ports: LOGIN_PORTS,
    scopes: options.scopes ?? DEFAULT_LOGIN_SCOPES,
  };
}
