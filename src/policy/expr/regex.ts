// The `matches` operator's engine: a parsed pattern compiled to an NFA program and run as a Thompson/Pike
// simulation. Every input character advances a set of at most `program.length` threads, so a match costs
// O(input × program) whatever the pattern — `(a+)+$` on "aaaa…!" is as cheap as `a`. Each thread step is
// charged to the caller's Budget, so an evaluation as a whole stays bounded too.
import { parseRegex, RegexSyntaxError, type Assertion, type CharSet, type RegexNode } from "./regex-parse.ts";

export { RegexSyntaxError };

const MAX_PROGRAM = 2000;

export class BudgetExceeded extends Error {
  constructor() {
    super("evaluation step budget exceeded");
  }
}

/** Steps left for one evaluation; shared by the expression evaluator and the regex simulation. */
export interface Budget {
  left: number;
}

type Inst =
  | { op: "char"; set: CharSet }
  | { op: "split"; x: number; y: number }
  | { op: "jmp"; x: number }
  | { op: "assert"; a: Assertion }
  | { op: "match" };

export class SafeRegex {
  private readonly program: Inst[];
  /** Starts with ^ or \A: only an attempt at position 0 can match, so the search stops when it dies. */
  private readonly anchored: boolean;

  /** Throws RegexSyntaxError for patterns outside the supported syntax or too large to compile. */
  constructor(readonly source: string) {
    const prog: Inst[] = [];
    const ast = parseRegex(source);
    const first = ast.k === "cat" ? ast.items[0] : ast;
    this.anchored = first?.k === "assert" && first.a === "bot";
    emit(ast, prog);
    prog.push({ op: "match" });
    this.program = prog;
  }

  get size(): number {
    return this.program.length;
  }

  /** Unanchored search, like Go's regexp.MatchString. */
  test(input: string, budget: Budget): boolean {
    const text: number[] = [];
    for (const ch of input) text.push(ch.codePointAt(0)!);
    const n = this.program.length;
    let current = new ThreadList(n);
    let next = new ThreadList(n);
    for (let pos = 0; pos <= text.length; pos++) {
      if (pos === 0 || !this.anchored) this.add(current, 0, pos, text, budget); // a new attempt at every position
      else if (current.size === 0) return false;
      for (let i = 0; i < current.size; i++) {
        if (--budget.left < 0) throw new BudgetExceeded();
        const pc = current.dense[i]!;
        const inst = this.program[pc]!;
        if (inst.op === "match") return true;
        if (inst.op === "char" && pos < text.length && inSet(inst.set, text[pos]!)) this.add(next, pc + 1, pos + 1, text, budget);
      }
      [current, next] = [next, current];
      next.clear();
    }
    return false;
  }

  /** Follow jumps, splits and assertions from pc; each pc enters a list at most once per position. */
  private add(list: ThreadList, start: number, pos: number, text: number[], budget: Budget): void {
    const stack = [start];
    while (stack.length) {
      const pc = stack.pop()!;
      if (list.has(pc)) continue;
      if (--budget.left < 0) throw new BudgetExceeded();
      list.insert(pc);
      const inst = this.program[pc]!;
      if (inst.op === "jmp") stack.push(inst.x);
      else if (inst.op === "split") stack.push(inst.y, inst.x);
      else if (inst.op === "assert" && holds(inst.a, text, pos)) stack.push(pc + 1);
    }
  }
}

/** A sparse set of program counters: O(1) insert, membership and clear. */
class ThreadList {
  readonly dense: Int32Array;
  private readonly sparse: Int32Array;
  size = 0;
  constructor(n: number) {
    this.dense = new Int32Array(n);
    this.sparse = new Int32Array(n);
  }
  has(pc: number): boolean {
    const i = this.sparse[pc]!;
    return i < this.size && this.dense[i] === pc;
  }
  insert(pc: number): void {
    this.sparse[pc] = this.size;
    this.dense[this.size++] = pc;
  }
  clear(): void {
    this.size = 0;
  }
}

function emit(node: RegexNode, prog: Inst[]): void {
  if (prog.length > MAX_PROGRAM) throw new RegexSyntaxError(`regular expression too large (more than ${MAX_PROGRAM} instructions)`);
  switch (node.k) {
    case "empty":
      return;
    case "char":
      prog.push({ op: "char", set: node.set });
      return;
    case "assert":
      prog.push({ op: "assert", a: node.a });
      return;
    case "cat":
      for (const item of node.items) emit(item, prog);
      return;
    case "alt": {
      // split L1, next; L1: a; jmp end; next: split L2, … ; last alternative falls through to end.
      const jumps: { op: "jmp"; x: number }[] = [];
      node.items.forEach((item, i) => {
        const last = i === node.items.length - 1;
        const split = { op: "split" as const, x: prog.length + 1, y: -1 };
        if (!last) prog.push(split);
        emit(item, prog);
        if (!last) {
          const j = { op: "jmp" as const, x: -1 };
          prog.push(j);
          jumps.push(j);
          split.y = prog.length;
        }
      });
      for (const j of jumps) j.x = prog.length;
      return;
    }
    case "rep": {
      for (let i = 0; i < node.min; i++) emit(node.x, prog);
      if (node.max === -1) star(node.x, prog);
      else for (let i = node.min; i < node.max; i++) optional(node.x, prog);
      return;
    }
  }
}

function star(x: RegexNode, prog: Inst[]): void {
  const loop = prog.length;
  const split = { op: "split" as const, x: loop + 1, y: -1 };
  prog.push(split);
  emit(x, prog);
  prog.push({ op: "jmp", x: loop });
  split.y = prog.length;
}

function optional(x: RegexNode, prog: Inst[]): void {
  const split = { op: "split" as const, x: prog.length + 1, y: -1 };
  prog.push(split);
  emit(x, prog);
  split.y = prog.length;
}

function inRanges(ranges: number[], cp: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) {
    if (cp < ranges[i]!) return false;
    if (cp <= ranges[i + 1]!) return true;
  }
  return false;
}

function inSet(set: CharSet, cp: number): boolean {
  let hit = inRanges(set.ranges, cp);
  if (!hit && set.fold) {
    const ch = String.fromCodePoint(cp);
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    hit = (lower.length <= 2 && inRanges(set.ranges, lower.codePointAt(0)!)) || (upper.length <= 2 && inRanges(set.ranges, upper.codePointAt(0)!));
  }
  return hit !== set.negated;
}

const isWord = (cp: number | undefined) =>
  cp !== undefined && ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || cp === 0x5f || (cp >= 0x61 && cp <= 0x7a));

function holds(a: Assertion, text: number[], pos: number): boolean {
  switch (a) {
    case "bot":
      return pos === 0;
    case "eot":
      return pos === text.length;
    case "bol":
      return pos === 0 || text[pos - 1] === 0x0a;
    case "eol":
      return pos === text.length || text[pos] === 0x0a;
    case "word":
      return isWord(text[pos - 1]) !== isWord(text[pos]);
    case "notword":
      return isWord(text[pos - 1]) === isWord(text[pos]);
  }
}
