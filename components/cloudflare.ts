import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { ApiFamily } from "./api-families";

type RulesetRule = cloudflare.types.input.RulesetRule;

/** protect / retainOnDelete for resources whose loss is an outage (records, zone settings). */
export type Retention = Pick<pulumi.CustomResourceOptions, "protect" | "retainOnDelete">;

/**
 * Cloudflare's API token permission groups (stable ids, listed by the "List permission groups"
 * endpoint and https://developers.cloudflare.com/fundamentals/api/reference/permissions/). Constants
 * rather than a `getApiTokenPermissionGroupsList` lookup: a lookup runs at every preview and needs a
 * token allowed to list them.
 */
export const PERMISSION_GROUPS = {
  /** Zone → DNS → Edit. */
  dnsWrite: "4755a26eedb94da69e1066d98aa820be",
  /** Zone → Zone → Read: cert-manager looks the zone up by name. */
  zoneRead: "c8fed203ed3043cba015a93ad1616f1f",
} as const;

/** Cloudflare's managed WAF rulesets (phase http_request_firewall_managed). */
export const MANAGED_RULESETS = {
  cloudflareManaged: "efb7b8c949ac4650a09736fc376e9aee",
  owaspCore: "4814384a9e5d4991b9815dcfc25d2f1f",
} as const;

/**
 * The OWASP ruleset's last rule, "949110: Inbound Anomaly Score Exceeded": the one that blocks, at a
 * score threshold. Cloudflare's sensitivities: 60 low, 40 medium, 25 high.
 */
export const OWASP_ANOMALY_SCORE_RULE = "6179ae15870a4bb7b2d480d4843b323c";
export const OWASP_SCORE_THRESHOLD = { high: 25, medium: 40, low: 60 } as const;

/** A Rules-language expression matching `prefix` and everything below it (not `/api/authx`). */
export function pathExpression(prefix: string): string {
  return `(http.request.uri.path eq "${prefix}" or starts_with(http.request.uri.path, "${prefix}/"))`;
}

/** The token's policy: DNS edit and zone read on this one zone, nothing else. */
export function dnsEditPolicies(zoneId: string): { effect: string; permissionGroups: { id: string }[]; resources: string }[] {
  return [
    {
      effect: "allow",
      permissionGroups: [{ id: PERMISSION_GROUPS.dnsWrite }, { id: PERMISSION_GROUPS.zoneRead }],
      resources: JSON.stringify({ [`com.cloudflare.api.account.zone.${zoneId}`]: "*" }),
    },
  ];
}

export interface DnsEditTokenArgs {
  /** Token name, as shown in the Cloudflare dashboard. */
  tokenName: string;
  zoneId: pulumi.Input<string>;
}

/**
 * An API token that can only edit DNS records of one zone (for ACME DNS-01 challenges). Creating it
 * needs a provider token with "API Tokens Write"; replacing the resource rotates it.
 */
export class DnsEditToken extends pulumi.ComponentResource {
  /** The token (a Pulumi secret). */
  readonly value: pulumi.Output<string>;
  readonly tokenId: pulumi.Output<string>;

  constructor(name: string, args: DnsEditTokenArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:edge:CloudflareDnsToken", name, {}, opts);
    const token = new cloudflare.ApiToken(
      name,
      {
        name: args.tokenName,
        policies: pulumi.output(args.zoneId).apply(dnsEditPolicies),
      },
      { parent: this },
    );
    this.value = pulumi.secret(token.value);
    this.tokenId = token.id;
    this.registerOutputs({ tokenId: this.tokenId, tokenName: args.tokenName });
  }
}

/** An origin address: an IP (A or AAAA record) or a host name (CNAME). */
export interface OriginAddress {
  ip?: string;
  hostname?: string;
}

/** Record type and content pointing at `origin`. */
export function originRecord(origin: OriginAddress | undefined): { type: string; content: string | undefined } {
  if (origin?.ip) return { type: origin.ip.includes(":") ? "AAAA" : "A", content: origin.ip };
  return { type: "CNAME", content: origin?.hostname };
}

export interface ProxiedRecordsArgs {
  zoneId: pulumi.Input<string>;
  /** Host names, by short name. */
  hosts: Record<string, string>;
  /** Where they all point (unknown until the load balancer exists: records then wait for it). */
  origin: pulumi.Input<OriginAddress>;
  /** Shown in the dashboard: who owns the records. */
  comment: string;
  retention?: Retention;
}

/**
 * Proxied DNS records for an environment's hosts: visitors resolve to Cloudflare's edge (CDN, WAF, TLS),
 * never to the origin.
 */
export class ProxiedRecords extends pulumi.ComponentResource {
  readonly records: Record<string, cloudflare.DnsRecord>;

  constructor(name: string, args: ProxiedRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:edge:CloudflareRecords", name, {}, opts);
    const target = pulumi.output(args.origin).apply(originRecord);
    this.records = {};
    for (const [key, host] of Object.entries(args.hosts)) {
      this.records[key] = new cloudflare.DnsRecord(
        `${name}-${key}`,
        {
          zoneId: args.zoneId,
          name: host,
          type: target.type,
          content: target.content,
          proxied: true,
          // Proxied records have no TTL of their own: 1 means automatic.
          ttl: 1,
          comment: args.comment,
        },
        { parent: this, ...args.retention },
      );
    }
    this.registerOutputs({ hosts: args.hosts, recordIds: Object.fromEntries(Object.entries(this.records).map(([k, r]) => [k, r.id])) });
  }
}

/** Zone settings by Cloudflare's API id (snake_case, as the API and the `settingId` input expect). */
export function zoneSettings(minTlsVersion: string): Record<string, unknown> {
  return {
    ssl: "strict",
    tls_1_3: "on",
    min_tls_version: minTlsVersion,
    always_use_https: "on",
    // 0-RTT early data can be replayed: never for a payments site.
    "0rtt": "off",
    // Nested keys in snake_case, as the API takes them (pulumi-cloudflare#1579: camelCase never converges).
    security_header: {
      strict_transport_security: { enabled: true, max_age: 31536000, include_subdomains: true, preload: true, nosniff: true },
    },
  };
}

/** Cache rules: Next.js build assets (content-hashed) cached a year at the edge; the API never cached. */
export function cacheRules(opts: { staticPrefix: string; apiPrefix: string; edgeTtlSeconds: number }): RulesetRule[] {
  return [
    {
      ref: "cache_next_static",
      description: "Next.js build assets: immutable, cached at the edge",
      expression: `starts_with(http.request.uri.path, "${opts.staticPrefix}")`,
      action: "set_cache_settings",
      actionParameters: {
        cache: true,
        edgeTtl: { mode: "override_origin", default: opts.edgeTtlSeconds },
        browserTtl: { mode: "respect_origin" },
      },
      enabled: true,
    },
    {
      ref: "bypass_api",
      description: "API responses are per user: never cached",
      // The prefix itself too (`/api`), not only what is below it.
      expression: pathExpression(opts.apiPrefix.replace(/\/$/, "")),
      action: "set_cache_settings",
      actionParameters: { cache: false },
      enabled: true,
    },
  ];
}

/**
 * WAF: Cloudflare's managed ruleset on every request, then the OWASP core ruleset: at its highest
 * sensitivity (blocking from an anomaly score of 25) on the `strictPaths`, at its default elsewhere.
 */
export function managedWafRules(strictPaths: readonly string[] = []): RulesetRule[] {
  const strict = strictPaths.map(pathExpression).join(" or ");
  const owasp = (ref: string, description: string, expression: string, overrides?: RulesetRule["actionParameters"]): RulesetRule => ({
    ref,
    description,
    expression,
    action: "execute",
    actionParameters: { id: MANAGED_RULESETS.owaspCore, ...overrides },
    enabled: true,
  });
  return [
    {
      ref: "execute_cloudflare_managed",
      description: "Cloudflare Managed Ruleset",
      expression: "true",
      action: "execute",
      actionParameters: { id: MANAGED_RULESETS.cloudflareManaged },
      enabled: true,
    },
    ...(strict
      ? [
          owasp("execute_owasp_core_strict", `Cloudflare OWASP Core Ruleset, high sensitivity: ${strictPaths.join(", ")}`, strict, {
            overrides: { rules: [{ id: OWASP_ANOMALY_SCORE_RULE, action: "block", scoreThreshold: OWASP_SCORE_THRESHOLD.high }] },
          }),
        ]
      : []),
    owasp("execute_owasp_core", "Cloudflare OWASP Core Ruleset", strict ? `not (${strict})` : "true"),
  ];
}

/**
 * Brute-force guards (phase http_ratelimit): a client (by address, per Cloudflare data centre) that
 * gets more than `failures` 401, 403 or 429 answers from a family within the period is blocked for
 * `blockSeconds`. Counting on the response needs a Business plan or above.
 */
export function bruteForceRules(families: readonly ApiFamily[]): RulesetRule[] {
  return families.flatMap((f) => {
    const b = f.edge.bruteForce;
    if (!b) return [];
    const path = pathExpression(f.pathPrefix);
    return [
      {
        ref: `brute_force_${f.name}`,
        description: `Brute force on ${f.pathPrefix}: more than ${b.failures} failed attempts in ${b.periodSeconds} s blocks the client ${b.blockSeconds} s`,
        expression: path,
        action: "block",
        ratelimit: {
          characteristics: ["cf.colo.id", "ip.src"],
          period: b.periodSeconds,
          requestsPerPeriod: b.failures,
          mitigationTimeout: b.blockSeconds,
          countingExpression: `${path} and http.response.code in {401 403 429}`,
        },
        enabled: true,
      },
    ];
  });
}

export interface CloudflareZoneArgs {
  zoneId: pulumi.Input<string>;
  /** Lowest TLS version accepted from visitors: "1.2" or "1.3". */
  minTlsVersion: string;
  /** Execute the managed WAF rulesets (a Pro plan or above). */
  waf: boolean;
  /** Path prefixes of the cache rules. Default Next.js's `/_next/static/` and `/api/`, one year at the edge. */
  cache?: { staticPrefix: string; apiPrefix: string; edgeTtlSeconds: number };
  /**
   * API families: those with `strictWaf` get the OWASP ruleset at high sensitivity (with `waf`), those
   * with `bruteForce` a rate-limiting rule on failed attempts.
   */
  apiFamilies?: readonly ApiFamily[];
  retention?: Retention;
}

/**
 * The zone-wide configuration: TLS (strict origin validation, TLS 1.3, minimum version, HTTPS only,
 * HSTS, no 0-RTT), cache rules and the managed WAF. A zone has one entry-point ruleset per phase and
 * one value per setting: exactly one stack may own this component.
 */
export class CloudflareZone extends pulumi.ComponentResource {
  constructor(name: string, args: CloudflareZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    super("diaspomoney:edge:CloudflareZone", name, {}, opts);
    const child = { parent: this, ...args.retention };
    const settings = zoneSettings(args.minTlsVersion);
    for (const [settingId, value] of Object.entries(settings)) {
      new cloudflare.ZoneSetting(`${name}-${settingId.replace(/_/g, "-")}`, { zoneId: args.zoneId, settingId, value }, child);
    }
    new cloudflare.Ruleset(
      `${name}-cache`,
      {
        zoneId: args.zoneId,
        kind: "zone",
        phase: "http_request_cache_settings",
        name: "Cache rules",
        description: "Managed by Pulumi (DiaspoMoney edge)",
        rules: cacheRules(args.cache ?? { staticPrefix: "/_next/static/", apiPrefix: "/api/", edgeTtlSeconds: 31536000 }),
      },
      child,
    );
    if (args.waf) {
      new cloudflare.Ruleset(
        `${name}-waf`,
        {
          zoneId: args.zoneId,
          kind: "zone",
          phase: "http_request_firewall_managed",
          name: "Managed WAF",
          description: "Managed by Pulumi (DiaspoMoney edge)",
          rules: managedWafRules((args.apiFamilies ?? []).filter((f) => f.edge.strictWaf).map((f) => f.pathPrefix)),
        },
        child,
      );
    }
    const guards = bruteForceRules(args.apiFamilies ?? []);
    if (guards.length > 0) {
      new cloudflare.Ruleset(
        `${name}-rate-limits`,
        {
          zoneId: args.zoneId,
          kind: "zone",
          phase: "http_ratelimit",
          name: "Rate limiting rules",
          description: "Managed by Pulumi (DiaspoMoney edge)",
          rules: guards,
        },
        child,
      );
    }
    this.registerOutputs({ settings, waf: args.waf, bruteForceGuards: guards.map((g) => g.ref) });
  }
}
