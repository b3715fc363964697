import { describe, expect, it } from "vitest";
import { dnsEditPolicies, MANAGED_RULESETS, zoneSettings } from "../../components/cloudflare";
import { environmentSpecSchema } from "../../infra/config/schema";
import { readStackConfigFile } from "../../infra/plan/run";
import { environments } from "../../stacks";
import { cachedPlan, inputs, ofType, planStack, STACKS } from "../harness";

const specOf = (stack: string) => environmentSpecSchema.parse(environments[stack]);
const zoneIdOf = (stack: string) => JSON.parse(readStackConfigFile(stack).values["diaspomoney-platform:cloudflare"]).zoneId as string;

describe.each(STACKS)("Cloudflare for %s", (stack) => {
  const spec = specOf(stack);

  it("has a proxied record for every host, pointing at the Traefik LoadBalancer", async () => {
    const plan = await cachedPlan(stack);
    const records = ofType(plan, "cloudflare:index/dnsRecord:DnsRecord");
    expect(records.map((r) => inputs(r).name).sort()).toEqual(Object.values(spec.hosts).sort());
    const lb = ofType(plan, "kubernetes:core/v1:Service").find((s) => inputs(s).spec.type === "LoadBalancer")!;
    // Under the offline engine the LoadBalancer gets a documentation address (TEST-NET-1).
    const address = (plan.outputs as any).edge.loadBalancer.ip;
    expect(address).toMatch(/^192\.0\.2\.\d+$/);
    for (const r of records) {
      expect(inputs(r)).toMatchObject({ zoneId: zoneIdOf(stack), type: "A", content: address, proxied: true, ttl: 1 });
      expect(r.dependsOn, r.urn).toContain(lb.urn);
    }
  });

  it("creates a DNS-01 token scoped to DNS edit on this zone only", async () => {
    const plan = await cachedPlan(stack);
    const tokens = ofType(plan, "cloudflare:index/apiToken:ApiToken");
    expect(tokens).toHaveLength(1);
    expect(inputs(tokens[0]).policies).toEqual(dnsEditPolicies(zoneIdOf(stack)));
    expect(inputs(tokens[0]).name).toBe(`diaspomoney-${stack}-cert-manager-dns01`);
  });

  it("owns the zone's settings, cache rules and WAF in prod only", async () => {
    const plan = await cachedPlan(stack);
    const settings = ofType(plan, "cloudflare:index/zoneSetting:ZoneSetting").map(inputs);
    const phases = ofType(plan, "cloudflare:index/ruleset:Ruleset").map((r) => inputs(r).phase).sort();
    if (stack !== "prod") {
      expect(settings).toEqual([]);
      expect(phases).toEqual([]);
      return;
    }
    expect(Object.fromEntries(settings.map((s) => [s.settingId, s.value]))).toEqual(zoneSettings("1.3"));
    expect(phases).toEqual(["http_ratelimit", "http_request_cache_settings", "http_request_firewall_managed"]);
    const waf = ofType(plan, "cloudflare:index/ruleset:Ruleset").find((r) => inputs(r).phase === "http_request_firewall_managed")!;
    // The OWASP ruleset twice: at high sensitivity on payments and transactions, at its default elsewhere.
    expect(inputs(waf).rules.map((r: any) => r.actionParameters.id)).toEqual([MANAGED_RULESETS.cloudflareManaged, MANAGED_RULESETS.owaspCore, MANAGED_RULESETS.owaspCore]);
  });

  it("protects records and zone resources where the stack protects its state", async () => {
    const plan = await cachedPlan(stack);
    const zoneLevel = plan.resources.filter((r) => /cloudflare:index\/(dnsRecord|zoneSetting|ruleset):/.test(r.type));
    expect(zoneLevel.length).toBeGreaterThan(0);
    for (const r of zoneLevel) expect([r.protect, r.retainOnDelete], r.urn).toEqual(stack === "prod" ? [true, true] : [false, false]);
  });
});

describe("zone settings from the spec", () => {
  it("default the minimum TLS version to 1.3 and accept only 1.2 or 1.3", () => {
    const input = structuredClone(environments.prod) as any;
    delete input.edge.minTlsVersion;
    expect(environmentSpecSchema.parse(input).edge.minTlsVersion).toBe("1.3");
    expect(environmentSpecSchema.safeParse({ ...input, edge: { ...input.edge, minTlsVersion: "1.2" } }).success).toBe(true);
    const old = environmentSpecSchema.safeParse({ ...input, edge: { ...input.edge, minTlsVersion: "1.1" } });
    expect(old.success).toBe(false);
    expect(old.error!.issues[0].path).toEqual(["edge", "minTlsVersion"]);
  });

  it("follow a change of the whole plan's Cloudflare config (zone id in records, token and settings)", async () => {
    const cloudflare = { ...JSON.parse(readStackConfigFile("prod").values["diaspomoney-platform:cloudflare"]), zoneId: "a".repeat(32) };
    const plan = await planStack("prod", { config: { cloudflare } });
    const zoneIds = new Set(plan.resources.filter((r) => r.type.startsWith("cloudflare:index/") && r.type !== "cloudflare:index/apiToken:ApiToken").map((r) => inputs(r).zoneId));
    expect([...zoneIds]).toEqual(["a".repeat(32)]);
    expect(JSON.parse(inputs(ofType(plan, "cloudflare:index/apiToken:ApiToken")[0]).policies[0].resources)).toEqual({
      [`com.cloudflare.api.account.zone.${"a".repeat(32)}`]: "*",
    });
  });
});
