// The linear-time regex engine: same answers as a backtracking engine on ordinary patterns (checked against
// JavaScript's RegExp where RE2 and JS agree), linear time on the classic catastrophic ones, clear rejections.
import { describe, expect, test } from "bun:test";
import { BudgetExceeded, RegexSyntaxError, SafeRegex } from "./regex.ts";

const budget = () => ({ left: 10_000_000 });

// Patterns whose meaning is the same in RE2 and in JavaScript (no \b on non-ASCII, no (?i) which JS spells as a flag).
const DIFFERENTIAL: string[] = [
  "^team-[0-9]+$",
  "team",
  "^a|b$",
  "a(b|c)*d",
  "^(ab|a)(bc|c)$",
  "x{2,3}",
  "^x{2,}$",
  "^x{0,2}$",
  "colou?r",
  "[^a-c]z",
  "\\d\\w\\s",
  "^\\D+$",
  "a.c",
  "\\.",
  "(a*)*b",
  "[a-]",
  "[]a]",
  "\\bteam\\b",
  "^$",
  "(?:ab)+",
  "^[\\w-]+@example\\.com$",
];
const INPUTS = ["", "team-1", "team-", "ab", "abc", "abcd", "acd", "ad", "xx", "xxx", "xxxx", "color", "colour", "zz", "dz", "1a ", "abc ", "a-c", "a\nc", ".", "aaab", "-", "]", "my team here", "teams", "ababab", "bob@example.com", "bob@exampleXcom"];

describe("SafeRegex", () => {
  test.each(DIFFERENTIAL)("%s agrees with a backtracking engine", (pattern) => {
    const ours = new SafeRegex(pattern);
    const js = new RegExp(pattern.replace("[]a]", "[\\]a]"), "u");
    for (const input of INPUTS) expect([input, ours.test(input, budget())]).toEqual([input, js.test(input)]);
  });

  test("flags: (?i), (?s), (?m), scoped (?i:…)", () => {
    expect(new SafeRegex("(?i)^TEAM$").test("team", budget())).toBe(true);
    expect(new SafeRegex("(?i:T)eam").test("team", budget())).toBe(true);
    expect(new SafeRegex("(?i:T)EAM").test("team", budget())).toBe(false);
    expect(new SafeRegex("(?i)[^a]").test("A", budget())).toBe(false);
    expect(new SafeRegex("a.c").test("a\nc", budget())).toBe(false);
    expect(new SafeRegex("(?s)a.c").test("a\nc", budget())).toBe(true);
    expect(new SafeRegex("^b$").test("a\nb", budget())).toBe(false);
    expect(new SafeRegex("(?m)^b$").test("a\nb", budget())).toBe(true);
    expect(new SafeRegex("\\Ateam\\z").test("team", budget())).toBe(true);
    expect(new SafeRegex("(?P<name>ab)c").test("abc", budget())).toBe(true);
    expect(new SafeRegex("\\x41\\x{1F600}").test("A😀", budget())).toBe(true);
    expect(new SafeRegex("^.$").test("😀", budget())).toBe(true); // code points, not UTF-16 units
  });

  test.each([
    ["(a+)+$", "a".repeat(5000) + "!"],
    ["(a|a)*$", "a".repeat(5000) + "!"],
    ["(a|aa)+$", "a".repeat(5000) + "!"],
    ["^(\\w+\\s?)*$", "word ".repeat(1000) + "!"],
    ["(x+x+)+y", "x".repeat(5000)],
    ["a*a*a*a*a*a*a*a*b", "a".repeat(5000)],
    ["(.*a){20}", "a".repeat(3000)],
  ])("catastrophic pattern %s runs in linear steps", (pattern, input) => {
    const re = new SafeRegex(pattern);
    const b = budget();
    re.test(input, b);
    // Linear: the matcher's steps grow with input × pattern length (a backtracking engine takes exponentially many).
    expect(10_000_000 - b.left).toBeLessThanOrEqual(8 * input.length * pattern.length);
  });

  test("the step budget stops long matches", () => {
    const re = new SafeRegex("(.*a){20}b");
    expect(() => re.test("a".repeat(5000), { left: 10_000 })).toThrow(BudgetExceeded);
  });

  test.each([
    ["(a)\\1", "backreferences"],
    ["(?=a)", "lookaround"],
    ["(?<!a)b", "lookaround"],
    ["\\pL", "Unicode classes"],
    ["[[:alpha:]]", "POSIX"],
    ["a{101}", "repetition count"],
    ["a**", "nested repetition"],
    ["*a", "missing argument"],
    ["(a", "missing closing )"],
    ["a)", "unexpected )"],
    ["[a", "missing closing ]"],
    ["[z-a]", "invalid character class range"],
    ["\\q", "invalid escape"],
    ["((((((((((((((((((((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))))))))))))))))))))", "nested deeper"],
    ["(a{100}){100}", "too large"],
    ["a".repeat(1025), "longer than"],
  ])("rejects %s", (pattern, fragment) => {
    expect(() => new SafeRegex(pattern)).toThrow(RegexSyntaxError);
    expect(() => new SafeRegex(pattern)).toThrow(fragment);
  });
});
