// Where a YAML document is broken. Bun.YAML (the fast parser every manifest goes through) reports syntax errors
// without a position; only when it fails is the text parsed again by the `yaml` package, whose errors carry the
// line and column, so that the one log line of a broken manifest says where to look.
import { parseDocument } from "yaml";

export interface YamlErrorPosition {
  /** 1-based, within the text given. */
  line: number;
  column: number;
  /** The first problem, without the position suffix. */
  message: string;
}

export function yamlErrorAt(source: string): YamlErrorPosition | undefined {
  let first;
  try {
    first = parseDocument(source, { prettyErrors: true, uniqueKeys: false }).errors[0];
  } catch {
    return undefined;
  }
  const at = first?.linePos?.[0];
  if (!first || !at) return undefined;
  const message = first.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  return { line: at.line, column: at.col, message };
}
