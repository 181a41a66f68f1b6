// The TypeBox schemas a kind descriptor names (kinds.ts), for validation on write (validate.ts) and the CRDs
// (crd.ts). Importing this file loads TypeBox and every schema of types.ts.
import type { TSchema } from "@sinclair/typebox";
import type { KindDescriptor, SchemaName } from "./kinds.ts";
import * as T from "./types.ts";

export const schemaNamed = (name: SchemaName): TSchema => T[name];

/** The spec schema of one of our kinds; undefined for core kinds (not schema-checked). */
export const specSchemaOf = (d: KindDescriptor): TSchema | undefined => (d.spec ? schemaNamed(d.spec) : undefined);

/** The status schema of one of our kinds; undefined for core kinds. */
export const statusSchemaOf = (d: KindDescriptor): TSchema | undefined => (d.status ? schemaNamed(d.status) : undefined);
