import { describe, expect, test } from "bun:test";
import { archiveEntries, moduleDocsFixtureFiles } from "../../fixtures/module-docs/index.ts";
import { Value } from "@sinclair/typebox/value";
import type { ModuleDocs, ModuleDocsModule, ModuleInput } from "../api/module-docs.ts";
import { ModuleDocs as ModuleDocsSchema } from "../api/module-docs-schema.ts";
import { HclParserError, type HclParser } from "./hcl-parser.ts";
import { extractModuleDocs, extractModuleDocsFromEntries } from "./module-docs.ts";
import { unwrapExpression } from "./module-docs-read.ts";
import { runSync } from "../../test/support/processes.ts";

const vpc = () => extractModuleDocsFromEntries(archiveEntries(moduleDocsFixtureFiles("terraform-aws-vpc")));
const azure = () => extractModuleDocsFromEntries(archiveEntries(moduleDocsFixtureFiles("terraform-azurerm-network")));
const input = (m: ModuleDocsModule, name: string): ModuleInput => {
  const found = m.inputs.find((i) => i.name === name);
  if (!found) throw new Error(`no input ${name} in ${m.path || "root"}`);
  return found;
};

describe("a module shaped like terraform-aws-modules/vpc", () => {
  let docs: ModuleDocs;
  test("documents the root, both submodules and every example, with nothing left out", async () => {
    docs = await vpc();
    expect(docs.schemaVersion).toBe(1);
    expect(docs.submodules.map((m) => m.path)).toEqual(["modules/flow-log", "modules/vpc-endpoints"]);
    expect(docs.examples.map((m) => m.path)).toEqual(["examples/complete", "examples/ipv6-only", "examples/simple"]);
    expect(docs.errors).toEqual([]);
    expect(docs.skipped).toEqual([]);
    expect(docs.truncated).toBe(false);
    expect(docs.filesParsed).toBe(14);
    expect(docs.root.inputs).toHaveLength(38);
    expect(docs.root.inputs.map((i) => i.name)).toEqual([...docs.root.inputs.map((i) => i.name)].sort());
  }, 60_000);

  test("inputs: object types as written, heredoc descriptions, validations, sensitive, nullable, required", () => {
    expect(input(docs.root, "customer_gateways").type).toBe(
      'map(object({\n    bgp_asn     = number\n    ip_address  = string\n    device_name = optional(string)\n    type        = optional(string, "ipsec.1")\n  }))',
    );
    expect(input(docs.root, "instance_tenancy")).toEqual({
      name: "instance_tenancy",
      type: "string",
      description: "A tenancy option for instances launched into the VPC.\nAllowed values are `default` and `dedicated`.",
      default: "default",
      required: false,
      sensitive: false,
      hasValidation: true,
      file: "variables.tf",
    });
    expect(input(docs.root, "subnet_ipv6_prefixes").hasValidation).toBe(true);
    expect(input(docs.root, "azs").hasValidation).toBe(false);
    expect(input(docs.root, "vpn_preshared_key")).toMatchObject({ sensitive: true, default: null, required: false });
    expect(input(docs.root, "vpn_gateway_az").nullable).toBe(true);
    expect(input(docs.root, "flow_log_destination").nullable).toBe(false);
    expect("nullable" in input(docs.root, "azs")).toBe(false);
    expect(input(docs.root, "ipam_pool")).toMatchObject({ required: true, type: "object({\n    id      = string\n    netmask = number\n  })" });
    expect("default" in input(docs.root, "ipam_pool")).toBe(false);
    // No type, no description, no default: the bare `variable "organization_id" {}`.
    expect(input(docs.root, "organization_id")).toEqual({ name: "organization_id", required: true, sensitive: false, hasValidation: false, file: "variables.tf" });
    expect(input(docs.root, "manage_default_security_group").description).toBeUndefined();
    expect(input(docs.root, "default_security_group_ingress").type).toBe("any");
  });

  test("defaults of every type come through as JSON values", () => {
    const d = (name: string) => input(docs.root, name).default;
    expect(d("name")).toBe("");
    expect(d("cidr")).toBe("10.0.0.0/16");
    expect(d("create_vpc")).toBe(true);
    expect(d("map_public_ip_on_launch")).toBe(false);
    expect(d("flow_log_max_aggregation_interval")).toBe(600);
    expect(d("ipv6_netmask_length")).toBe(56.5);
    expect(d("ipv4_netmask_length")).toBeNull();
    expect(d("azs")).toEqual([]);
    expect(d("tags")).toEqual({});
    expect(d("private_subnets")).toEqual(["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]);
    expect(d("subnet_ipv6_prefixes")).toEqual([0, 1, 2]);
    expect(d("vpc_tags")).toEqual({ Terraform: "true", Component: "network" });
    expect(d("dhcp_options_ntp_servers")).toEqual(["169.254.169.123", "169.254.169.124"]);
    expect(d("customer_gateways")).toEqual({ office: { bgp_asn: 65112, ip_address: "1.2.3.4" } });
    expect(d("default_network_acl_ingress")).toEqual([{ rule_no: 100, action: "allow", from_port: 0, to_port: 0, protocol: "-1", cidr_block: "0.0.0.0/0" }]);
  });

  test("outputs, required_version, providers, resources and data sources by type, module calls", () => {
    expect(docs.root.outputs.map((o) => o.name)).toEqual(["azs", "database_subnets", "flow_log_id", "igw_id", "name", "natgw_ids", "private_subnets", "public_subnets", "vpc_arn", "vpc_cidr_block", "vpc_id", "vpn_preshared_key"]);
    expect(docs.root.outputs.find((o) => o.name === "vpn_preshared_key")).toEqual({
      name: "vpn_preshared_key",
      description: "The pre-shared key of the first VPN tunnel.\nMarked sensitive: Terraform shows it only with `terraform output -raw`.",
      sensitive: true,
      file: "outputs.tf",
    });
    expect(docs.root.outputs.find((o) => o.name === "azs")).toEqual({ name: "azs", sensitive: false, file: "outputs.tf" });
    expect(docs.root.requiredVersion).toBe(">= 1.5.7");
    expect(docs.root.requiredProviders).toEqual([{ name: "aws", source: "hashicorp/aws", versionConstraints: [">= 5.46"] }]);
    const count = (type: string) => docs.root.resources.find((r) => r.type === type)?.count;
    expect(count("aws_subnet")).toBe(3);
    expect(count("aws_route_table")).toBe(2);
    expect(count("aws_vpc")).toBe(1);
    expect(docs.root.resources).toHaveLength(12);
    expect(docs.root.dataSources).toEqual([
      { type: "aws_availability_zones", count: 1 },
      { type: "aws_region", count: 1 },
    ]);
    expect(docs.root.moduleCalls).toEqual([{ name: "flow_log", source: "./modules/flow-log" }]);
  });

  test("submodules carry their own inputs, outputs and constraints; the JSON-syntax one too", () => {
    const endpoints = docs.submodules.find((m) => m.path === "modules/vpc-endpoints")!;
    expect(endpoints.inputs).toHaveLength(11);
    expect(input(endpoints, "vpc_id")).toMatchObject({ required: true, type: "string", file: "modules/vpc-endpoints/variables.tf" });
    expect(input(endpoints, "endpoints").description).toBe('A map of interface and/or gateway endpoints containing their properties and configurations.\n\nExample:\n  s3 = { service = "s3", service_type = "Gateway" }');
    expect(endpoints.outputs.map((o) => o.name)).toEqual(["endpoints", "security_group_arn", "security_group_id"]);
    expect(endpoints.requiredVersion).toBe(">= 1.0");
    expect(endpoints.dataSources).toEqual([{ type: "aws_vpc_endpoint_service", count: 1 }]);

    const flowLog = docs.submodules.find((m) => m.path === "modules/flow-log")!;
    expect(flowLog.inputs.map((i) => i.name)).toEqual(["destination", "kms_key_id", "traffic_type", "vpc_id"]);
    expect(input(flowLog, "traffic_type")).toMatchObject({ type: "string", default: "ALL", hasValidation: true, file: "modules/flow-log/main.tf.json" });
    expect(input(flowLog, "kms_key_id")).toMatchObject({ sensitive: true, default: null, required: false });
    expect(input(flowLog, "destination").type).toBe("object({ type = string, arn = optional(string), retention_days = optional(number, 30) })");
    expect(flowLog.requiredProviders).toEqual([{ name: "aws", source: "hashicorp/aws", versionConstraints: [">= 5.0, < 7.0"] }]);
    expect(flowLog.resources.map((r) => r.type)).toEqual(["aws_cloudwatch_log_group", "aws_flow_log", "aws_iam_role"]);
    expect(flowLog.dataSources).toEqual([{ type: "aws_iam_policy_document", count: 1 }]);
    expect(flowLog.outputs).toEqual([
      { name: "id", description: "The ID of the Flow Log resource", sensitive: false, file: "modules/flow-log/main.tf.json" },
      { name: "log_group_arn", sensitive: false, file: "modules/flow-log/main.tf.json" },
    ]);
  });

  test("examples: what they call, with versions for registry sources", () => {
    const complete = docs.examples.find((m) => m.path === "examples/complete")!;
    expect(complete.moduleCalls).toEqual([
      { name: "disabled", source: "terraform-aws-modules/vpc/aws", version: "~> 5.0" },
      { name: "vpc", source: "../../" },
      { name: "vpc_endpoints", source: "../../modules/vpc-endpoints" },
    ]);
    expect(complete.outputs.map((o) => o.name)).toEqual(["private_subnets", "vpc_id"]);
    const ipv6 = docs.examples.find((m) => m.path === "examples/ipv6-only")!;
    expect(ipv6.inputs).toEqual([{ name: "region", type: "string", description: "Region to deploy the example into", default: "eu-west-1", required: false, sensitive: false, hasValidation: false, file: "examples/ipv6-only/main.tf" }]);
  });

  test("the same files give byte-identical JSON, whatever order the archive lists them in", async () => {
    const files = moduleDocsFixtureFiles("terraform-aws-vpc");
    const reversed = Object.fromEntries(Object.entries(files).reverse());
    expect(JSON.stringify(await extractModuleDocsFromEntries(archiveEntries(reversed)))).toBe(JSON.stringify(docs));
  }, 60_000);
});

describe("a module with mistakes (shaped like an older Azure network module)", () => {
  let docs: ModuleDocs;
  test("a file with a syntax error is reported with the parser's position and message; the rest is documented", async () => {
    docs = await azure();
    const broken = docs.errors.find((e) => e.file === "network_security.tf");
    expect(broken?.message).toStartWith("network_security.tf:15,18-16,1: Invalid expression;");
    // Nothing of the broken file is reported as if it had been read.
    expect(docs.root.inputs.map((i) => i.name)).not.toContain("nsg_rules");
    expect(docs.root.resources.map((r) => r.type)).toEqual(["azurerm_subnet", "azurerm_virtual_network"]);
    expect(docs.root.outputs).toHaveLength(3);
    expect(docs.filesParsed).toBe(6);
  });

  test("an invalid .tf.json is reported too, and its module is still documented from its other files", () => {
    expect(docs.errors.find((e) => e.file === "modules/subnet/delegation.tf.json")?.message).toStartWith("modules/subnet/delegation.tf.json: invalid JSON:");
    const subnet = docs.submodules[0]!;
    expect(subnet.path).toBe("modules/subnet");
    expect(subnet.inputs.map((i) => i.name)).toEqual(["name", "service_endpoints"]);
    expect(input(subnet, "service_endpoints")).toMatchObject({ type: "set(string)", default: ["Microsoft.Storage", "Microsoft.KeyVault"] });
  });

  test("a variable declared twice keeps the first declaration and says so", () => {
    expect(docs.errors.find((e) => e.message.startsWith('duplicate variable "tags"'))).toEqual({ file: "variables.tf", message: 'duplicate variable "tags" (first declared in tags.tf); this one is ignored' });
    expect(input(docs.root, "tags").file).toBe("tags.tf");
  });

  test("Terraform 0.12 syntax: quoted types and a provider given as a version string", () => {
    expect(input(docs.root, "vnet_name").type).toBe("string");
    expect(input(docs.root, "dns_servers").type).toBe("list");
    expect(input(docs.root, "subnet_names").type).toBeUndefined();
    expect(input(docs.root, "resource_group_name").required).toBe(true);
    expect(docs.root.requiredVersion).toBe(">= 0.12");
    expect(docs.root.requiredProviders).toEqual([{ name: "azurerm", versionConstraints: ["~> 2.0"] }]);
  });

  test("override files are listed as skipped (not merged); directories Terraform would not load are ignored", () => {
    expect(docs.skipped).toEqual([{ file: "override.tf", message: "override file: its changes are not merged into the documentation" }]);
    expect(input(docs.root, "vnet_name").default).toBe("acctvnet");
    expect(docs.truncated).toBe(true);
    expect(docs.examples.map((e) => e.path)).toEqual(["examples/basic"]);
    expect(JSON.stringify(docs)).not.toContain("test/fixture");
  });
});

describe("bounds", () => {
  const variables = (n: number, descriptionChars = 20) => Array.from({ length: n }, (_, i) => `variable "v${String(i).padStart(5, "0")}" {\n  description = "${"d".repeat(descriptionChars)}"\n  type = string\n}\n`).join("");

  test("files over the per-file limit or beyond the file count are skipped and named", async () => {
    const files = { "a.tf": variables(1), "b.tf": variables(50), "c.tf": variables(1), "d.tf": variables(1), "e.tf": variables(1) };
    const docs = await extractModuleDocsFromEntries(archiveEntries(files), { limits: { maxFileBytes: 1_000, maxFiles: 3 } });
    expect(docs.skipped).toEqual([
      { file: "b.tf", message: `${files["b.tf"].length} bytes, over the 1000-byte limit per file` },
      { file: "e.tf", message: "more than 3 configuration files" },
    ]);
    expect(docs.root.inputs.map((i) => i.name)).toEqual(["v00000"]);
    expect(docs.filesParsed).toBe(3);
    expect(docs.truncated).toBe(true);
  });

  test("files beyond the total byte budget are skipped and named", async () => {
    const one = variables(1);
    const files = { "a.tf": one, "b.tf": one, "c.tf": one };
    const docs = await extractModuleDocsFromEntries(archiveEntries(files), { limits: { maxTotalBytes: one.length * 2 } });
    expect(docs.skipped).toEqual([{ file: "c.tf", message: `over the ${one.length * 2}-byte limit for all configuration files` }]);
    expect(docs.filesParsed).toBe(2);
  });

  test("an entry that yields more bytes than its declared size is not read past the limit", async () => {
    const lying = { path: "main.tf", size: 10, async *read() { yield new Uint8Array(600); yield new Uint8Array(600); } };
    const docs = await extractModuleDocsFromEntries([lying], { limits: { maxFileBytes: 1_000 } });
    expect(docs.skipped).toEqual([{ file: "main.tf", message: "larger than its declared size and the 1000-byte limit per file" }]);
  });

  test("submodule and example directories are capped", async () => {
    const files = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`modules/m${i}/main.tf`, variables(1)]));
    const docs = await extractModuleDocsFromEntries(archiveEntries(files), { limits: { maxDirectories: 3 } });
    expect(docs.submodules.map((m) => m.path)).toEqual(["modules/m0", "modules/m1", "modules/m2"]);
    expect(docs.skipped.map((s) => s.file)).toEqual(["modules/m3/main.tf", "modules/m4/main.tf"]);
  });

  test("the JSON stays under the output limit: examples go first, then submodules, then root descriptions, then the root's tail", async () => {
    const files: Record<string, string> = { "variables.tf": variables(5_000, 50) };
    for (let i = 0; i < 3; i++) files[`modules/m${i}/variables.tf`] = variables(100, 300);
    files["examples/e/main.tf"] = variables(10);
    const docs = await extractModuleDocsFromEntries(archiveEntries(files), { limits: { maxFileBytes: 2 * 1024 * 1024 } });
    expect(Buffer.byteLength(JSON.stringify(docs))).toBeLessThanOrEqual(512 * 1024);
    expect(docs.truncated).toBe(true);
    expect(docs.examples[0]).toMatchObject({ path: "examples/e", inputs: [] });
    // Emptied but still listed, so the UI knows they exist.
    expect(docs.submodules.map((m) => m.path)).toEqual(["modules/m0", "modules/m1", "modules/m2"]);
    expect(docs.submodules.every((m) => m.inputs.length === 0)).toBe(true);
    expect(docs.root.inputs.every((i) => i.description === undefined)).toBe(true);
    // The root keeps its first inputs, in order, and loses only the tail.
    expect(docs.root.inputs.length).toBeGreaterThan(4_000);
    expect(docs.root.inputs.length).toBeLessThan(5_000);
    expect(docs.root.inputs.slice(0, 2).map((i) => i.name)).toEqual(["v00000", "v00001"]);
  }, 60_000);

  test("when descriptions are what overflows, every root input is kept without them", async () => {
    const docs = await extractModuleDocsFromEntries(archiveEntries({ "variables.tf": variables(1_500, 400) }), { limits: { maxFileBytes: 2 * 1024 * 1024 } });
    expect(Buffer.byteLength(JSON.stringify(docs))).toBeLessThanOrEqual(512 * 1024);
    expect(docs.root.inputs).toHaveLength(1_500);
    expect(docs.truncated).toBe(true);
  }, 60_000);

  test("a tiny output limit still yields a valid, flagged document under the limit", async () => {
    const docs = await extractModuleDocsFromEntries(archiveEntries({ "variables.tf": variables(50, 100), "modules/a/main.tf": variables(5) }), { limits: { maxOutputBytes: 600 } });
    expect(Buffer.byteLength(JSON.stringify(docs))).toBeLessThanOrEqual(600);
    expect(docs.truncated).toBe(true);
  });

  test("long descriptions and huge defaults are cut and flagged", async () => {
    const big = `variable "big" {\n  description = "${"x".repeat(10_000)}"\n  default = [${Array.from({ length: 2_000 }, (_, i) => `"item-${i}"`).join(", ")}]\n}\n`;
    const docs = await extractModuleDocs([{ path: "main.tf", content: new TextEncoder().encode(big) }]);
    const v = docs.root.inputs[0]!;
    expect(v.description!.length).toBe(8_193);
    expect(v.description!.endsWith("…")).toBe(true);
    expect(v.defaultTruncated).toBe(true);
    expect("default" in v).toBe(false);
    expect(v.required).toBe(false);
    expect(docs.truncated).toBe(true);
  }, 60_000);
});

describe("hostile or odd input never throws", () => {
  test("binary garbage, deep nesting, NULs and a BOM", async () => {
    const garbage = new Uint8Array(4_096).map((_, i) => (i * 7_919) % 256);
    const deep = new TextEncoder().encode(`x = ${"[".repeat(50_000)}${"]".repeat(50_000)}`);
    const bom = new TextEncoder().encode('\uFEFFvariable "with_bom" {}\n');
    const nul = new TextEncoder().encode('variable "a\u0000b" {\n  default = "\u0000"\n}\n');
    const docs = await extractModuleDocs([
      { path: "garbage.tf", content: garbage },
      { path: "deep.tf", content: deep },
      { path: "bom.tf", content: bom },
      { path: "nul.tf", content: nul },
      { path: "deep.tf.json", content: new TextEncoder().encode(`{"variable": ${"[".repeat(20_000)}${"]".repeat(20_000)}}`) },
    ]);
    // deep.tf.json either fails JSON.parse (stack) or parses and is walked only a few levels: no error either way.
    expect(docs.errors.map((e) => e.file).filter((f) => f !== "deep.tf.json").sort()).toEqual(["deep.tf", "garbage.tf"]);
    expect(docs.root.inputs.map((i) => i.name)).toEqual(["a\u0000b", "with_bom"]);
  }, 60_000);

  test("a default nested thousands deep is left out, and the document still serialises", async () => {
    const deepDefault = `{"variable": {"deep": {"default": ${"[".repeat(5_000)}${"]".repeat(5_000)}}, "ok": {"default": [[1]]}}}`;
    const docs = await extractModuleDocs([{ path: "main.tf.json", content: new TextEncoder().encode(deepDefault) }]);
    expect(docs.errors).toEqual([]);
    expect(docs.root.inputs.find((i) => i.name === "deep")).toMatchObject({ defaultTruncated: true, required: false });
    expect("default" in docs.root.inputs.find((i) => i.name === "deep")!).toBe(false);
    expect(docs.root.inputs.find((i) => i.name === "ok")?.default).toEqual([[1]]);
  });

  test("an archive with no configuration at all gives an empty root module", async () => {
    const docs = await extractModuleDocsFromEntries(archiveEntries({ "README.md": "# nothing", "scripts/x.sh": "echo" }));
    expect(docs.root).toEqual({ path: "", inputs: [], outputs: [], requiredProviders: [], resources: [], dataSources: [], moduleCalls: [] });
    expect(docs.filesParsed).toBe(0);
    expect(docs.truncated).toBe(false);
  });

  test("a parser that fails (crash, timeout) is reported per file; the other files are still read", async () => {
    let calls = 0;
    const flaky: HclParser = {
      async parse(filename) {
        calls++;
        if (filename === "a.tf") throw new HclParserError("the HCL parser did not answer within 20000 ms (a.tf)");
        return { variable: { ok: [{}] } };
      },
    };
    const docs = await extractModuleDocsFromEntries(archiveEntries({ "a.tf": "x", "b.tf": "y" }), { parser: flaky });
    expect(calls).toBe(2);
    expect(docs.errors).toEqual([{ file: "a.tf", message: "not parsed: the HCL parser did not answer within 20000 ms (a.tf)" }]);
    expect(docs.root.inputs.map((i) => i.name)).toEqual(["ok"]);
  });
});

test("every document the extractor makes matches the exported ModuleDocs schema (the browse API's contract)", async () => {
  const truncated = await extractModuleDocsFromEntries(archiveEntries({ "variables.tf": 'variable "a" {\n  default = [1, 2, 3]\n}\n'.repeat(1) + 'variable "b" {}\n', "modules/x/main.tf": 'output "o" {\n  value = 1\n}\n' }), { limits: { maxOutputBytes: 400 } });
  for (const docs of [await vpc(), await azure(), truncated]) {
    expect([...Value.Errors(ModuleDocsSchema, docs)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
  }
  expect(truncated.truncated).toBe(true);
}, 60_000);

test("the .tf files it reports as not parsing are exactly the ones the Terraform CLI rejects (terraform fmt)", async () => {
  // CI has the Terraform CLI (machine image); `terraform fmt -` parses with the same HCL grammar, nothing else.
  const rejectedByTerraform: string[] = [];
  const rejectedByUs: string[] = [];
  for (const fixture of ["terraform-aws-vpc", "terraform-azurerm-network"] as const) {
    const files = moduleDocsFixtureFiles(fixture);
    for (const [path, bytes] of Object.entries(files)) {
      if (!path.endsWith(".tf")) continue;
      const fmt = runSync(["terraform", "fmt", "-no-color", "-write=false", "-list=false", "-"], { stdin: bytes, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TF_CLI_CONFIG_FILE: "/dev/null", CHECKPOINT_DISABLE: "1" } });
      if (fmt.exitCode !== 0) rejectedByTerraform.push(`${fixture}/${path}`);
    }
    const docs = await extractModuleDocsFromEntries(archiveEntries(files));
    // Syntax errors only: duplicates are a semantic check fmt does not make, and fmt does not read .tf.json.
    rejectedByUs.push(...docs.errors.filter((e) => e.file.endsWith(".tf") && !e.message.startsWith("duplicate")).map((e) => `${fixture}/${e.file}`));
  }
  expect(rejectedByTerraform).toEqual(["terraform-azurerm-network/network_security.tf"]);
  expect(rejectedByUs.sort()).toEqual(rejectedByTerraform.sort());
}, 60_000);

test("unwrapExpression takes off only a wrapper around the whole string", () => {
  expect(unwrapExpression("${map(string)}")).toBe("map(string)");
  expect(unwrapExpression("${object({ a = string })}")).toBe("object({ a = string })");
  expect(unwrapExpression("${a}-${b}")).toBe("${a}-${b}");
  expect(unwrapExpression("string")).toBe("string");
});
