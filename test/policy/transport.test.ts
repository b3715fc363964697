import { describe, expect, it } from "vitest";
import {
  adminEndpointsAuthenticated,
  atlasMinimumTls,
  cloudflareZoneTls,
  dataServicesAuthenticated,
  internalTransportEncrypted,
  noPlainHttpRoutes,
  traefikMinimumTls13,
  wafManagedRulesets,
} from "../../policy/controls/transport";
import { ACCEPTANCE, evaluate, k8s, messages, PROD } from "./harness";

const NS = "diaspomoney-prod";
const tlsOption = (name: string, spec: object) => k8s("kubernetes:traefik.io/v1alpha1:TLSOption", name, NS, { spec });
const route = (name: string, spec: object) => k8s("kubernetes:traefik.io/v1alpha1:IngressRoute", name, NS, { spec });
const traefikChart = (values: object) => ({ type: "kubernetes:helm.sh/v4:Chart", name: "traefik", inputs: { chart: "traefik", version: "41.3.0", values } });

describe("traefik-minimum-tls13", () => {
  it("passes a default TLSOption at TLS 1.3 with strict SNI", async () => {
    const r = await evaluate(traefikMinimumTls13, [tlsOption("default", { minVersion: "VersionTLS13", sniStrict: true }), route("app", { entryPoints: ["websecure"], routes: [], tls: {} })]);
    expect(r.status).toBe("pass");
  });

  it("fails TLS 1.2, a missing default, and a route pointing at an undeclared option", async () => {
    const weak = await evaluate(traefikMinimumTls13, [tlsOption("default", { minVersion: "VersionTLS12", sniStrict: true })]);
    expect(messages(weak)).toEqual([expect.stringMatching(/^TLSOption diaspomoney-prod\/default: spec\.minVersion is "VersionTLS12"; TLSOptions must require VersionTLS13 .*\[PCI-DSS 4\.2\.1/)]);
    const none = await evaluate(traefikMinimumTls13, [route("app", { entryPoints: ["websecure"], tls: { options: { name: "legacy" } } })]);
    expect(messages(none)).toEqual([
      expect.stringContaining("IngressRoute diaspomoney-prod/app: TLSOption default is (not set); a TLSOption named default with minVersion VersionTLS13 must exist"),
      expect.stringContaining('spec.tls.options is {"name":"legacy"}; the route references a TLSOption the stack does not declare'),
    ]);
  });

  it("accepts the default option declared in the chart's values", async () => {
    const r = await evaluate(traefikMinimumTls13, [traefikChart({ tlsOptions: { default: { minVersion: "VersionTLS13", sniStrict: true } } })]);
    expect(r.status).toBe("pass");
  });

  it("does not apply to a stack without Traefik", async () => {
    expect((await evaluate(traefikMinimumTls13, [])).status).toBe("not-applicable");
  });
});

describe("no-plain-http-routes", () => {
  it("passes websecure routes with TLS and a chart redirecting web to websecure", async () => {
    const redirect = { ports: { web: { http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } } } } };
    const r = await evaluate(noPlainHttpRoutes, [route("app", { entryPoints: ["websecure"], tls: { secretName: "app-tls" } }), traefikChart(redirect)]);
    expect(r.status).toBe("pass");
  });

  it("fails a route on web, a route on every entry point, a route without TLS and a chart without redirect", async () => {
    const r = await evaluate(noPlainHttpRoutes, [route("plain", { entryPoints: ["web"], tls: {} }), route("all", { tls: {} }), route("notls", { entryPoints: ["websecure"] }), traefikChart({})]);
    expect(messages(r)).toEqual([
      expect.stringContaining('IngressRoute diaspomoney-prod/plain: spec.entryPoints is ["web"]; routes must name the websecure entry point only'),
      expect.stringContaining("IngressRoute diaspomoney-prod/all: spec.entryPoints is (not set)"),
      expect.stringContaining("IngressRoute diaspomoney-prod/notls: spec.tls is (not set); routes must terminate TLS"),
      expect.stringContaining('Chart "traefik": values.ports.web.http.redirections.entryPoint is (not set); Traefik\'s web entry point must redirect permanently to websecure'),
    ]);
  });
});

const zoneSetting = (settingId: string, value: unknown) => ({ type: "cloudflare:index/zoneSetting:ZoneSetting", name: `zone-${settingId}`, inputs: { zoneId: "z", settingId, value } });
const strictZone = [
  zoneSetting("ssl", "strict"),
  zoneSetting("min_tls_version", "1.3"),
  zoneSetting("tls_1_3", "on"),
  zoneSetting("always_use_https", "on"),
  zoneSetting("0rtt", "off"),
  zoneSetting("security_header", { strict_transport_security: { enabled: true, max_age: 31536000, include_subdomains: true, preload: true, nosniff: true } }),
];

describe("cloudflare-zone-tls", () => {
  it("passes strict zone settings", async () => {
    expect((await evaluate(cloudflareZoneTls, strictZone, PROD)).status).toBe("pass");
  });

  it("fails flexible SSL, TLS 1.0, short HSTS, 0-RTT, and missing settings in the zone-owning stack", async () => {
    const r = await evaluate(cloudflareZoneTls, [zoneSetting("ssl", "flexible"), zoneSetting("min_tls_version", "1.0"), zoneSetting("0rtt", "on"), zoneSetting("security_header", { strict_transport_security: { enabled: true, max_age: 3600 } })], PROD);
    expect(messages(r)).toEqual([
      expect.stringContaining('ZoneSetting "zone-ssl": value (ssl) is "flexible"; SSL mode must be "strict"'),
      expect.stringContaining('ZoneSetting "zone-min_tls_version": value (min_tls_version) is "1.0"; minimum TLS version must be 1.2 or 1.3'),
      expect.stringContaining("ZoneSetting tls_1_3 is (not set); the zone setting tls_1_3 must be managed"),
      expect.stringContaining("ZoneSetting always_use_https is (not set)"),
      expect.stringContaining("HSTS must be enabled with max_age >= 31536000"),
      expect.stringContaining('value (0rtt) is "on"; 0-RTT must be off'),
    ]);
  });

  it("does not apply to stacks that leave the zone to another stack", async () => {
    expect((await evaluate(cloudflareZoneTls, [], ACCEPTANCE)).status).toBe("not-applicable");
  });
});

describe("atlas-minimum-tls", () => {
  const cluster = (tls?: string) => ({ type: "mongodbatlas:index/advancedCluster:AdvancedCluster", name: "atlas-cluster", inputs: { projectId: "p", clusterType: "REPLICASET", replicationSpecs: [], ...(tls ? { advancedConfiguration: { minimumEnabledTlsProtocol: tls } } : {}) } });
  it("passes TLS 1.2 and fails TLS 1.0 or an implicit setting", async () => {
    expect((await evaluate(atlasMinimumTls, [cluster("TLS1_2")])).status).toBe("pass");
    expect(messages(await evaluate(atlasMinimumTls, [cluster("TLS1_0")]))).toEqual([expect.stringContaining('AdvancedCluster "atlas-cluster": advancedConfiguration.minimumEnabledTlsProtocol is "TLS1_0"; the minimum TLS protocol must be TLS1_2 or TLS1_3')]);
    expect((await evaluate(atlasMinimumTls, [cluster()])).status).toBe("fail");
  });
});

const kafka = (listener: object, authorization?: object) =>
  k8s("kubernetes:kafka.strimzi.io/v1:Kafka", "kafka", "infra", { spec: { kafka: { listeners: [{ name: "tls", port: 9093, type: "internal", ...listener }], ...(authorization ? { authorization } : {}) } } });
const psmdb = (spec: object) => k8s("kubernetes:psmdb.percona.com/v1:PerconaServerMongoDB", "mongodb", "infra", { spec });

describe("internal-transport-encrypted", () => {
  it("passes TLS listeners, requireTLS MongoDB and HTTPS backups", async () => {
    const r = await evaluate(internalTransportEncrypted, [kafka({ tls: true }), psmdb({ tls: { mode: "requireTLS" }, backup: { storages: { s3: { type: "s3", s3: { endpointUrl: "https://s3.eu-west-3.amazonaws.com" } } } } })]);
    expect(r.status).toBe("pass");
  });

  it("fails a plaintext listener, preferTLS and an unverified plain-HTTP backup endpoint", async () => {
    const r = await evaluate(internalTransportEncrypted, [kafka({ tls: false }), psmdb({ tls: { mode: "preferTLS" }, backup: { storages: { s3: { type: "s3", s3: { endpointUrl: "http://minio:9000", insecureSkipTLSVerify: true } } } } })]);
    expect(messages(r)).toEqual([
      expect.stringContaining("Kafka infra/kafka: spec.kafka.listeners[0].tls is false; listener tls must use TLS"),
      expect.stringContaining('PerconaServerMongoDB infra/mongodb: spec.tls.mode is "preferTLS"; MongoDB must require TLS'),
      expect.stringContaining("backups must travel over HTTPS"),
      expect.stringContaining("backup endpoints' certificates must be verified"),
    ]);
  });
});

describe("data-services-authenticated", () => {
  const redis = (kubernetesConfig: object) => k8s("kubernetes:redis.redis.opstreelabs.in/v1beta2:RedisCluster", "redis", "infra", { spec: { kubernetesConfig } });
  it("passes SCRAM listeners with ACLs, a Redis password Secret and Percona users", async () => {
    const r = await evaluate(dataServicesAuthenticated, [kafka({ tls: true, authentication: { type: "scram-sha-512" } }, { type: "simple" }), redis({ redisSecret: { name: "redis-password", key: "password" } }), psmdb({ secrets: { users: "mongodb-users" } })]);
    expect(r.status).toBe("pass");
  });

  it("fails anonymous listeners, no authorisation, password-less Redis and MongoDB without users Secret", async () => {
    const r = await evaluate(dataServicesAuthenticated, [kafka({ tls: true }), redis({}), psmdb({})]);
    expect(messages(r)).toEqual([
      expect.stringContaining("Kafka infra/kafka: spec.kafka.listeners[0].authentication.type is (not set); listener tls must authenticate clients"),
      expect.stringContaining("spec.kafka.authorization.type is (not set); Kafka must authorise clients"),
      expect.stringContaining("RedisCluster infra/redis: spec.kubernetesConfig.redisSecret is (not set); Redis must require a password"),
      expect.stringContaining("PerconaServerMongoDB infra/mongodb: spec.secrets.users is (not set)"),
    ]);
  });
});

describe("admin-endpoints-authenticated", () => {
  const auth = k8s("kubernetes:traefik.io/v1alpha1:Middleware", "basic-auth", NS, { spec: { basicAuth: { secret: "monitoring-users" } } });
  const headers = k8s("kubernetes:traefik.io/v1alpha1:Middleware", "headers", NS, { spec: { headers: { frameDeny: true } } });
  const prometheus = (middlewares: object[]) => route("prometheus", { entryPoints: ["websecure"], tls: {}, routes: [{ match: "Host(`prometheus.diaspomoney.fr`)", kind: "Rule", services: [{ name: "monitoring-prometheus", port: 9090 }], middlewares }] });

  it("passes a Prometheus route through basicAuth", async () => {
    expect((await evaluate(adminEndpointsAuthenticated, [auth, headers, prometheus([{ name: "headers" }, { name: "basic-auth" }])])).status).toBe("pass");
  });

  it("fails a Prometheus route with only a headers middleware", async () => {
    const r = await evaluate(adminEndpointsAuthenticated, [auth, headers, prometheus([{ name: "headers" }])]);
    expect(messages(r)).toEqual([expect.stringContaining("IngressRoute diaspomoney-prod/prometheus: spec.routes[0].middlewares is [{\"name\":\"headers\",\"namespace\":\"diaspomoney-prod\"}]; the route to monitoring-prometheus must pass through an authenticating middleware")]);
  });
});

describe("waf-managed-rulesets", () => {
  const ruleset = (ids: string[]) => ({
    type: "cloudflare:index/ruleset:Ruleset",
    name: "zone-waf",
    inputs: { kind: "zone", phase: "http_request_firewall_managed", zoneId: "z", rules: ids.map((id) => ({ action: "execute", actionParameters: { id }, expression: "true", enabled: true })) },
  });
  it("passes both managed rulesets executed", async () => {
    expect((await evaluate(wafManagedRulesets, [ruleset(["efb7b8c949ac4650a09736fc376e9aee", "4814384a9e5d4991b9815dcfc25d2f1f"])], PROD)).status).toBe("pass");
  });

  it("fails a WAF without the OWASP ruleset, and a required WAF that is missing", async () => {
    expect(messages(await evaluate(wafManagedRulesets, [ruleset(["efb7b8c949ac4650a09736fc376e9aee"])], PROD))).toEqual([expect.stringContaining('Ruleset "zone-waf": rules[].actionParameters.id (Cloudflare OWASP Core Ruleset) is (not set); the Cloudflare OWASP Core Ruleset must be executed')]);
    expect((await evaluate(wafManagedRulesets, [], PROD)).violations).toHaveLength(2);
    expect((await evaluate(wafManagedRulesets, [], ACCEPTANCE)).status).toBe("not-applicable");
  });
});
