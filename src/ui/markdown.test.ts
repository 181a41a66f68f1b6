// Hostile READMEs: nothing executable survives, the text stays readable, links are safe and resolved.
import { describe, expect, test } from "bun:test";
import { renderReadme, safeUrl } from "./markdown.ts";

const ctx = { repoUrl: "https://github.com/acme/terraform-aws-vpc", ref: "v1.2.0", source: { address: "reg.example:8443/default/vpc/aws", names: ["vpc", "terraform-aws-vpc"] } };
const render = (md: string) => renderReadme(md, ctx);
/** Tags that would execute or load something if they reached the DOM as markup. */
const LIVE = /<(script|iframe|object|embed|svg|math|style|img[^>]*\bon\w+=|[a-z]+[^>]*\son\w+=)/i;

describe("raw HTML is shown, never parsed", () => {
  for (const payload of [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<scr<script>ipt>alert(1)</script>",
    "text <b onmouseover=alert(1)>bold</b> inline",
  ]) {
    test(payload, () => {
      const out = render(`before\n\n${payload}\n\nafter`);
      expect(out).not.toMatch(LIVE);
      expect(out).toContain("before");
      expect(out).toContain("after");
      expect(out).toContain("&lt;"); // visible as text
    });
  }
});

describe("URLs", () => {
  test.each([
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "jav&#x61;script:alert(1)",
    "jav&#97;script&colon;alert(1)",
    "java\tscript:alert(1)",
    "java%0ascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
  ])("%s is dropped", (href) => {
    expect(safeUrl(href, "link", ctx)).toBeUndefined();
    const out = render(`[click](${href}) ![img](${href})`);
    expect(out).not.toContain("href=");
    expect(out).not.toContain("src=");
    expect(out).toContain("click");
  });

  test("http(s) and mailto links keep working, with rel=noopener noreferrer nofollow", () => {
    const out = render("[a](https://example.com/x?y=1) <https://example.org> [m](mailto:a@b.c)");
    expect(out).toContain('<a href="https://example.com/x?y=1" rel="noopener noreferrer nofollow">a</a>');
    expect(out).toContain('<a href="https://example.org" rel="noopener noreferrer nofollow">');
    expect(out).toContain('href="mailto:a@b.c"');
  });

  test("relative links and images resolve against the repository at the shown tag; anchors stay", () => {
    const out = render("[guide](docs/guide.md) [up](../x.md) ![d](./img/diagram.png) [top](#usage)");
    expect(out).toContain('href="https://github.com/acme/terraform-aws-vpc/blob/v1.2.0/docs/guide.md"');
    expect(out).toContain('src="https://github.com/acme/terraform-aws-vpc/raw/v1.2.0/img/diagram.png"');
    expect(out).toContain('href="#usage"');
    expect(out).not.toContain('href="../x.md"');
  });

  test("without a repository, relative links are dropped rather than pointing at this registry", () => {
    expect(renderReadme("[guide](docs/guide.md)")).not.toContain("href=");
  });

  test("attribute breakouts in titles and alt text are escaped", () => {
    const out = render('[x](https://e.com "a\\" onmouseover=\\"alert(1)") ![" onerror="alert(1)](https://e.com/i.png)');
    expect(out).not.toMatch(/\son\w+="/); // the quote stays inside the attribute value, escaped
    expect(out).toContain("&quot; onmouseover=");
  });
});

describe("HCL code fences", () => {
  test("highlighted, and source addresses of this module rewritten to this registry (submodule path kept)", () => {
    const md = '```hcl\nmodule "vpc" {\n  source  = "terraform-aws-modules/vpc/aws//modules/x"\n  version = "~> 1.0"\n}\nmodule "other" {\n  source = "hashicorp/consul/aws"\n}\nmodule "local" {\n  source = "./modules/y"\n}\n```';
    const out = render(md);
    expect(out).toContain('<span class="hl-keyword">module</span>');
    expect(out).toContain("&quot;reg.example:8443/default/vpc/aws//modules/x&quot;");
    expect(out).toContain("&quot;hashicorp/consul/aws&quot;"); // another module: untouched
    expect(out).toContain("&quot;./modules/y&quot;");
  });

  test("a fence cannot smuggle markup through the highlighter", () => {
    const out = render('```terraform\nvariable "x" { default = "</code></pre><script>alert(1)</script>" }\n```');
    expect(out).not.toMatch(LIVE);
    expect(out).toContain("&lt;script&gt;");
  });

  test("other languages are escaped, not highlighted", () => {
    expect(render("```sh\necho <b>hi</b>\n```")).toContain("echo &lt;b&gt;hi&lt;/b&gt;");
  });
});

test("very large READMEs are truncated, not rendered whole", () => {
  const out = renderReadme("x".repeat(600 * 1024));
  expect(out).toContain("README truncated");
  expect(out.length).toBeLessThan(530 * 1024);
});

test("the cached renderer gives the same markup, per context", async () => {
  const { renderReadmeCached } = await import("./markdown.ts");
  const md = "[g](docs/g.md)";
  expect(renderReadmeCached(md, ctx)).toBe(renderReadme(md, ctx));
  expect(renderReadmeCached(md, { ...ctx, ref: "v2.0.0" })).toContain("/blob/v2.0.0/docs/g.md");
  expect(renderReadmeCached(md, ctx)).toContain("/blob/v1.2.0/docs/g.md");
});
