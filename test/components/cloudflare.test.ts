import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import {
  cacheRules,
  CloudflareZone,
  DnsEditToken,
  dnsEditPolicies,
  MANAGED_RULESETS,
  managedWafRules,
  originRecord,
  PERMISSION_GROUPS,
  ProxiedRecords,
  zoneSettings,
} from "../../components/cloudflare";
import { inputs, ofType, planProgram } from "../harness";

const ZONE = "0123456789abcdef0123456789abcdef";

describe("the DNS-01 token policy", () => {
  it("allows DNS edit and zone read on exactly one zone", () => {
    const policies = dnsEditPolicies(ZONE);
    expect(policies).toHaveLength(1);
    expect(policies[0].effect).toBe("allow");
    expect(policies[0].permissionGroups.map((g) => g.id).sort()).toEqual([PERMISSION_GROUPS.dnsWrite, PERMISSION_GROUPS.zoneRead].sort());
    expect(JSON.parse(policies[0].resources)).toEqual({ [`com.cloudflare.api.account.zone.${ZONE}`]: "*" });
  });

  it("is created with that policy, and its value stays secret", async () => {
    const plan = await planProgram("dev", async () => {
      const t = new DnsEditToken("tok", { tokenName: "dns01", zoneId: ZONE });
      return { value: t.value };
    });
    const [token] = ofType(plan, "cloudflare:index/apiToken:ApiToken");
    expect(inputs(token)).toEqual({ name: "dns01", policies: dnsEditPolicies(ZONE) });
    expect(plan.outputs.value).toBe("[secret]");
    expect(JSON.stringify(plan)).not.toMatch(/fake-cloudflare-token/);
  });
});

describe("origin records", () => {
  it("are A for IPv4, AAAA for IPv6 and CNAME for a host name", () => {
    expect(originRecord({ ip: "192.0.2.7" })).toEqual({ type: "A", content: "192.0.2.7" });
    expect(originRecord({ ip: "2001:db8::7" })).toEqual({ type: "AAAA", content: "2001:db8::7" });
    expect(originRecord({ hostname: "lb-1.example.net" })).toEqual({ type: "CNAME", content: "lb-1.example.net" });
    expect(originRecord({ ip: "192.0.2.7", hostname: "lb-1.example.net" }).type).toBe("A");
  });

  it("are proxied, with automatic TTL, for every host", async () => {
    const plan = await planProgram("dev", async () => {
      new ProxiedRecords("dns", {
        zoneId: ZONE,
        hosts: { app: "shop.example.org", admin: "admin.example.org" },
        origin: pulumi.output({ hostname: "lb-1.example.net" }),
        comment: "test",
        retention: { protect: true, retainOnDelete: true },
      });
      return {};
    });
    const records = ofType(plan, "cloudflare:index/dnsRecord:DnsRecord");
    expect(records.map((r) => inputs(r).name).sort()).toEqual(["admin.example.org", "shop.example.org"]);
    for (const r of records) {
      expect(inputs(r)).toMatchObject({ zoneId: ZONE, type: "CNAME", content: "lb-1.example.net", proxied: true, ttl: 1 });
      expect([r.protect, r.retainOnDelete]).toEqual([true, true]);
    }
  });
});

describe("zone settings", () => {
  it("use the API's snake_case ids and values: strict origin TLS, TLS 1.3, HTTPS only, HSTS, no 0-RTT", () => {
    const s = zoneSettings("1.3");
    expect(s).toEqual({
      ssl: "strict",
      tls_1_3: "on",
      min_tls_version: "1.3",
      always_use_https: "on",
      "0rtt": "off",
      security_header: {
        strict_transport_security: { enabled: true, max_age: 31536000, include_subdomains: true, preload: true, nosniff: true },
      },
    });
    expect(zoneSettings("1.2").min_tls_version).toBe("1.2");
  });
});

describe("cache rules", () => {
  const rules = cacheRules({ staticPrefix: "/_next/static/", apiPrefix: "/api/", edgeTtlSeconds: 31536000 });

  it("cache Next.js build assets at the edge for a year", () => {
    const r = rules.find((x) => x.ref === "cache_next_static")!;
    expect(r.expression).toBe('starts_with(http.request.uri.path, "/_next/static/")');
    expect(r.action).toBe("set_cache_settings");
    expect(r.actionParameters).toMatchObject({ cache: true, edgeTtl: { mode: "override_origin", default: 31536000 } });
  });

  it("bypass the cache for the API, /api itself included", () => {
    const r = rules.find((x) => x.ref === "bypass_api")!;
    expect(r.expression).toBe('(http.request.uri.path eq "/api" or starts_with(http.request.uri.path, "/api/"))');
    expect(r.actionParameters).toEqual({ cache: false });
  });
});

describe("the managed WAF", () => {
  it("executes Cloudflare's managed ruleset and the OWASP core ruleset on every request", () => {
    const rules = managedWafRules();
    expect(rules.map((r) => [r.action, r.expression, (r.actionParameters as { id: string }).id])).toEqual([
      ["execute", "true", MANAGED_RULESETS.cloudflareManaged],
      ["execute", "true", MANAGED_RULESETS.owaspCore],
    ]);
    expect(MANAGED_RULESETS).toEqual({ cloudflareManaged: "efb7b8c949ac4650a09736fc376e9aee", owaspCore: "4814384a9e5d4991b9815dcfc25d2f1f" });
  });
});

describe("the zone component", () => {
  it("creates one resource per setting, the cache ruleset, and the WAF only when asked", async () => {
    const plan = await planProgram("dev", async () => {
      new CloudflareZone("with", { zoneId: ZONE, minTlsVersion: "1.3", waf: true });
      new CloudflareZone("without", { zoneId: "f".repeat(32), minTlsVersion: "1.2", waf: false });
      return {};
    });
    const settings = ofType(plan, "cloudflare:index/zoneSetting:ZoneSetting").filter((r) => inputs(r).zoneId === ZONE);
    expect(Object.fromEntries(settings.map((r) => [inputs(r).settingId, inputs(r).value]))).toEqual(zoneSettings("1.3"));
    const rulesets = ofType(plan, "cloudflare:index/ruleset:Ruleset").map((r) => [inputs(r).zoneId === ZONE ? "with" : "without", inputs(r).phase]);
    expect(rulesets.sort()).toEqual([
      ["with", "http_request_cache_settings"],
      ["with", "http_request_firewall_managed"],
      ["without", "http_request_cache_settings"],
    ]);
  });
});
