// Table-driven tests of the GroupBinding expression language: the v0.9 examples, each operator and builtin,
// expr-lang precedence, and the compile errors a binding author sees in the GroupBinding's status.
import { describe, expect, test } from "bun:test";
import { compileExpression, InvalidExpression } from "./index.ts";

const PLATFORM = ["platform-team", "developers"];
const AWS = ["aws-platform-team"];
const CI = ["client:ci-bot"];
const MANY = ["team-a", "team-b", "Admins", "sre"];

// [expression, groups, expected]
const CASES: [string, string[], boolean][] = [
  // v0.9 documentation and chart examples
  ['"platform-team" in groups', PLATFORM, true],
  ['"platform-team" in groups', AWS, false],
  ['"aws-platform-team" in groups', AWS, true],
  ['"client:ci-bot" in groups', CI, true],
  ['"client:ci-bot" in groups', PLATFORM, false],
  // literals, arrays, membership
  ["true", [], true],
  ["false", [], false],
  ['"sre" in ["sre", "ops"]', [], true],
  ['"dev" not in ["sre", "ops"]', [], true],
  ['"sre" not in groups', MANY, false],
  ["[1, 2] == [1, 2]", [], true],
  ['["a"] != ["a", "b"]', [], true],
  ["nil == nil", [], true],
  ['"a" == nil', [], false],
  // boolean operators, both spellings, and precedence (and binds tighter than or)
  ['"sre" in groups and "team-a" in groups', MANY, true],
  ['"sre" in groups && "nope" in groups', MANY, false],
  ['"nope" in groups or "sre" in groups', MANY, true],
  ['"nope" in groups || "nope2" in groups', MANY, false],
  ["true or false and false", [], true],
  ["(true or false) and false", [], false],
  ['not ("sre" in groups)', MANY, false],
  ['!("sre" in groups)', MANY, false],
  ["not false", [], true],
  ["!!true", [], true],
  // string operators, including their negated forms
  ['"platform-team" startsWith "platform"', [], true],
  ['"platform-team" endsWith "-team"', [], true],
  ['"platform-team" contains "form"', [], true],
  ['"platform-team" not contains "xyz"', [], true],
  ['"platform-team" not startsWith "plat"', [], false],
  ['"team-42" matches "^team-[0-9]+$"', [], true],
  ['"team-x" matches "^team-[0-9]+$"', [], false],
  ['"Team-42" matches "(?i)^team-\\\\d+$"', [], true],
  ['"team-42" not matches "^ops"', [], true],
  ["\"team-42\" matches `^team-\\d{2}$`", [], true],
  // predicates over groups, with and without braces
  ['any(groups, # startsWith "team-")', MANY, true],
  ['any(groups, {# startsWith "team-"})', PLATFORM, false],
  ['all(groups, # != "")', MANY, true],
  ['all(groups, # startsWith "team-")', MANY, false],
  ['none(groups, # == "root")', MANY, true],
  ['none(groups, # in ["sre", "root"])', MANY, false],
  ['one(groups, # startsWith "team-")', MANY, false],
  ['one(groups, # == "sre")', MANY, true],
  ['len(filter(groups, # startsWith "team-")) == 2', MANY, true],
  ['count(groups, # endsWith "a") >= 1', MANY, true],
  ['any(groups, lower(#) == "admins")', MANY, true],
  ['any(groups, upper(#) == "SRE")', MANY, true],
  ['any(groups, # matches "^team-[ab]$") and not any(groups, # == "root")', MANY, true],
  ['any(["x", "y"], any(groups, # == "sre"))', MANY, true],
  // len and comparisons
  ["len(groups) > 3", MANY, true],
  ["len(groups) == 0", [], true],
  ['len("héllo") == 5', [], true],
  ["len(groups) < -1", MANY, false],
  ['"a" < "b"', [], true],
  ["1_000 >= 999.5", [], true],
  // escapes
  ['"a\\"b" == \'a"b\'', [], true],
  ['"\\u00e9" == "é"', [], true],
];

describe("expression language", () => {
  test.each(CASES)("%s with %p → %p", (source, groups, want) => {
    expect(compileExpression(source).evaluate(groups)).toBe(want);
  });
});

// [expression, fragment of the error message]
const INVALID: [string, string][] = [
  ["", "unexpected end of expression"],
  ["groups", "must evaluate to a boolean"],
  ['"a" in', "unexpected end"],
  ['"a" in team', 'unknown name team (the environment holds only "groups")'],
  ['"platform-team" in group', "unknown name group"],
  ["exec(groups)", "unknown function exec()"],
  ["# == 1", "# is only defined inside a predicate"],
  ['"a" in "abc"', "needs an array"],
  ['not "a" in groups', "not needs a bool"], // expr-lang precedence: (not "a") in groups
  ["1 == \"1\"", "mismatched types"],
  ['len(groups) + 1 > 2', "arithmetic is not supported"],
  ['"a" matches groups', "string literal pattern"],
  ['"a" matches "(a"', "invalid regular expression"],
  ['"a" matches "(a)\\\\1"', "backreferences are not supported"],
  ['"a" matches "(?=a)"', "lookaround"],
  ['"a" matches "a**"', "nested repetition"],
  ['"a" matches "a{1000}"', "repetition count"],
  ['"abc', "unterminated string"],
  ['"\\q"', "invalid escape"],
  ["groups[0] == \"a\"", 'unexpected "["'],
  ["a = b", "unexpected character"],
  ['any(groups, # startsWith "x"', "expected )"],
  ["len(1) == 1", "len() needs a string or an array"],
  ['lower(groups) == "a"', "lower() needs a string"],
  ['all(groups, lower(#))', "the predicate of all() needs a bool"],
];

describe("invalid expressions are rejected at compile time with a reason", () => {
  test.each(INVALID)("%s", (source, fragment) => {
    expect(() => compileExpression(source)).toThrow(InvalidExpression);
    expect(() => compileExpression(source)).toThrow(fragment);
  });

  test("valid expressions report no error", () => {
    expect(() => compileExpression('"platform-team" in groups')).not.toThrow();
  });
});
