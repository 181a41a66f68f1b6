// Flags of the Registry Explorer, shared by `standalone` and `serve`.
import { readFile } from "node:fs/promises";
import { UsageError, type FlagSpec } from "../cli/flags.ts";

export const UI_FLAGS: FlagSpec[] = [
  { name: "ui", env: "OPENDEPOT_UI", default: "on", description: "The Registry Explorer web UI at / (on or off; the registry and browse API are unaffected)" },
  { name: "ui-oidc-client-id", env: "OPENDEPOT_UI_OIDC_CLIENT_ID", description: "OIDC client the Explorer signs users in with (default: --oidc-client-id; another client must also be in --oidc-extra-audiences)" },
  { name: "ui-oidc-client-secret-file", env: "OPENDEPOT_UI_OIDC_CLIENT_SECRET_FILE", description: "Secret of the Explorer's OIDC client, when it is confidential (PKCE is used either way)" },
  { name: "ui-oidc-scopes", env: "OPENDEPOT_UI_OIDC_SCOPES", default: "openid,profile,email,groups", description: "Scopes the Explorer asks for at sign-in (comma-separated)" },
];

export interface UiSettings {
  clientId?: string;
  clientSecret?: string;
  scopes: string[];
}

/** The Explorer's settings, or undefined when --ui=off. */
export async function uiFromFlags(flags: Record<string, string | undefined>): Promise<UiSettings | undefined> {
  const mode = (flags.ui ?? "on").toLowerCase();
  if (mode === "off" || mode === "false") return undefined;
  if (mode !== "on" && mode !== "true") throw new UsageError(`--ui must be on or off; got ${JSON.stringify(mode.slice(0, 20))}`);
  const secretFile = flags["ui-oidc-client-secret-file"];
  return {
    clientId: flags["ui-oidc-client-id"] || undefined,
    clientSecret: secretFile ? (await readFile(secretFile, "utf8")).trim() : undefined,
    scopes: (flags["ui-oidc-scopes"] ?? "openid,profile,email,groups").split(",").map((s) => s.trim()).filter(Boolean),
  };
}
