// Tokens of the GroupBinding expression language (the subset of expr-lang that v0.9 GroupBindings use).
export type TokenKind = "string" | "number" | "ident" | "op" | "punct" | "pointer" | "eof";

export interface Token {
  kind: TokenKind;
  text: string;
  /** Decoded value of string and number literals. */
  value?: string | number;
  pos: number;
}

export class ExprSyntaxError extends Error {
  constructor(message: string, pos?: number) {
    super(pos === undefined ? message : `${message} (at position ${pos + 1})`);
  }
}

// Longest first, so `not in` style words are handled by the parser and `==` wins over `=`.
const OPERATORS = ["&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "-", "+"];
const PUNCT = new Set(["(", ")", "[", "]", "{", "}", ","]);
const SIMPLE_ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", f: "\f", v: "\v", b: "\b", a: "\x07", "\\": "\\", '"': '"', "'": "'", "`": "`" };

export function tokenize(src: string, maxTokens: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    if (tokens.length >= maxTokens) throw new ExprSyntaxError(`expression has more than ${maxTokens} tokens`);
    const c = src[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      const { value, end } = quoted(src, i);
      tokens.push({ kind: "string", text: src.slice(start, end), value, pos: start });
      i = end;
    } else if (c === "`") {
      const end = src.indexOf("`", i + 1);
      if (end < 0) throw new ExprSyntaxError("unterminated raw string", start);
      tokens.push({ kind: "string", text: src.slice(start, end + 1), value: src.slice(i + 1, end), pos: start });
      i = end + 1;
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const m = /^(?:[0-9][0-9_]*)?(?:\.[0-9_]+)?(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i, i + 64))!;
      const text = m[0];
      const value = Number(text.replaceAll("_", ""));
      if (!Number.isFinite(value) || /_$|__|_\.|\._/.test(text)) throw new ExprSyntaxError(`invalid number ${text}`, start);
      tokens.push({ kind: "number", text, value, pos: start });
      i += text.length;
      if (/[A-Za-z_]/.test(src[i] ?? "")) throw new ExprSyntaxError("invalid number", start);
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i, i + 256))!;
      tokens.push({ kind: "ident", text: m[0], pos: start });
      i += m[0].length;
    } else if (c === "#") {
      tokens.push({ kind: "pointer", text: "#", pos: start });
      i++;
    } else if (PUNCT.has(c)) {
      tokens.push({ kind: "punct", text: c, pos: start });
      i++;
    } else {
      const op = OPERATORS.find((o) => src.startsWith(o, i));
      if (!op) throw new ExprSyntaxError(`unexpected character ${JSON.stringify(c)}`, start);
      tokens.push({ kind: "op", text: op, pos: start });
      i += op.length;
    }
  }
  tokens.push({ kind: "eof", text: "", pos: src.length });
  return tokens;
}

/** A "double" or 'single' quoted string with Go-style escapes. */
function quoted(src: string, start: number): { value: string; end: number } {
  const quote = src[start];
  let out = "";
  let i = start + 1;
  for (;;) {
    const c = src[i];
    if (c === undefined || c === "\n") throw new ExprSyntaxError("unterminated string literal", start);
    if (c === quote) return { value: out, end: i + 1 };
    if (c !== "\\") {
      out += c;
      i++;
      continue;
    }
    const e = src[i + 1];
    if (e !== undefined && e in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[e];
      i += 2;
      continue;
    }
    const hex = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
    if (hex) {
      const digits = src.slice(i + 2, i + 2 + hex);
      const cp = /^[0-9a-fA-F]+$/.test(digits) && digits.length === hex ? parseInt(digits, 16) : NaN;
      if (!(cp <= 0x10ffff)) throw new ExprSyntaxError("invalid escape in string literal", i);
      out += String.fromCodePoint(cp);
      i += 2 + hex;
      continue;
    }
    const octal = src.slice(i + 1, i + 4);
    if (/^[0-3][0-7]{2}$/.test(octal)) {
      out += String.fromCharCode(parseInt(octal, 8));
      i += 4;
      continue;
    }
    throw new ExprSyntaxError(`invalid escape \\${e ?? ""} in string literal`, i);
  }
}
