import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../infra/adopt/cli";
import { adoptionOf, engineUrn, parseCloudflareListing, type ImportFile } from "../../infra/adopt/import-file";
import type { RecordedResource } from "../../infra/plan/recorder";
import type { Plan } from "../../infra/plan/run";
import { inProcess } from "../cli/run-command";
import { cachedPlan } from "../harness";

const P = "urn:pulumi:test::diaspomoney-platform::";
const STACK = `${P}pulumi:pulumi:Stack::diaspomoney-platform-test`;
const ZONE = "3f2a9c1e7b6d4e8fa0b1c2d3e4f5a6b7";

/** A resource as the recorder writes it: the mock's URNs put the stack's type in the chain. */
function rec(type: string, name: string, parent: RecordedResource | null, inputs: Record<string, unknown> = {}, extra: Partial<RecordedResource> = {}): RecordedResource {
  const parentType = parent ? parent.urn.split("::")[2].split("$").pop() : undefined;
  return {
    urn: `${P}${parentType ? `${parentType}$` : ""}${type}::${name}`,
    type,
    name,
    custom: !type.startsWith("diaspomoney:") && type !== "pulumi:pulumi:Stack",
    parent: parent?.urn ?? null,
    provider: null,
    dependsOn: [],
    protect: false,
    retainOnDelete: false,
    inputs,
    ...extra,
  };
}

function handPlan(): { plan: Plan; r: Record<string, RecordedResource> } {
  const stack = { ...rec("pulumi:pulumi:Stack", "diaspomoney-platform-test", null), urn: STACK };
  const env = rec("diaspomoney:platform:Environment", "env", stack);
  const k8sProvider = rec("pulumi:providers:kubernetes", "kubernetes", env);
  const cfProvider = rec("pulumi:providers:cloudflare", "cloudflare", env);
  const ref = (p: RecordedResource) => ({ provider: `${p.urn}::${p.name}-id` });
  const ns = rec("diaspomoney:platform:SecureNamespace", "shop", env);
  const namespace = rec("kubernetes:core/v1:Namespace", "shop", ns, { kind: "Namespace", metadata: { name: "shop" } }, ref(k8sProvider));
  const deny = rec("kubernetes:networking.k8s.io/v1:NetworkPolicy", "shop-deny", ns, { kind: "NetworkPolicy", metadata: { name: "default-deny", namespace: "shop" } }, ref(k8sProvider));
  const issuer = rec("kubernetes:cert-manager.io/v1:ClusterIssuer", "ca", env, { kind: "ClusterIssuer", metadata: { name: "shop-ca" } }, ref(k8sProvider));
  const release = rec("kubernetes:helm.sh/v3:Release", "operator", env, { name: "psmdb-operator", namespace: "shop" }, ref(k8sProvider));
  const chart = { ...rec("kubernetes:helm.sh/v4:Chart", "traefik", env, { name: "traefik", namespace: "shop" }, ref(k8sProvider)), custom: false };
  const password = rec("random:index/randomPassword:RandomPassword", "db-password", env, { length: 32 });
  const secret = rec("kubernetes:core/v1:Secret", "db", env, { kind: "Secret", metadata: { name: "db", namespace: "shop" } }, { ...ref(k8sProvider), dependsOn: [password.urn] });
  const autoNamed = rec("kubernetes:core/v1:ConfigMap", "scratch", env, { kind: "ConfigMap", metadata: { namespace: "shop" } }, ref(k8sProvider));
  const noNamespace = rec("kubernetes:core/v1:ConfigMap", "loose", env, { kind: "ConfigMap", metadata: { name: "loose" } }, ref(k8sProvider));
  const record = rec("cloudflare:index/dnsRecord:DnsRecord", "dns-app", env, { zoneId: ZONE, name: "app.example.org", type: "A" }, ref(cfProvider));
  const setting = rec("cloudflare:index/zoneSetting:ZoneSetting", "zone-ssl", env, { zoneId: ZONE, settingId: "ssl", value: "strict" }, ref(cfProvider));
  const waf = rec("cloudflare:index/ruleset:Ruleset", "zone-waf", env, { zoneId: ZONE, kind: "zone", phase: "http_request_firewall_managed" }, ref(cfProvider));
  const atlas = rec("mongodbatlas:index/project:Project", "atlas-project", env, { name: "p" });
  const r = { stack, env, k8sProvider, cfProvider, ns, namespace, deny, issuer, release, chart, password, secret, autoNamed, noNamespace, record, setting, waf, atlas };
  return { plan: { project: "diaspomoney-platform", stack: "test", resources: Object.values(r), outputs: {} }, r };
}

const entry = (file: ImportFile, type: string, logicalName: string) => file.resources.find((e) => e.type === type && (e.logicalName ?? e.name) === logicalName);

describe("the import file of a plan", () => {
  it("names every Kubernetes object namespace/name (name when cluster-scoped), a Helm release by its release", () => {
    const { plan } = handPlan();
    const { file } = adoptionOf(plan);
    expect(entry(file, "kubernetes:core/v1:Namespace", "shop")?.id).toBe("shop");
    expect(entry(file, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "shop-deny")?.id).toBe("shop/default-deny");
    expect(entry(file, "kubernetes:cert-manager.io/v1:ClusterIssuer", "ca")?.id).toBe("shop-ca");
    expect(entry(file, "kubernetes:helm.sh/v3:Release", "operator")?.id).toBe("shop/psmdb-operator");
    expect(entry(file, "kubernetes:core/v1:Secret", "db")?.id).toBe("shop/db");
  });

  it("lists the component ancestors so that each object gets the URN the program gives it, and names providers by their engine URN", () => {
    const { plan } = handPlan();
    const { file, providerTargets } = adoptionOf(plan);
    const ns = entry(file, "kubernetes:core/v1:Namespace", "shop")!;
    const parent = file.resources.find((e) => e.name === ns.parent)!;
    expect(parent).toMatchObject({ type: "diaspomoney:platform:SecureNamespace", component: true });
    expect(parent.id).toBeUndefined();
    expect(file.resources.find((e) => e.name === parent.parent)).toMatchObject({ type: "diaspomoney:platform:Environment", name: "env", component: true });
    expect(file.resources.find((e) => e.name === "env")!.parent).toBeUndefined();
    // The engine leaves the root stack out of the type chain (the mocks' URNs do not).
    expect(file.nameTable[ns.provider!]).toBe(`${P}diaspomoney:platform:Environment$pulumi:providers:kubernetes::kubernetes`);
    expect(providerTargets).toEqual(expect.arrayContaining([`${P}diaspomoney:platform:Environment::env`, `${P}diaspomoney:platform:Environment$pulumi:providers:kubernetes::kubernetes`]));
    // Names are unique in the file; the program's names are kept as logical names.
    const names = [...file.resources.map((e) => e.name), ...Object.keys(file.nameTable)];
    expect(new Set(names).size).toBe(names.length);
    expect(ns.logicalName ?? ns.name).toBe("shop");
  });

  it("computes the engine's URN from the parent chain", () => {
    const { plan, r } = handPlan();
    expect(engineUrn(plan, r.namespace)).toBe(`${P}diaspomoney:platform:Environment$diaspomoney:platform:SecureNamespace$kubernetes:core/v1:Namespace::shop`);
    expect(engineUrn(plan, r.env)).toBe(`${P}diaspomoney:platform:Environment::env`);
  });

  it("leaves out, with the reason, what it cannot or should not import", () => {
    const { plan } = handPlan();
    const { file, skipped, generatedSecrets } = adoptionOf(plan);
    const reason = (name: string) => skipped.find((s) => s.urn.endsWith(`::${name}`))?.reason;
    expect(reason("scratch")).toMatch(/auto-named/);
    expect(reason("loose")).toMatch(/no metadata\.namespace/);
    expect(reason("traefik")).toMatch(/rendered by the provider at deploy time/);
    expect(reason("db-password")).toMatch(/generated by the program/);
    expect(reason("atlas-project")).toMatch(/new project/);
    expect(reason("dns-app")).toMatch(/--cloudflare-records/);
    expect(reason("zone-waf")).toMatch(/--cloudflare-rulesets/);
    expect(file.resources.map((e) => e.type)).not.toContain("kubernetes:helm.sh/v4:Chart");
    expect(generatedSecrets).toEqual([{ secret: "shop/db", sources: ["RandomPassword db-password"] }]);
  });

  it("imports zone settings by their id, and records and rulesets by the ids Cloudflare lists", () => {
    const { plan } = handPlan();
    const records = parseCloudflareListing(JSON.stringify({ result: [{ id: "rec1", type: "A", name: "app.example.org" }, { id: "rec2", type: "TXT", name: "app.example.org" }] }), "records");
    const rulesets = parseCloudflareListing(JSON.stringify([{ id: "rs1", kind: "zone", phase: "http_request_firewall_managed" }, { id: "rs2", kind: "managed", phase: "http_request_firewall_managed" }]), "rulesets");
    const { file } = adoptionOf(plan, { cloudflareRecords: records, cloudflareRulesets: rulesets });
    expect(entry(file, "cloudflare:index/zoneSetting:ZoneSetting", "zone-ssl")?.id).toBe(`${ZONE}/ssl`);
    expect(entry(file, "cloudflare:index/dnsRecord:DnsRecord", "dns-app")?.id).toBe(`${ZONE}/rec1`);
    expect(entry(file, "cloudflare:index/ruleset:Ruleset", "zone-waf")?.id).toBe(`zones/${ZONE}/rs1`);
    expect(entry(file, "cloudflare:index/dnsRecord:DnsRecord", "dns-app")?.provider).toBe("cloudflare-provider");

    const twoA = parseCloudflareListing(JSON.stringify({ result: [{ id: "a", type: "A", name: "app.example.org" }, { id: "b", type: "A", name: "app.example.org" }] }), "records");
    expect(adoptionOf(plan, { cloudflareRecords: twoA }).skipped.find((s) => s.urn.endsWith("::dns-app"))?.reason).toMatch(/2 records named app\.example\.org/);
    expect(adoptionOf(plan, { cloudflareRecords: [] }).skipped.find((s) => s.urn.endsWith("::dns-app"))?.reason).toMatch(/will be created/);
    expect(() => parseCloudflareListing('{"errors": []}', "--cloudflare-records")).toThrow(/expected Cloudflare's listing/);
  });
});

describe("the import file of dev", () => {
  it("has an id for every Namespace and every named Kubernetes object of the plan, under the program's components and provider", async () => {
    const plan = await cachedPlan("dev");
    const { file } = adoptionOf(plan);
    const k8s = plan.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
    const namespaces = k8s.filter((r) => r.type === "kubernetes:core/v1:Namespace").map((r) => (r.inputs as any).metadata.name);
    expect(namespaces.sort()).toEqual(["diaspomoney-dev", "diaspomoney-dev-infra"]);
    for (const ns of namespaces) expect(file.resources.filter((e) => e.type === "kubernetes:core/v1:Namespace").map((e) => e.id)).toContain(ns);
    for (const r of k8s) {
      const e = entry(file, r.type, r.name);
      expect(e?.id, r.urn).toMatch(/^[a-z0-9-]+(\/[a-z0-9.-]+)?$/);
      expect(file.nameTable[e!.provider!], r.urn).toMatch(/::pulumi:providers:kubernetes::|\$pulumi:providers:kubernetes::/);
    }
    const ids = file.resources.filter((e) => e.id).map((e) => `${e.type} ${e.id}`);
    expect(new Set(ids).size).toBe(ids.length);
    const names = new Set(file.resources.map((e) => e.name));
    for (const e of file.resources) if (e.parent) expect(names.has(e.parent) || e.parent in file.nameTable, e.name).toBe(true);
  });
});

// The command's main in this process, settled as its process settles it (test/cli/run-command.ts); the
// process boundary of `npm run adopt` is proven in test/cli/commands.test.ts.
describe("npm run adopt", () => {
  const cli = (args: string[]) => inProcess(main, ...args);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "adopt-"));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("refuses an unknown stack with a clear message, exit 2, and writes nothing", async () => {
    const out = path.join(scratch, "refused.json");
    const r = await cli(["staging", "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown stack "staging": this project defines the stacks .*"dev"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(out)).toBe(false);
    expect((await cli(["dev", "--bogus"])).code).toBe(2);
  });

  it("writes the import file of a plan.json and prints the commands to run", async () => {
    const dir = fs.mkdtempSync(path.join(scratch, "plan-"));
    fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify(await cachedPlan("dev")));
    const r = await cli(["dev", "--plan", path.join(dir, "plan.json"), "--out", path.join(dir, "import.json")]);
    expect(r.code, r.stderr).toBe(0);
    const file = JSON.parse(fs.readFileSync(path.join(dir, "import.json"), "utf8")) as ImportFile;
    expect(file.resources.filter((e) => e.type === "kubernetes:core/v1:Namespace").map((e) => e.id).sort()).toEqual(["diaspomoney-dev", "diaspomoney-dev-infra"]);
    expect(r.stdout).toMatch(/pulumi up (--target '[^']+' )*--target 'urn:pulumi:dev::diaspomoney-platform::[^']*pulumi:providers:kubernetes::kubernetes'/);
    expect(r.stdout).toMatch(/pulumi import --file .*import\.json --protect=false --generate-code=false/);
  });
});
