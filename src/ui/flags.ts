// What the Registry Explorer is configured with (read from the role's flags by src/roles/ui-flags.ts).

export interface UiSettings {
  clientId?: string;
  clientSecret?: string;
  scopes: string[];
}
