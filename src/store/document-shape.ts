// Bounds on a parsed YAML/JSON document, for input from files and bodies: YAML aliases make a few hundred bytes
// expand into millions of values once the tree is copied or serialised (a 461-byte manifest became a 69 MB stored
// object), and parsing keeps aliases as shared references, so the expansion is counted here before anything copies.

export interface ShapeLimits {
  /** Values visited, counting every alias expansion (the size the document has once serialised). */
  maxNodes: number;
  maxDepth: number;
  /** Objects or arrays reached more than once (YAML aliases). */
  maxAliases: number;
}

/** The limits of the admin API's request bodies. */
export const BODY_LIMITS: ShapeLimits = { maxNodes: 500_000, maxDepth: 64, maxAliases: 1_000 };

/** What is wrong with the document's shape, or undefined. */
export function shapeProblem(value: unknown, limits: ShapeLimits = BODY_LIMITS): string | undefined {
  const stack: [unknown, number][] = [[value, 0]];
  const seen = new Set<object>();
  let nodes = 0;
  let aliases = 0;
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (++nodes > limits.maxNodes) return `more than ${limits.maxNodes} values once YAML aliases are expanded`;
    if (typeof v !== "object" || v === null) continue;
    if (depth >= limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`;
    if (seen.has(v)) {
      if (++aliases > limits.maxAliases) return `more than ${limits.maxAliases} YAML aliases`;
    } else seen.add(v);
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return undefined;
}
