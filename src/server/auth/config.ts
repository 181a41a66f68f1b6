// What the registry server needs to know about authentication, decided once at start from the role's flags
// (`src/roles/auth-flags.ts` reads and validates them).

export type AuthConfig =
  | { mode: "anonymous"; reason: "flag" | "default" }
  | {
      mode: "oidc";
      issuer: string;
      clientId: string;
      groupsClaim: string;
      extraAudiences: string[];
      clientCredentials: { enabled: boolean; audiences: string[] };
      saFallback: boolean;
      clockSkewSeconds: number;
      authzUrl?: string;
      tokenUrl?: string;
      loginScopes: string[];
      jwksMinRefreshIntervalMs: number;
      namespace: string;
    };
