// What the server needs from a watch-fed cache of one kind: the current objects and a change stream.
// src/store/cache.ts (ResourceCache) provides exactly this; tests can feed objects by hand.
import type { KubeObject } from "../api/meta.ts";

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface ObjectFeed<T extends KubeObject> {
  list(namespace?: string): T[];
  onChange(handler: (type: ChangeType, obj: T, old?: T) => void): () => void;
}
