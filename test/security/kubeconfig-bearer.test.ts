// Finding (Low): in kubeconfig mode the bearer value was parsed as YAML with aliases (a 600-byte bomb cost 25 ms of
// CPU before the 401), every time. Replayed against the gatekeeper: anchors and aliases are refused before
// parsing, sizes are bounded, a refused value is remembered briefly, and nothing reaches the TokenReview.
import { afterAll, describe, expect, test } from "bun:test";
import { silentLogger } from "../../src/log.ts";
import type { KubernetesDecision, KubernetesTokenAuthorizer } from "../../src/server/auth/kubernetes.ts";
import { KubernetesGatekeeper, tokenFromKubeconfig } from "../../src/server/kube-gatekeeper.ts";
import { SecurityTally } from "./capture.ts";

const tally = new SecurityTally("kubeconfig-mode bearer values");
afterAll(() => tally.print());
const SERVER = "https://kubernetes.default.svc";
const b64 = (s: string) => Buffer.from(s).toString("base64");

function bomb(levels: number): string {
  const names = "abcdefghij".split("").slice(0, levels);
  let y = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n`;
  for (let i = 1; i < names.length; i++) y += `${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(",")}]\n`;
  return `${y}users: *${names[names.length - 1]}\n`;
}

class CountingReviewer implements KubernetesTokenAuthorizer {
  calls = 0;
  async review(): Promise<KubernetesDecision> {
    this.calls++;
    return { outcome: "allowed", user: "someone" };
  }
}

describe("kubeconfig bearer values", () => {
  test("a YAML alias bomb is refused before it is parsed; a plain kubeconfig still works", () => {
    expect(bomb(7).length).toBeLessThan(700);
    expect(tokenFromKubeconfig(b64(bomb(7)), [SERVER])).toEqual({ error: "kubeconfig credentials with YAML anchors or aliases are not accepted" });
    const ok = `apiVersion: v1\nclusters: [{ name: c, cluster: { server: "${SERVER}" } }]\nusers: [{ name: u, user: { token: "abc.def-ghi_jkl" } }]\ncontexts: [{ name: x, context: { cluster: c, user: u } }]\ncurrent-context: x\n`;
    expect(tokenFromKubeconfig(b64(ok), [SERVER])).toEqual({ token: "abc.def-ghi_jkl" });
    expect(tokenFromKubeconfig("A".repeat(17 * 1024), [SERVER])).toEqual({ error: "kubeconfig credential is too large" });
  });

  test("1,000 hostile values: all 401, none reaches the TokenReview, a repeated one is parsed once", async () => {
    const reviewer = new CountingReviewer();
    const gate = new KubernetesGatekeeper("kubeconfig", reviewer, silentLogger, [SERVER]);
    const target = { kind: "module" as const, namespace: "default", name: "vpc" };
    const parse = Bun.YAML.parse;
    let parses = 0;
    Bun.YAML.parse = ((text: string) => {
      parses++;
      return parse(text);
    }) as typeof Bun.YAML.parse;
    try {
      const values = [b64(bomb(6)), b64(bomb(7)), b64("users: 5\n"), b64("users: [{ name: u, user: { exec: { command: sh } } }]\n")];
      for (let i = 0; i < 1_000; i++) {
        tally.tried++;
        const r = await gate.authorize(new Request("http://x/", { headers: { authorization: `Bearer ${values[i % values.length]}` } }), target);
        expect(r?.status).toBe(401);
        tally.refused++;
      }
    } finally {
      Bun.YAML.parse = parse;
    }
    expect(reviewer.calls).toBe(0);
    expect(parses).toBe(2); // the two parsable values, once each; the bombs never
  });
});
