// The documentation extracted from a module version at sync time (artifacts/module-docs.ts), stored as JSON in
// ConfigMap `<version>-docs` under key `docs.json` and read by the browse API. The ConfigMap name and key and this
// shape are a contract between the controller and the server; fields are only ever added. The shape's TypeBox
// schema is in module-docs-schema.ts: the browse API and the controllers need the name and types, not TypeBox.
import type * as S from "./module-docs-schema.ts";
import { derivedName } from "./naming.ts";

export const MODULE_DOCS_SCHEMA_VERSION = 1;
export const MODULE_DOCS_KEY = "docs.json";
/** `<version>-docs`, cut with a hash when a long Version name would push it past 253 characters (naming.ts). */
export const moduleDocsConfigMapName = (versionName: string) => derivedName(versionName, "docs");

export type ModuleInput = S.ModuleInput;
export type ModuleOutput = S.ModuleOutput;
export type RequiredProvider = S.RequiredProvider;
export type TypeCount = S.TypeCount;
export type ModuleCall = S.ModuleCall;
export type ModuleDocsModule = S.ModuleDocsModule;
export type ModuleDocsProblem = S.ModuleDocsProblem;
export type ModuleDocs = S.ModuleDocs;
