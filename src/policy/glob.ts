// Go's path.Match, ported: GroupBinding moduleResources are written for v0.9, whose server matched them with
// path.Match, so the same pattern must mean the same thing here. `*` is any run of non-'/' characters, `?` one
// non-'/' character, `[...]` a class (`^` negates, `a-z` ranges, `\` escapes), `\c` a literal c. Characters are
// Unicode code points (Go matches runes). A malformed pattern is an error, as in Go, even where a prefix matched.

export class BadPattern extends Error {
  constructor(pattern: string, why: string) {
    super(`invalid glob pattern ${JSON.stringify(pattern.slice(0, 100))}: ${why}`);
  }
}

/** A compiled pattern: validated once, then matched many times. */
export class Glob {
  private readonly chars: string[];

  constructor(readonly pattern: string) {
    this.chars = Array.from(pattern);
    validate(this.chars, pattern);
  }

  /** `meter`, when given, counts the chunk comparisons made (tests bound the work by it). */
  match(name: string, meter?: { chunkTries: number }): boolean {
    return matchChars(this.chars, Array.from(name), meter);
  }
}

/** path.Match(pattern, name); throws BadPattern like Go returns ErrBadPattern. */
export function pathMatch(pattern: string, name: string): boolean {
  return new Glob(pattern).match(name);
}

// ---- the algorithm of Go's path.Match: split the pattern into chunks of "stars, then non-star text" ----

function matchChars(pattern: string[], name: string[], meter?: { chunkTries: number }): boolean {
  let p = 0;
  let n = 0;
  while (p < pattern.length) {
    let star = false;
    while (p < pattern.length && pattern[p] === "*") {
      star = true;
      p++;
    }
    const chunkStart = p;
    p = chunkEnd(pattern, p);
    const chunk = pattern.slice(chunkStart, p);
    if (star && chunk.length === 0) {
      // Trailing star: matches the rest unless it holds a '/'.
      return !name.slice(n).includes("/");
    }
    if (meter) meter.chunkTries++;
    const rest = matchChunk(chunk, name, n);
    // Without a star the chunk must match right here; the last chunk must also consume all of the name.
    if (rest !== undefined && (rest === name.length || p < pattern.length)) {
      n = rest;
      continue;
    }
    if (star) {
      // Let the star eat one more non-'/' character at a time and try the chunk again.
      let found = false;
      for (let i = n; i < name.length && name[i] !== "/"; i++) {
        if (meter) meter.chunkTries++;
        const r = matchChunk(chunk, name, i + 1);
        if (r !== undefined) {
          if (p === pattern.length && r !== name.length) continue;
          n = r;
          found = true;
          break;
        }
      }
      if (found) continue;
    }
    return false;
  }
  return n === name.length;
}

/** Index after the chunk that starts at p: up to the next unescaped '*' outside a class. */
function chunkEnd(pattern: string[], p: number): number {
  let inRange = false;
  for (let i = p; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "[") inRange = true;
    else if (c === "]") inRange = false;
    else if (c === "*" && !inRange) return i;
  }
  return pattern.length;
}

/** Match a star-free chunk at name[n...]; returns the index after the match, or undefined. */
function matchChunk(chunk: string[], name: string[], n: number): number | undefined {
  let i = 0;
  while (i < chunk.length) {
    const c = chunk[i]!;
    if (c === "[") {
      if (n >= name.length) return undefined;
      const ch = name[n++]!;
      i++;
      const negated = chunk[i] === "^";
      if (negated) i++;
      let matched = false;
      let first = true;
      while (first || chunk[i] !== "]") {
        first = false;
        const lo = classChar(chunk, i);
        i = lo.next;
        let hi = lo.char;
        if (chunk[i] === "-") {
          const h = classChar(chunk, i + 1);
          hi = h.char;
          i = h.next;
        }
        if (cp(lo.char) <= cp(ch) && cp(ch) <= cp(hi)) matched = true;
      }
      i++; // the closing ']'
      if (matched === negated) return undefined;
    } else if (c === "?") {
      if (n >= name.length || name[n] === "/") return undefined;
      n++;
      i++;
    } else {
      const lit = c === "\\" ? chunk[i + 1]! : c;
      i += c === "\\" ? 2 : 1;
      if (name[n] !== lit) return undefined;
      n++;
    }
  }
  return n;
}

function classChar(chunk: string[], i: number): { char: string; next: number } {
  const c = chunk[i]!;
  if (c === "\\") return { char: chunk[i + 1]!, next: i + 2 };
  return { char: c, next: i + 1 };
}

const cp = (s: string) => s.codePointAt(0)!;

/** Go reports ErrBadPattern for a trailing '\', an unclosed or empty class, and a class bound that is '-' or ']'. */
function validate(pattern: string[], text: string): void {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      if (i + 1 >= pattern.length) throw new BadPattern(text, "trailing backslash");
      i++;
    } else if (c === "[") {
      i++;
      if (pattern[i] === "^") i++;
      let ranges = 0;
      while (!(pattern[i] === "]" && ranges > 0)) {
        i = classBound(pattern, i, text);
        if (pattern[i] === "-") i = classBound(pattern, i + 1, text);
        ranges++;
      }
    }
  }
}

/** Go's getEsc: one (possibly escaped) class bound, which must be followed by more pattern. */
function classBound(pattern: string[], i: number, text: string): number {
  const c = pattern[i];
  if (c === undefined) throw new BadPattern(text, "unclosed character class");
  if (c === "-" || c === "]") throw new BadPattern(text, `unexpected '${c}' in character class`);
  let next = i + 1;
  if (c === "\\") {
    if (next >= pattern.length) throw new BadPattern(text, "trailing backslash");
    next++;
  }
  if (next >= pattern.length) throw new BadPattern(text, "unclosed character class");
  return next;
}
