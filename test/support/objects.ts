// Small objects shared by store tests.
import type { ModuleObject } from "../../src/api/kinds.ts";
import { API_VERSION } from "../../src/api/meta.ts";

export const moduleObj = (name: string, labels?: Record<string, string>, namespace = "team"): ModuleObject => ({
  apiVersion: API_VERSION,
  kind: "Module",
  metadata: { name, namespace, ...(labels ? { labels } : {}) },
  spec: { moduleConfig: {}, versions: [] },
});
