// Kubernetes label selectors (the `labelSelector` query string form): parsed once, matched against label maps.
// Grammar and validation follow k8s.io/apimachinery/pkg/labels so that the embedded and kube backends agree on
// which selectors are valid and what they select.
import { StoreError } from "./errors.ts";

export type SelectorOperator = "=" | "!=" | "exists" | "!" | "in" | "notin";

export interface Requirement {
  key: string;
  operator: SelectorOperator;
  /** One value for `=`/`!=`, the set for `in`/`notin`, none for `exists`/`!`. */
  values: string[];
}

export class LabelSelector {
  constructor(readonly requirements: readonly Requirement[]) {}

  /** True when every requirement holds (an empty selector selects everything). */
  matches(labels: Record<string, string> | undefined): boolean {
    for (const r of this.requirements) if (!holds(r, labels)) return false;
    return true;
  }

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  toString(): string {
    return this.requirements.map(format).join(",");
  }
}

export const EVERYTHING = new LabelSelector([]);

function holds(r: Requirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, r.key);
  const value = has ? labels![r.key] : undefined;
  switch (r.operator) {
    case "exists":
      return has;
    case "!":
      return !has;
    case "=":
      return has && value === r.values[0];
    // Like Kubernetes: `!=` and `notin` also select objects that do not carry the label at all.
    case "!=":
      return !has || value !== r.values[0];
    case "in":
      return has && r.values.includes(value!);
    case "notin":
      return !has || !r.values.includes(value!);
  }
}

function format(r: Requirement): string {
  switch (r.operator) {
    case "exists":
      return r.key;
    case "!":
      return `!${r.key}`;
    case "=":
    case "!=":
      return `${r.key}${r.operator}${r.values[0]}`;
    case "in":
    case "notin":
      return `${r.key} ${r.operator} (${r.values.join(",")})`;
  }
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Label key: `[prefix/]name`, name ≤ 63 characters, prefix a DNS subdomain ≤ 253. Returns a problem or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && (!prefix || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `invalid label key "${key}": prefix must be a DNS subdomain`;
  }
  if (!name || name.length > 63 || !NAME.test(name)) {
    return `invalid label key "${key}": name must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === "" || (value.length <= 63 && NAME.test(value))) return undefined;
  return `invalid label value "${value}": at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric`;
}

const SPECIAL = new Set(["!", "=", ",", "(", ")"]);
const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r";

/** Parse a selector string; undefined/blank selects everything. Invalid input → StoreError("Invalid"). */
export function parseSelector(text: string | undefined): LabelSelector {
  if (text === undefined || text.trim() === "") return EVERYTHING;
  return new Parser(text).parse();
}

class Parser {
  private pos = 0;
  constructor(private readonly s: string) {}

  parse(): LabelSelector {
    const requirements: Requirement[] = [];
    for (;;) {
      requirements.push(this.requirement());
      this.skipSpace();
      if (this.pos >= this.s.length) break;
      if (this.s[this.pos] !== ",") this.fail(`expected ',' at position ${this.pos}`);
      this.pos++;
    }
    return new LabelSelector(requirements);
  }

  private requirement(): Requirement {
    this.skipSpace();
    if (this.s[this.pos] === "!") {
      this.pos++;
      return { key: this.key(), operator: "!", values: [] };
    }
    const key = this.key();
    this.skipSpace();
    const rest = this.s.slice(this.pos);
    if (rest === "" || rest[0] === ",") return { key, operator: "exists", values: [] };
    for (const [token, operator] of [["==", "="], ["!=", "!="], ["=", "="]] as const) {
      if (rest.startsWith(token)) {
        this.pos += token.length;
        return { key, operator, values: [this.value(true)] };
      }
    }
    const word = this.identifier();
    if (word === "in" || word === "notin") return { key, operator: word, values: this.set(word) };
    return this.fail(`unexpected ${word ? `"${word}"` : `"${rest[0]}"`} after key "${key}"`);
  }

  private key(): string {
    this.skipSpace();
    const key = this.identifier();
    if (!key) this.fail(`expected a label key at position ${this.pos}`);
    const problem = labelKeyProblem(key);
    if (problem) this.fail(problem);
    return key;
  }

  private value(allowEmpty: boolean): string {
    this.skipSpace();
    const value = this.identifier();
    if (!value && !allowEmpty) this.fail(`expected a value at position ${this.pos}`);
    const problem = labelValueProblem(value);
    if (problem) this.fail(problem);
    return value;
  }

  private set(operator: string): string[] {
    this.skipSpace();
    if (this.s[this.pos] !== "(") this.fail(`expected '(' after "${operator}"`);
    this.pos++;
    const values: string[] = [];
    for (;;) {
      this.skipSpace();
      if (this.s[this.pos] === ")" && values.length === 0) this.fail(`for '${operator}', the set of values can't be empty`);
      values.push(this.value(false));
      this.skipSpace();
      const c = this.s[this.pos++];
      if (c === ")") return values;
      if (c !== ",") this.fail(`expected ',' or ')' in the value set of '${operator}'`);
    }
  }

  private identifier(): string {
    const start = this.pos;
    while (this.pos < this.s.length && !isSpace(this.s[this.pos]) && !SPECIAL.has(this.s[this.pos]!)) this.pos++;
    return this.s.slice(start, this.pos);
  }

  private skipSpace(): void {
    while (isSpace(this.s[this.pos])) this.pos++;
  }

  private fail(message: string): never {
    throw new StoreError("Invalid", `unable to parse label selector "${this.s}": ${message}`);
  }
}
