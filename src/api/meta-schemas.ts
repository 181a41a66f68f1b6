// TypeBox schemas of the metadata pieces the kinds' schemas embed (types.ts). Apart from meta.ts so that the
// constants and types there load no TypeBox: the serving path reads labels, never schemas.
import { Type, type Static } from "@sinclair/typebox";

export const OwnerReference = Type.Object({
  apiVersion: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  uid: Type.String(),
  controller: Type.Optional(Type.Boolean()),
  blockOwnerDeletion: Type.Optional(Type.Boolean()),
});
export type OwnerReference = Static<typeof OwnerReference>;

/** metav1.Condition. */
export const Condition = Type.Object({
  type: Type.String({ maxLength: 316, description: "Condition type: Ready or Synced." }),
  status: Type.Union([Type.Literal("True"), Type.Literal("False"), Type.Literal("Unknown")], { description: "True, False or Unknown." }),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0, description: "The metadata.generation the condition was set for." })),
  lastTransitionTime: Type.String({ format: "date-time", description: "When the status last changed." }),
  reason: Type.String({ maxLength: 1024, description: "Machine-readable reason in CamelCase." }),
  message: Type.String({ maxLength: 32768, description: "Human-readable details." }),
}, { description: "A Kubernetes status condition (metav1.Condition)." });
export type Condition = Static<typeof Condition>;
