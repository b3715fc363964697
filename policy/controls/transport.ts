/**
 * Transport and edge controls: TLS floors at every hop (Cloudflare, Traefik, Atlas, in-cluster data
 * services), no plain-HTTP route, authenticated data services and admin endpoints, the WAF.
 */
import { resourceControl, stackControl, type Subject, subjectOf, stackAnchor } from "../lib/control";
import { GDPR, PCI } from "../lib/frameworks";
import { asArray, get, isObject, k8sName, namespaceOf, T } from "../lib/k8s";

function isTraefikChart(s: Subject): boolean {
  return (s.type === T.helmChart || s.type === T.helmRelease) && String(s.props?.chart ?? s.props?.name ?? "").split("/").pop() === "traefik";
}

export const traefikMinimumTls13 = stackControl({
  name: "traefik-minimum-tls13",
  description:
    "Where Traefik serves the stack, its default TLSOption requires TLS 1.3 with strict SNI, and no TLSOption allows less than TLS 1.3.",
  severity: "high",
  refs: [PCI.strongCryptoInTransit, PCI.authFactorsProtected, GDPR.encryption],
  remediation: "Create a traefik.io TLSOption named default with minVersion: VersionTLS13 and sniStrict: true; raise every other TLSOption to VersionTLS13.",
  check: (resources, f) => {
    const all = resources.map(subjectOf);
    const options = all.filter((r) => r.type === T.tlsOption);
    const charts = all.filter(isTraefikChart);
    const routes = all.filter((r) => r.type === T.ingressRoute);
    if (options.length === 0 && charts.length === 0 && routes.length === 0) return { notApplicable: "the stack deploys no Traefik" };
    for (const o of options) {
      const v = o.props?.spec?.minVersion;
      f.expect(v === "VersionTLS13", o, "spec.minVersion", v, "TLSOptions must require VersionTLS13 (the seed's floor; PCI requires at least TLS 1.2)");
    }
    // The chart can declare TLSOptions in its values instead of as resources.
    const fromValues = charts.flatMap((c) => Object.entries(get(c.props, "values.tlsOptions") ?? {}).map(([name, o]) => ({ chart: c, name, o: o as any })));
    for (const { chart, name, o } of fromValues)
      f.expect(o?.minVersion === "VersionTLS13", chart, `values.tlsOptions.${name}.minVersion`, o?.minVersion, "TLSOptions must require VersionTLS13");
    const def = options.find((o) => k8sName(o) === "default");
    const defValues = fromValues.find((x) => x.name === "default");
    if (def) f.expect(def.props?.spec?.sniStrict === true, def, "spec.sniStrict", def.props?.spec?.sniStrict, "the default TLSOption must set sniStrict: true (no certificate for unknown names)");
    else if (defValues) f.expect(defValues.o?.sniStrict === true, defValues.chart, "values.tlsOptions.default.sniStrict", defValues.o?.sniStrict, "the default TLSOption must set sniStrict: true");
    else {
      const where = charts[0] ?? routes[0];
      f.fail(where, "TLSOption default", undefined, "a TLSOption named default with minVersion VersionTLS13 must exist (otherwise Traefik accepts TLS 1.2)");
    }
    for (const r of routes) {
      const ref = r.props?.spec?.tls?.options;
      if (ref?.name && ref.name !== "default") {
        const o = options.find((x) => k8sName(x) === ref.name && (ref.namespace === undefined || namespaceOf(x) === ref.namespace));
        f.expect(!!o, r, "spec.tls.options", ref, "the route references a TLSOption the stack does not declare");
      }
    }
  },
});

function redirectsToHttps(values: any): { ok: boolean; where: string; value: unknown } {
  const web = values?.ports?.web;
  if (web?.expose?.default === false || web?.expose === false) return { ok: true, where: "values.ports.web.expose", value: web.expose };
  const candidates: [string, unknown][] = [
    ["values.ports.web.http.redirections.entryPoint", web?.http?.redirections?.entryPoint],
    ["values.ports.web.redirections.entryPoint", web?.redirections?.entryPoint],
    ["values.ports.web.redirectTo", web?.redirectTo],
  ];
  for (const [where, v] of candidates) {
    if (!isObject(v)) continue;
    const to = (v as any).to ?? (v as any).port;
    const permanent = (v as any).permanent;
    return { ok: to === "websecure" && permanent !== false, where, value: v };
  }
  const args = asArray<string>(values?.additionalArguments).find((a) => /--entry[pP]oints\.web\.http\.redirections\.entry[pP]oint\.to=websecure/.test(a));
  if (args) return { ok: true, where: "values.additionalArguments", value: args };
  return { ok: false, where: "values.ports.web.http.redirections.entryPoint", value: undefined };
}

export const noPlainHttpRoutes = resourceControl({
  name: "no-plain-http-routes",
  description:
    "No route is served over plain HTTP: IngressRoutes name the websecure entry point only and carry TLS; Traefik's web entry point only redirects permanently to HTTPS; Ingresses carry TLS.",
  severity: "high",
  refs: [PCI.strongCryptoInTransit, PCI.adminEncrypted, GDPR.encryption],
  remediation: "Set spec.entryPoints: [websecure] and spec.tls on every IngressRoute; set ports.web.http.redirections.entryPoint {to: websecure, scheme: https, permanent: true} in the Traefik chart values.",
  appliesTo: (s) => s.type === T.ingressRoute || s.type === T.ingress || isTraefikChart(s),
  scope: "IngressRoute, Ingress, the Traefik chart",
  check: (s, f) => {
    const spec = s.props?.spec ?? {};
    if (s.type === T.ingressRoute) {
      const eps = asArray<string>(spec.entryPoints);
      // No entryPoints means every entry point, the plain-HTTP one included.
      f.expect(eps.length > 0 && !eps.includes("web"), s, "spec.entryPoints", spec.entryPoints, "routes must name the websecure entry point only (never web, never all)");
      f.expect(isObject(spec.tls), s, "spec.tls", spec.tls, "routes must terminate TLS");
    } else if (s.type === T.ingress) {
      f.expect(asArray(spec.tls).length > 0, s, "spec.tls", spec.tls, "Ingresses must terminate TLS");
    } else {
      const r = redirectsToHttps(s.props?.values);
      f.expect(r.ok, s, r.where, r.value, "Traefik's web entry point must redirect permanently to websecure (https)");
    }
  },
});

/** The value of a Cloudflare zone setting, whichever way the program spelled it. */
function zoneSettingValue(s: Subject): unknown {
  return s.props?.value;
}

const ZONE_REQUIREMENTS: { id: string; ok: (v: any) => boolean; requirement: string }[] = [
  { id: "ssl", ok: (v) => v === "strict", requirement: 'SSL mode must be "strict" (Cloudflare validates the origin certificate)' },
  { id: "min_tls_version", ok: (v) => v === "1.2" || v === "1.3", requirement: "minimum TLS version must be 1.2 or 1.3" },
  { id: "tls_1_3", ok: (v) => v === "on" || v === "zrt", requirement: "TLS 1.3 must be on" },
  { id: "always_use_https", ok: (v) => v === "on", requirement: "always use HTTPS must be on" },
  {
    id: "security_header",
    ok: (v) => {
      const hsts = v?.strict_transport_security ?? v?.strictTransportSecurity;
      const maxAge = Number(hsts?.max_age ?? hsts?.maxAge);
      return hsts?.enabled === true && maxAge >= 31_536_000 && (hsts?.include_subdomains ?? hsts?.includeSubdomains) === true;
    },
    requirement: "HSTS must be enabled with max_age >= 31536000 (one year) and include_subdomains",
  },
];

export const cloudflareZoneTls = stackControl({
  name: "cloudflare-zone-tls",
  description:
    "In the stack that manages the Cloudflare zone: SSL strict, minimum TLS 1.2 or higher, TLS 1.3 on, HTTPS always, HSTS for a year with subdomains, 0-RTT off.",
  severity: "high",
  refs: [PCI.strongCryptoInTransit, GDPR.encryption, GDPR.integrity],
  remediation: "Declare cloudflare.ZoneSetting resources ssl=strict, min_tls_version=1.3 (or 1.2), tls_1_3=on, always_use_https=on, security_header with HSTS, 0rtt=off.",
  settings: ["managesZone"],
  check: (resources, f, settings) => {
    const all = resources.map(subjectOf);
    const zs = all.filter((r) => r.type === T.cloudflareZoneSetting);
    if (zs.length === 0 && !settings.managesZone) return { notApplicable: "the zone settings belong to another stack" };
    const anchor = zs[0] ?? stackAnchor(all);
    for (const req of ZONE_REQUIREMENTS) {
      const found = zs.filter((z) => z.props?.settingId === req.id);
      if (found.length === 0) f.fail(anchor, `ZoneSetting ${req.id}`, undefined, `the zone setting ${req.id} must be managed: ${req.requirement}`);
      for (const z of found) f.expect(req.ok(zoneSettingValue(z)), z, `value (${req.id})`, zoneSettingValue(z), req.requirement);
    }
    for (const z of zs.filter((x) => x.props?.settingId === "0rtt"))
      f.expect(zoneSettingValue(z) === "off", z, "value (0rtt)", zoneSettingValue(z), "0-RTT must be off (replayable early data)");
  },
});

const ATLAS_TLS = new Set(["TLS1_2", "TLS1_3"]);

export const atlasMinimumTls = resourceControl({
  name: "atlas-minimum-tls",
  description: "Every Atlas cluster sets its minimum TLS protocol explicitly to TLS 1.2 or higher.",
  severity: "high",
  refs: [PCI.strongCryptoInTransit, GDPR.encryption],
  remediation: "Set advancedConfiguration.minimumEnabledTlsProtocol: TLS1_2 (or TLS1_3) on the Atlas cluster.",
  appliesTo: [T.atlasAdvancedCluster, T.atlasCluster],
  check: (s, f) => {
    const v = s.props?.advancedConfiguration?.minimumEnabledTlsProtocol;
    f.expect(ATLAS_TLS.has(v), s, "advancedConfiguration.minimumEnabledTlsProtocol", v, "the minimum TLS protocol must be TLS1_2 or TLS1_3");
  },
});

export const internalTransportEncrypted = resourceControl({
  name: "internal-transport-encrypted",
  description:
    "Data services encrypt in transit inside the cluster too: Kafka listeners use TLS, MongoDB requires TLS, backups travel over HTTPS with certificate verification.",
  severity: "high",
  refs: [PCI.strongCryptoInTransit, PCI.authFactorsProtected, GDPR.encryption],
  remediation: "Set tls: true on every Strimzi listener; tls.mode: requireTLS on PerconaServerMongoDB (no unsafeFlags.tls); https:// backup endpoints without insecureSkipTLSVerify.",
  appliesTo: [T.kafka, T.psmdb],
  check: (s, f) => {
    const spec = s.props?.spec ?? {};
    if (s.type === T.kafka) {
      const listeners = asArray(spec.kafka?.listeners);
      if (listeners.length === 0) f.fail(s, "spec.kafka.listeners", spec.kafka?.listeners, "Kafka must declare its listeners");
      listeners.forEach((l: any, i: number) => f.expect(l?.tls === true, s, `spec.kafka.listeners[${i}].tls`, l?.tls, `listener ${l?.name ?? i} must use TLS`));
      return;
    }
    f.expect(spec.tls?.mode === "requireTLS", s, "spec.tls.mode", spec.tls?.mode, "MongoDB must require TLS (requireTLS)");
    if (spec.unsafeFlags?.tls !== undefined) f.expect(spec.unsafeFlags.tls !== true, s, "spec.unsafeFlags.tls", spec.unsafeFlags.tls, "the unsafe TLS flag must not be set");
    for (const [name, st] of Object.entries(spec.backup?.storages ?? {})) {
      const s3 = (st as any)?.s3;
      if (!s3) continue;
      const url = s3.endpointUrl;
      f.expect(url === undefined || (typeof url === "string" && url.startsWith("https://")), s, `spec.backup.storages.${name}.s3.endpointUrl`, url, "backups must travel over HTTPS");
      if (s3.insecureSkipTLSVerify !== undefined) f.expect(s3.insecureSkipTLSVerify !== true, s, `spec.backup.storages.${name}.s3.insecureSkipTLSVerify`, s3.insecureSkipTLSVerify, "backup endpoints' certificates must be verified");
    }
  },
});

const KAFKA_AUTHN = new Set(["scram-sha-512", "tls", "oauth", "custom"]);

export const dataServicesAuthenticated = resourceControl({
  name: "data-services-authenticated",
  description:
    "Every data service requires authentication and authorisation: Kafka listeners authenticate (SCRAM-SHA-512 or mTLS) with ACL authorisation, Redis has a password Secret, MongoDB users come from a Secret.",
  severity: "high",
  refs: [PCI.authRequired, PCI.leastPrivilege, GDPR.integrity],
  remediation: "Set authentication on every Strimzi listener and spec.kafka.authorization.type: simple; kubernetesConfig.redisSecret on RedisCluster; spec.secrets.users on PerconaServerMongoDB.",
  appliesTo: [T.kafka, T.redisCluster, T.psmdb],
  check: (s, f) => {
    const spec = s.props?.spec ?? {};
    if (s.type === T.kafka) {
      asArray(spec.kafka?.listeners).forEach((l: any, i: number) =>
        f.expect(KAFKA_AUTHN.has(l?.authentication?.type), s, `spec.kafka.listeners[${i}].authentication.type`, l?.authentication?.type, `listener ${l?.name ?? i} must authenticate clients`),
      );
      f.expect(typeof spec.kafka?.authorization?.type === "string", s, "spec.kafka.authorization.type", spec.kafka?.authorization?.type, "Kafka must authorise clients (ACLs)");
    } else if (s.type === T.redisCluster) {
      const secret = spec.kubernetesConfig?.redisSecret;
      f.expect(typeof secret?.name === "string" && typeof secret?.key === "string", s, "spec.kubernetesConfig.redisSecret", secret, "Redis must require a password kept in a Secret");
    } else {
      f.expect(typeof spec.secrets?.users === "string" && spec.secrets.users !== "", s, "spec.secrets.users", spec.secrets?.users, "MongoDB system users must come from a named Secret");
    }
  },
});

function middlewareAuthenticates(m: Subject | undefined): boolean {
  const spec = m?.props?.spec ?? {};
  return isObject(spec.basicAuth) || isObject(spec.forwardAuth) || isObject(spec.digestAuth);
}

const ADMIN_BACKENDS = /prometheus|alertmanager/i;

export const adminEndpointsAuthenticated = stackControl({
  name: "admin-endpoints-authenticated",
  description: "Routes to Prometheus and Alertmanager, which have no authentication of their own, pass through an authenticating middleware (basicAuth or forwardAuth).",
  severity: "high",
  refs: [PCI.authRequired, PCI.leastPrivilege, GDPR.integrity],
  remediation: "Attach a Traefik Middleware with basicAuth (users from a Secret) or forwardAuth to every route whose backend is Prometheus or Alertmanager.",
  check: (resources, f) => {
    const all = resources.map(subjectOf);
    const middlewares = all.filter((r) => r.type === T.middleware);
    let inScope = 0;
    for (const r of all.filter((x) => x.type === T.ingressRoute)) {
      asArray(r.props?.spec?.routes).forEach((route: any, i: number) => {
        const backends = asArray(route?.services).map((svc: any) => String(svc?.name ?? ""));
        if (!backends.some((b) => ADMIN_BACKENDS.test(b)) && !ADMIN_BACKENDS.test(String(route?.match ?? ""))) return;
        inScope++;
        const names = asArray(route?.middlewares).map((m: any) => ({ name: m?.name, namespace: m?.namespace ?? namespaceOf(r) }));
        const auth = names.find((m) => middlewareAuthenticates(middlewares.find((x) => k8sName(x) === m.name && namespaceOf(x) === m.namespace)));
        f.expect(!!auth, r, `spec.routes[${i}].middlewares`, names.length ? names : undefined, `the route to ${backends.join(", ")} must pass through an authenticating middleware`);
      });
    }
    if (inScope === 0) return { notApplicable: "the stack routes to no Prometheus or Alertmanager" };
  },
});

const MANAGED_RULESETS: Record<string, string> = {
  efb7b8c949ac4650a09736fc376e9aee: "Cloudflare Managed Ruleset",
  "4814384a9e5d4991b9815dcfc25d2f1f": "Cloudflare OWASP Core Ruleset",
};

function executedRulesets(s: Subject): string[] {
  return asArray(s.props?.rules)
    .filter((r: any) => r?.action === "execute" && r?.enabled !== false)
    .map((r: any) => String(r?.actionParameters?.id ?? r?.action_parameters?.id ?? ""));
}

export const wafManagedRulesets = stackControl({
  name: "waf-managed-rulesets",
  description: "Where the stack owns the WAF, Cloudflare's managed ruleset and the OWASP core ruleset are executed on the zone's managed firewall phase.",
  severity: "high",
  refs: [PCI.webAttacks, GDPR.integrity],
  remediation: "Declare a cloudflare.Ruleset (kind zone, phase http_request_firewall_managed) executing rulesets efb7b8c949ac4650a09736fc376e9aee and 4814384a9e5d4991b9815dcfc25d2f1f.",
  settings: ["waf"],
  check: (resources, f, settings) => {
    const all = resources.map(subjectOf);
    const rulesets = all.filter((r) => r.type === T.cloudflareRuleset && r.props?.phase === "http_request_firewall_managed");
    if (rulesets.length === 0 && !settings.waf) return { notApplicable: "the WAF is not managed by this stack" };
    const executed = new Set(rulesets.flatMap(executedRulesets));
    const anchor = rulesets[0] ?? stackAnchor(all);
    for (const [id, label] of Object.entries(MANAGED_RULESETS))
      f.expect(executed.has(id), anchor, `rules[].actionParameters.id (${label})`, executed.has(id) ? id : undefined, `the ${label} must be executed on the zone`);
  },
});

export const transportControls = [traefikMinimumTls13, noPlainHttpRoutes, cloudflareZoneTls, atlasMinimumTls, internalTransportEncrypted, dataServicesAuthenticated, adminEndpointsAuthenticated, wafManagedRulesets];

