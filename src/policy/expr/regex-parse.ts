// Parser for the regular expressions of the `matches` operator: the RE2 syntax Go's regexp accepts (what v0.9
// evaluated), minus what cannot run in linear time or that nobody writes in a group filter. Parsed here, then run
// by regex.ts as an automaton, never by JavaScript's backtracking RegExp, so no pattern can blow up.
// Rejected with a clear error: backreferences (\1), lookaround ((?=, (?!, (?<=, (?<!), \p classes, \Q…\E,
// POSIX [:classes:], repetition counts above 100, nested repetition operators (a**), and nesting deeper than 50.

export type Assertion = "bot" | "eot" | "bol" | "eol" | "word" | "notword";

/** A set of code points: sorted inclusive [lo, hi] pairs, optionally negated and/or case-folded. */
export interface CharSet {
  ranges: number[];
  negated: boolean;
  fold: boolean;
}

export type RegexNode =
  | { k: "char"; set: CharSet }
  | { k: "assert"; a: Assertion }
  | { k: "cat"; items: RegexNode[] }
  | { k: "alt"; items: RegexNode[] }
  | { k: "rep"; min: number; max: number; x: RegexNode } // max -1 = unbounded
  | { k: "empty" };

export class RegexSyntaxError extends Error {}

export const MAX_PATTERN_LENGTH = 1024;
const MAX_REPEAT = 100;
const MAX_NESTING = 50;

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
}

const DIGIT = [0x30, 0x39];
const WORD = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
const SPACE = [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20];
const ALL = [0, 0x10ffff];
const CONTROL_ESCAPES: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13, a: 7 };

export function parseRegex(pattern: string): RegexNode {
  if (pattern.length > MAX_PATTERN_LENGTH) throw new RegexSyntaxError(`regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
  const p = new Parser(Array.from(pattern));
  const node = p.alternation({ i: false, m: false, s: false }, 0);
  if (!p.done()) throw new RegexSyntaxError("unexpected )");
  return node;
}

class Parser {
  private pos = 0;
  constructor(private readonly src: string[]) {}

  done(): boolean {
    return this.pos >= this.src.length;
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private next(): string {
    const c = this.src[this.pos++];
    if (c === undefined) throw new RegexSyntaxError("unexpected end of regular expression");
    return c;
  }

  alternation(flags: Flags, depth: number): RegexNode {
    if (depth > MAX_NESTING) throw new RegexSyntaxError(`regular expression nested deeper than ${MAX_NESTING} groups`);
    const items = [this.concat(flags, depth)];
    while (this.peek() === "|") {
      this.pos++;
      items.push(this.concat(flags, depth));
    }
    return items.length === 1 ? items[0]! : { k: "alt", items };
  }

  // Flags set by a bare (?i) apply to the rest of the enclosing group, so concat owns a copy it may change.
  private concat(outer: Flags, depth: number): RegexNode {
    const flags = { ...outer };
    const items: RegexNode[] = [];
    for (let c = this.peek(); c !== undefined && c !== "|" && c !== ")"; c = this.peek()) {
      if (c === "(" && this.peek(1) === "?" && this.bareFlags(flags)) continue;
      items.push(this.repetition(this.atom(flags, depth)));
    }
    if (items.length === 0) return { k: "empty" };
    return items.length === 1 ? items[0]! : { k: "cat", items };
  }

  private repetition(x: RegexNode): RegexNode {
    let node = x;
    let repeated = false;
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === "*") [min, max] = [0, -1];
      else if (c === "+") [min, max] = [1, -1];
      else if (c === "?") [min, max] = [0, 1];
      else if (c === "{") {
        const counts = this.counts();
        if (!counts) return node; // not a repetition: the '{' is a literal, read as the next atom
        [min, max] = counts;
      } else return node;
      if (repeated) throw new RegexSyntaxError(`invalid nested repetition operator ${c}`);
      if (c !== "{") this.pos++;
      if (this.peek() === "?") this.pos++; // non-greedy: same language, and we only ask whether it matches
      node = { k: "rep", min, max, x: node };
      repeated = true;
    }
  }

  /** `{n}`, `{n,}`, `{n,m}` at the cursor (consumed), or undefined (nothing consumed) if it isn't one. */
  private counts(): [number, number] | undefined {
    const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(this.src.slice(this.pos, this.pos + 12).join(""));
    if (!m) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === "" ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT) throw new RegexSyntaxError(`repetition count above ${MAX_REPEAT}`);
    if (max !== -1 && max < min) throw new RegexSyntaxError(`invalid repetition {${min},${max}}`);
    this.pos += m[0].length;
    return [min, max];
  }

  private atom(flags: Flags, depth: number): RegexNode {
    const c = this.next();
    switch (c) {
      case "(":
        return this.group(flags, depth);
      case "[":
        return { k: "char", set: this.charClass(flags) };
      case ".":
        return { k: "char", set: { ranges: flags.s ? [...ALL] : [0x0a, 0x0a], negated: !flags.s, fold: false } };
      case "^":
        return { k: "assert", a: flags.m ? "bol" : "bot" };
      case "$":
        return { k: "assert", a: flags.m ? "eol" : "eot" };
      case "\\":
        return this.escape(flags, false) as RegexNode;
      case "*":
      case "+":
      case "?":
        throw new RegexSyntaxError(`missing argument to repetition operator ${c}`);
      default:
        return literal(c.codePointAt(0)!, flags);
    }
  }

  /** `(?flags)` on its own: updates `flags` and returns true; anything else: false, nothing consumed. */
  private bareFlags(flags: Flags): boolean {
    const rest = this.src.slice(this.pos, this.pos + 16).join("");
    const m = /^\(\?([imsU]*)(?:-([imsU]*))?\)/.exec(rest);
    if (!m) return false;
    applyFlags(flags, m[1]!, m[2] ?? "");
    this.pos += m[0].length;
    return true;
  }

  private group(outer: Flags, depth: number): RegexNode {
    let flags = outer;
    if (this.peek() === "?") {
      const rest = this.src.slice(this.pos, this.pos + 40).join("");
      if (/^\?(=|!|<=|<!)/.test(rest)) throw new RegexSyntaxError("lookaround assertions are not supported");
      const named = /^\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(rest);
      const withFlags = /^\?([imsU]*)(?:-([imsU]*))?:/.exec(rest);
      if (named) this.pos += Array.from(named[0]).length;
      else if (withFlags) {
        flags = { ...outer };
        applyFlags(flags, withFlags[1]!, withFlags[2] ?? "");
        this.pos += withFlags[0].length;
      } else throw new RegexSyntaxError("unsupported group syntax (?");
    }
    const inner = this.alternation(flags, depth + 1);
    if (this.peek() !== ")") throw new RegexSyntaxError("missing closing )");
    this.pos++;
    return inner;
  }

  /** After a '\'. Inside a class only single characters and \d-style sets are allowed. */
  private escape(flags: Flags, inClass: boolean): RegexNode | CharSet {
    const c = this.next();
    const set = (ranges: number[], negated: boolean): CharSet => ({ ranges, negated, fold: false });
    switch (c) {
      case "d":
        return wrap(set(DIGIT, false), inClass);
      case "D":
        return wrap(set(DIGIT, true), inClass);
      case "w":
        return wrap(set(WORD, false), inClass);
      case "W":
        return wrap(set(WORD, true), inClass);
      case "s":
        return wrap(set(SPACE, false), inClass);
      case "S":
        return wrap(set(SPACE, true), inClass);
    }
    if (!inClass) {
      if (c === "A") return { k: "assert", a: "bot" };
      if (c === "z") return { k: "assert", a: "eot" };
      if (c === "b") return { k: "assert", a: "word" };
      if (c === "B") return { k: "assert", a: "notword" };
    }
    if (c >= "1" && c <= "9") throw new RegexSyntaxError("backreferences are not supported");
    if (c === "p" || c === "P") throw new RegexSyntaxError("Unicode classes (\\p) are not supported");
    if (c === "Q") throw new RegexSyntaxError("\\Q…\\E quoting is not supported");
    let cp: number;
    if (c in CONTROL_ESCAPES) cp = CONTROL_ESCAPES[c]!;
    else if (c === "x") cp = this.hexEscape();
    else if (c === "0") cp = 0;
    else if (/^[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/.test(c)) cp = c.codePointAt(0)!; // escaped ASCII punctuation
    else throw new RegexSyntaxError(`invalid escape \\${c}`);
    return inClass ? set([cp, cp], false) : literal(cp, flags);
  }

  private hexEscape(): number {
    let digits: string;
    if (this.peek() === "{") {
      this.pos++;
      digits = "";
      while (this.peek() !== "}") {
        digits += this.next();
        if (digits.length > 6) throw new RegexSyntaxError("invalid \\x{…} escape");
      }
      this.pos++;
    } else digits = this.next() + this.next();
    if (!/^[0-9a-fA-F]{1,6}$/.test(digits) || parseInt(digits, 16) > 0x10ffff) throw new RegexSyntaxError("invalid \\x escape");
    return parseInt(digits, 16);
  }

  private charClass(flags: Flags): CharSet {
    const negated = this.peek() === "^";
    if (negated) this.pos++;
    const ranges: number[] = [];
    let first = true;
    while (first || this.peek() !== "]") {
      if (this.peek() === undefined) throw new RegexSyntaxError("missing closing ]");
      if (this.peek() === "[" && this.peek(1) === ":") throw new RegexSyntaxError("POSIX character classes are not supported");
      first = false;
      const lo = this.classAtom();
      if (typeof lo !== "number") {
        ranges.push(...(lo.negated ? complement(lo.ranges) : lo.ranges));
        continue;
      }
      let hi = lo;
      if (this.peek() === "-" && this.peek(1) !== "]" && this.peek(1) !== undefined) {
        this.pos++;
        const h = this.classAtom();
        if (typeof h !== "number") throw new RegexSyntaxError("invalid character class range");
        hi = h;
        if (hi < lo) throw new RegexSyntaxError("invalid character class range");
      }
      ranges.push(lo, hi);
    }
    this.pos++;
    return { ranges: normalize(ranges), negated, fold: flags.i };
  }

  private classAtom(): number | CharSet {
    const c = this.next();
    if (c !== "\\") return c.codePointAt(0)!;
    const e = this.escape({ i: false, m: false, s: false }, true) as CharSet;
    return e.ranges.length === 2 && !e.negated && e.ranges[0] === e.ranges[1] ? e.ranges[0]! : e;
  }
}

function applyFlags(flags: Flags, on: string, off: string): void {
  for (const f of on) if (f !== "U") flags[f as keyof Flags] = true;
  for (const f of off) if (f !== "U") flags[f as keyof Flags] = false;
}

function literal(cp: number, flags: Flags): RegexNode {
  return { k: "char", set: { ranges: [cp, cp], negated: false, fold: flags.i } };
}

function wrap(set: CharSet, inClass: boolean): RegexNode | CharSet {
  return inClass ? set : { k: "char", set };
}

/** Sort and merge [lo, hi] pairs. */
function normalize(ranges: number[]): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i]!, ranges[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const last = out.length - 1;
    if (out.length && lo <= out[last]! + 1) out[last] = Math.max(out[last]!, hi);
    else out.push(lo, hi);
  }
  return out;
}

function complement(ranges: number[]): number[] {
  const sorted = normalize(ranges);
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < sorted.length; i += 2) {
    if (sorted[i]! > next) out.push(next, sorted[i]! - 1);
    next = sorted[i + 1]! + 1;
  }
  if (next <= 0x10ffff) out.push(next, 0x10ffff);
  return out;
}
