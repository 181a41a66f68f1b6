// The TypeBox schema of the module documentation stored at sync time (module-docs.ts has the contract's names).
import { Type, type Static } from "@sinclair/typebox";
import { MODULE_DOCS_SCHEMA_VERSION } from "./module-docs.ts";

const d = (description: string) => ({ description });

export const ModuleInput = Type.Object({
  name: Type.String(),
  type: Type.Optional(Type.String(d("The type constraint as written (`string`, `map(object({...}))`); absent when the variable declares none (any)."))),
  description: Type.Optional(Type.String()),
  default: Type.Optional(Type.Unknown(d("The default value as JSON (present, possibly null, whenever a default is declared)."))),
  defaultTruncated: Type.Optional(Type.Boolean(d("The default was too large to keep; `default` is left out."))),
  required: Type.Boolean(d("No default declared: a caller must set it.")),
  sensitive: Type.Boolean(),
  nullable: Type.Optional(Type.Boolean(d("Present only when declared."))),
  hasValidation: Type.Boolean(d("At least one `validation` block.")),
  file: Type.String(d("Declaring file, relative to the module archive root.")),
});

export const ModuleOutput = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.String()),
  sensitive: Type.Boolean(),
  file: Type.String(),
});

export const RequiredProvider = Type.Object({
  name: Type.String(d("Local name (the key in required_providers).")),
  source: Type.Optional(Type.String(d("As written; absent means Terraform's implied `hashicorp/<name>`."))),
  versionConstraints: Type.Array(Type.String(), d("Every constraint declared for this provider in this module (all must hold).")),
});

export const TypeCount = Type.Object({ type: Type.String(), count: Type.Integer(d("Blocks of this type (not instances: count/for_each are not evaluated).")) });

export const ModuleCall = Type.Object({
  name: Type.String(),
  source: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
});

export const ModuleDocsModule = Type.Object({
  path: Type.String(d("Directory relative to the archive root: `` for the root module, `modules/<name>`, `examples/<name>`.")),
  inputs: Type.Array(ModuleInput, d("Sorted by name.")),
  outputs: Type.Array(ModuleOutput, d("Sorted by name.")),
  requiredVersion: Type.Optional(Type.String(d("`required_version` constraints of every terraform block, joined with `, `."))),
  requiredProviders: Type.Array(RequiredProvider),
  resources: Type.Array(TypeCount, d("Managed resources by type, sorted by type.")),
  dataSources: Type.Array(TypeCount),
  moduleCalls: Type.Array(ModuleCall, d("`module` blocks (nested module calls), sorted by name.")),
});

export const ModuleDocsProblem = Type.Object({
  file: Type.String(),
  message: Type.String(d("The parser's diagnostic, or why the file was left out.")),
});

export const ModuleDocs = Type.Object({
  schemaVersion: Type.Literal(MODULE_DOCS_SCHEMA_VERSION),
  root: ModuleDocsModule,
  submodules: Type.Array(ModuleDocsModule, d("Directories `modules/<name>/` holding .tf files, sorted by path.")),
  examples: Type.Array(ModuleDocsModule, d("Directories `examples/<name>/` holding .tf files, sorted by path.")),
  errors: Type.Array(ModuleDocsProblem, d("Files that do not parse; their declarations are missing above.")),
  skipped: Type.Array(ModuleDocsProblem, d("Files left out by the size and count limits.")),
  truncated: Type.Boolean(d("Something was left out to respect the limits (skipped files, cut descriptions or defaults, dropped entries).")),
  filesParsed: Type.Integer(),
});

export type ModuleInput = Static<typeof ModuleInput>;
export type ModuleOutput = Static<typeof ModuleOutput>;
export type RequiredProvider = Static<typeof RequiredProvider>;
export type TypeCount = Static<typeof TypeCount>;
export type ModuleCall = Static<typeof ModuleCall>;
export type ModuleDocsModule = Static<typeof ModuleDocsModule>;
export type ModuleDocsProblem = Static<typeof ModuleDocsProblem>;
export type ModuleDocs = Static<typeof ModuleDocs>;
