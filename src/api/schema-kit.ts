// Small TypeBox helpers the schema files share.
import { Type, type TSchema } from "@sinclair/typebox";

export const Str = (description?: string) => Type.String(description ? { description } : {});
export const Opt = <T extends TSchema>(schema: T) => Type.Optional(schema);
/** A shared schema with a description of its own where it is used (what `kubectl explain` shows for the field). */
export const Doc = <T extends TSchema>(schema: T, description: string): T => ({ ...schema, description }) as T;
