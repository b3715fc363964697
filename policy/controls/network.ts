/**
 * Network controls: default-deny in every namespace, a policy for every pod, Traefik as the only
 * entry point, nothing open to the whole internet.
 */
import { resourceControl, stackControl, type Findings, type Subject, subjectOf } from "../lib/control";
import { GDPR, PCI } from "../lib/frameworks";
import { asArray, get, isEmptySelector, isObject, k8sName, namespaceOf, operatorPods, podsOf, selectorMatches, T, walk, WORKLOAD_TYPES } from "../lib/k8s";
import { isNetwork, wholeInternetOf } from "../lib/net";

const TRAEFIK_NAME = "traefik";

function isTraefik(labels: Record<string, string> | undefined): boolean {
  return labels?.["app.kubernetes.io/name"] === TRAEFIK_NAME;
}

export const namespaceDefaultDeny = stackControl({
  name: "namespace-default-deny",
  description: "Every namespace the stack creates has a NetworkPolicy selecting all pods that denies all ingress and egress; everything else is an explicit opening.",
  severity: "high",
  refs: [PCI.inboundRestricted, PCI.outboundRestricted, PCI.nscConfig, GDPR.byDesign],
  remediation: "Create a NetworkPolicy with podSelector: {}, policyTypes: [Ingress, Egress] and no rules in the namespace (components/namespaces.ts SecureNamespace does).",
  check: (resources, f) => {
    const all = resources.map(subjectOf);
    const namespaces = all.filter((r) => r.type === T.namespace);
    if (namespaces.length === 0) return { notApplicable: "the stack creates no namespace" };
    const policies = all.filter((r) => r.type === T.networkPolicy);
    for (const ns of namespaces) {
      const name = k8sName(ns);
      const deny = policies.find((p) => {
        const spec = p.props?.spec ?? {};
        const types = asArray<string>(spec.policyTypes);
        return namespaceOf(p) === name && isEmptySelector(spec.podSelector) && types.includes("Ingress") && types.includes("Egress") && asArray(spec.ingress).length === 0 && asArray(spec.egress).length === 0;
      });
      f.expect(!!deny, ns, "NetworkPolicy (default deny)", deny ? `${name}/${k8sName(deny)}` : undefined, `namespace ${name} needs a default-deny NetworkPolicy for ingress and egress`);
    }
  },
});

/** Labels of the pods a workload or an operator resource creates. */
function podLabelSets(s: Subject): Record<string, string>[] {
  return podsOf(s)
    .filter((p) => !p.template)
    .map((p) => p.labels);
}

export const podsSelectedByNetworkPolicy = stackControl({
  name: "pods-selected-by-network-policy",
  description:
    "Every pod the stack declares (workloads and operator-managed pods) is selected by a NetworkPolicy written for it (a non-empty podSelector), so that its allowed traffic is declared and reviewed, not merely denied.",
  severity: "medium",
  refs: [PCI.portsApproved, PCI.inboundRestricted, PCI.outboundRestricted],
  remediation: "Add a NetworkPolicy in the pod's namespace whose podSelector matches the pod's labels and lists the ingress and egress it needs.",
  check: (resources, f) => {
    const all = resources.map(subjectOf);
    const policies = all.filter((r) => r.type === T.networkPolicy && !isEmptySelector(r.props?.spec?.podSelector));
    let inScope = 0;
    for (const s of all) {
      if (!WORKLOAD_TYPES.includes(s.type) && operatorPods(s).length === 0) continue;
      for (const labels of podLabelSets(s)) {
        inScope++;
        const np = policies.find((p) => namespaceOf(p) === namespaceOf(s) && selectorMatches(p.props?.spec?.podSelector, labels));
        f.expect(!!np, s, "selected by NetworkPolicy", np ? k8sName(np) : undefined, `no NetworkPolicy in ${namespaceOf(s) ?? "its namespace"} selects pods labelled ${JSON.stringify(labels)}`);
      }
    }
    if (inScope === 0) return { notApplicable: "the stack declares no pods" };
  },
});

function checkValuesForLoadBalancers(s: Subject, f: Findings, values: unknown): void {
  walk(values, (path, key, leaf) => {
    if ((key === "type" || key === "serviceType" || key === "exposeType") && (leaf === "LoadBalancer" || leaf === "NodePort"))
      f.fail(s, `values.${path}`, leaf, "only Traefik may be exposed as a LoadBalancer (and nothing as a NodePort)");
  });
}

export const onlyTraefikLoadBalancer = resourceControl({
  name: "only-traefik-load-balancer",
  description:
    "Traefik is the only way in: the only Service of type LoadBalancer is Traefik's; no NodePort; no operator exposes a database or broker outside the cluster.",
  severity: "high",
  refs: [PCI.untrustedInbound, PCI.storageNotExposed, PCI.inboundRestricted, GDPR.byDesign],
  remediation: "Use ClusterIP Services behind Traefik; keep Percona expose disabled or ClusterIP, Strimzi listeners internal, Redis services ClusterIP.",
  appliesTo: [T.service, T.helmChart, T.helmRelease, T.psmdb, T.kafka, T.redisCluster],
  check: (s, f) => {
    const p = s.props ?? {};
    switch (s.type) {
      case T.service: {
        const type = p.spec?.type ?? "ClusterIP";
        if (type === "LoadBalancer") f.expect(isTraefik(p.metadata?.labels), s, "spec.type", type, "only the Service labelled app.kubernetes.io/name=traefik may be a LoadBalancer");
        else f.expect(type !== "NodePort", s, "spec.type", type, "NodePort Services bypass the entry point");
        return;
      }
      case T.helmChart:
      case T.helmRelease: {
        const chart = String(p.chart ?? p.name ?? "");
        // The Traefik chart's Service is the entry point; its source ranges are checked by no-open-network-access.
        if (chart.split("/").pop() === TRAEFIK_NAME) f.pass(s, "chart", chart);
        else {
          const before = f.failed;
          checkValuesForLoadBalancers(s, f, p.values);
          if (f.failed === before) f.pass(s, "values (service types)", "no LoadBalancer or NodePort");
        }
        return;
      }
      case T.psmdb:
        asArray(p.spec?.replsets).forEach((rs: any, i: number) => {
          const e = rs?.expose;
          const type = e?.type ?? e?.exposeType ?? "ClusterIP";
          f.expect(!e?.enabled || type === "ClusterIP", s, `spec.replsets[${i}].expose`, e ?? { enabled: false }, "MongoDB must not be exposed outside the cluster");
        });
        return;
      case T.kafka:
        asArray(p.spec?.kafka?.listeners).forEach((l: any, i: number) =>
          f.expect(l?.type === "internal" || l?.type === "cluster-ip", s, `spec.kafka.listeners[${i}].type`, l?.type, "Kafka listeners must be internal (no loadbalancer, nodeport, ingress or route)"),
        );
        return;
      case T.redisCluster: {
        const type = p.spec?.kubernetesConfig?.service?.serviceType ?? "ClusterIP";
        f.expect(type === "ClusterIP", s, "spec.kubernetesConfig.service.serviceType", type, "Redis must not be exposed outside the cluster");
        return;
      }
    }
  },
});

function cidrsAt(values: unknown, key: string): { path: string; cidrs: unknown }[] {
  const found: { path: string; cidrs: unknown }[] = [];
  const visit = (v: unknown, path: string) => {
    if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${path}[${i}]`));
    else if (isObject(v))
      for (const [k, x] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        if (k === key) found.push({ path: p, cidrs: x });
        else visit(x, p);
      }
  };
  visit(values, "");
  return found;
}

/** A CIDR as a resource carries it, with where it is (`from[1].ipBlock.cidr`, `[0]`). */
interface Block {
  at: string;
  cidr: unknown;
}

const blocksOf = (cidrs: unknown[], at: (i: number) => string): Block[] => cidrs.map((cidr, i) => ({ at: at(i), cidr }));

/** The `ipBlock` CIDRs among a rule's peers (`from` or `to`). */
function ipBlocks(peers: unknown[], side: "from" | "to"): Block[] {
  return peers.flatMap((peer: any, j) => (peer?.ipBlock ? [{ at: `${side}[${j}].ipBlock.cidr`, cidr: peer.ipBlock.cidr }] : []));
}

/** The entries that are not networks, as a phrase naming where they are; undefined when all are. */
function notNetworks(blocks: Block[]): string | undefined {
  const invalid = blocks.filter((b) => !isNetwork(b.cidr)).map((b) => b.at);
  return invalid.length === 0 ? undefined : `${invalid.join(", ")} ${invalid.length === 1 ? "is not a network" : "are not networks"}`;
}

/** Why networks that must be bounded are not (not networks, or every address of a family in any spelling); undefined when they are. */
function unbounded(blocks: Block[]): string | undefined {
  const family = wholeInternetOf(blocks.map((b) => b.cidr));
  return notNetworks(blocks) ?? (family && `${blocks.length === 1 ? "it admits" : "together they admit"} every ${family} address`);
}

function checkRanges(s: Subject, f: Findings, path: string, ranges: unknown, what: string): void {
  const list = asArray<unknown>(ranges);
  const problem = list.length === 0 ? "none listed" : unbounded(blocksOf(list, (i) => `[${i}]`));
  f.expect(!problem, s, path, ranges, `${what} must list bounded source ranges, never the whole internet in any spelling (${problem})`);
}

export const noOpenNetworkAccess = resourceControl({
  name: "no-open-network-access",
  description:
    "Nothing accepts traffic from the whole internet, in any spelling (networks are parsed and their union compared: 1.2.3.4/0, ::ffff:0:0/96 or two halves count): the load balancer only from Cloudflare's ranges, Atlas only from its access list, and only Traefik's pods accept ingress from any address.",
  severity: "critical",
  refs: [PCI.untrustedInbound, PCI.inboundRestricted, PCI.storageNotExposed, GDPR.integrity],
  remediation: "Set loadBalancerSourceRanges to Cloudflare's published ranges; keep Atlas access lists to named networks; restrict NetworkPolicy ipBlocks.",
  appliesTo: [T.service, T.helmChart, T.helmRelease, T.atlasAccessList, T.networkPolicy, T.psmdb],
  check: (s, f) => {
    const p = s.props ?? {};
    switch (s.type) {
      case T.service:
        if ((p.spec?.type ?? "ClusterIP") === "LoadBalancer") checkRanges(s, f, "spec.loadBalancerSourceRanges", p.spec?.loadBalancerSourceRanges, "a LoadBalancer");
        else f.pass(s, "spec.type", p.spec?.type ?? "ClusterIP");
        return;
      case T.helmChart:
      case T.helmRelease: {
        const chart = String(p.chart ?? p.name ?? "");
        const found = cidrsAt(p.values, "loadBalancerSourceRanges");
        if (chart.split("/").pop() === TRAEFIK_NAME) {
          const type = get(p.values, "service.type") ?? "LoadBalancer";
          if (type !== "LoadBalancer" || get(p.values, "service.enabled") === false) f.pass(s, "values.service.type", type);
          else if (found.length === 0) f.fail(s, "values.service.loadBalancerSourceRanges", undefined, "Traefik's LoadBalancer must list bounded source ranges (Cloudflare's)");
          else found.forEach((x) => checkRanges(s, f, `values.${x.path}`, x.cidrs, "Traefik's LoadBalancer"));
        } else if (found.length > 0) found.forEach((x) => checkRanges(s, f, `values.${x.path}`, x.cidrs, "a LoadBalancer"));
        else f.pass(s, "values.loadBalancerSourceRanges", "(none)");
        return;
      }
      case T.atlasAccessList: {
        if (p.cidrBlock === undefined && p.ipAddress === undefined && typeof p.awsSecurityGroup === "string") {
          f.pass(s, "awsSecurityGroup", p.awsSecurityGroup);
          return;
        }
        const property = p.cidrBlock !== undefined ? "cidrBlock" : "ipAddress";
        const problem = unbounded(blocksOf([p[property]], () => "it"));
        f.expect(!problem, s, property, p[property], `the Atlas access list must never admit the whole internet, in any spelling${problem ? ` (${problem})` : ""}`);
        return;
      }
      case T.networkPolicy: {
        const traefik = isTraefik(p.spec?.podSelector?.matchLabels);
        const rules = asArray<any>(p.spec?.ingress);
        let openRule = false;
        rules.forEach((rule, i) => {
          const path = `spec.ingress[${i}].from`;
          const blocks = ipBlocks(asArray(rule?.from), "from");
          const invalid = notNetworks(blocks);
          const open = asArray(rule?.from).length === 0 || wholeInternetOf(blocks.map((b) => b.cidr)) !== undefined;
          openRule ||= open;
          if (invalid) f.fail(s, path, rule.from, `every ipBlock must name a network (${invalid})`);
          else if (open) f.expect(traefik, s, path, rule?.from ?? "(any source)", "only Traefik's pods may accept ingress from any address");
          else f.pass(s, path, rule.from);
        });
        // Rules add up: two halves of the internet in two rules admit it as surely as 0.0.0.0/0 in one.
        const together = wholeInternetOf(rules.flatMap((rule) => ipBlocks(asArray(rule?.from), "from").map((b) => b.cidr)));
        if (!openRule && together && !traefik) {
          f.fail(s, "spec.ingress", rules.map((rule) => rule?.from), `only Traefik's pods may accept ingress from any address: together the rules admit every ${together} address`);
        }
        if (rules.length === 0) f.pass(s, "spec.ingress", "(none)");
        return;
      }
      case T.psmdb:
        asArray(p.spec?.replsets).forEach((rs: any, i: number) => {
          if (rs?.expose?.enabled && (rs.expose.type ?? rs.expose.exposeType) === "LoadBalancer")
            checkRanges(s, f, `spec.replsets[${i}].expose.loadBalancerSourceRanges`, rs.expose.loadBalancerSourceRanges, "an exposed MongoDB");
          else f.pass(s, `spec.replsets[${i}].expose`, rs?.expose ?? { enabled: false });
        });
        return;
    }
  },
});

const CILIUM_NETWORK_POLICY = "kubernetes:cilium.io/v2:CiliumNetworkPolicy";
/** The API server's endpoint port: only API-server egress opens it (components/network.ts apiServerEgress). */
const API_SERVER_PORT = 6443;
const KUBELET_PORT = 10250;

/** Whether a NetworkPolicy rule's `ports` (absent: every port) admit TCP `port`. */
function allowsPort(ports: unknown, port: number): boolean {
  const list = asArray<any>(ports);
  if (list.length === 0) return true;
  return list.some((p) => (p?.protocol ?? "TCP") === "TCP" && (p?.port === undefined || p.port === port || (typeof p.port === "number" && typeof p.endPort === "number" && p.port <= port && port <= p.endPort)));
}

/** Whether a CiliumNetworkPolicy rule's `toPorts` (absent: every port) admit TCP `port`. */
function ciliumAllowsPort(toPorts: unknown, port: number): boolean {
  const ports = asArray<any>(toPorts).flatMap((t) => asArray<any>(t?.ports));
  if (asArray(toPorts).length === 0) return true;
  return ports.some((p) => [undefined, "TCP", "ANY"].includes(p?.protocol) && (p?.port === undefined || Number(p.port) === port || (typeof p.endPort === "number" && Number(p.port) <= port && port <= p.endPort)));
}

export const apiServerEgressBounded = resourceControl({
  name: "api-server-egress-bounded",
  description:
    "In production, egress to the Kubernetes API server (TCP 6443, which only API-server rules open) is limited to the API server's own addresses: never any address (0.0.0.0/0, ::/0), which would also open every public HTTPS endpoint on that port to the operators.",
  severity: "high",
  refs: [PCI.outboundRestricted, PCI.portsApproved, GDPR.integrity],
  remediation: "Set diaspomoney-platform:kubernetes.apiServerCidrs to the API server's endpoints (kubectl get endpoints kubernetes -n default); build the rule with apiServerEgress (components/network.ts).",
  appliesTo: [T.networkPolicy, CILIUM_NETWORK_POLICY],
  settings: ["production"],
  check: (s, f, settings) => {
    if (!settings.production) return { notApplicable: "API-server egress is bounded in production only (other tiers may leave kubernetes.apiServerCidrs unset)" };
    const spec = s.props?.spec ?? {};
    let checked = 0;
    // Each rule on the port, then all of them: rules add up, so halves of the internet in two rules open it too.
    const destinations: unknown[] = [];
    let openRule = false;
    if (s.type === T.networkPolicy) {
      asArray<any>(spec.egress).forEach((rule, i) => {
        if (!allowsPort(rule?.ports, API_SERVER_PORT)) return;
        checked++;
        const to = asArray<any>(rule?.to);
        const blocks = ipBlocks(to, "to");
        const problem = to.length === 0 ? "any destination" : unbounded(blocks);
        destinations.push(...blocks.map((b) => b.cidr));
        openRule ||= !!problem;
        f.expect(!problem, s, `spec.egress[${i}].to`, rule?.to ?? "(any destination)", `egress on the API server's port must name the API server's addresses, not any address (${problem})`);
      });
    } else {
      asArray<any>(spec.egress).forEach((rule, i) => {
        if (!ciliumAllowsPort(rule?.toPorts, API_SERVER_PORT)) return;
        checked++;
        const cidrs = [...blocksOf(asArray(rule?.toCIDR), (k) => `toCIDR[${k}]`), ...blocksOf(asArray<any>(rule?.toCIDRSet).map((c) => c?.cidr), (k) => `toCIDRSet[${k}].cidr`)];
        const world = asArray<string>(rule?.toEntities).some((e) => e === "world" || e === "all");
        const problem = world ? "the world entity" : unbounded(cidrs);
        destinations.push(...cidrs.map((b) => b.cidr));
        openRule ||= !!problem;
        f.expect(!problem, s, `spec.egress[${i}]`, rule, `egress on the API server's port must name the kube-apiserver entity or its addresses, not the world (${problem})`);
      });
    }
    const together = wholeInternetOf(destinations);
    if (!openRule && together) f.fail(s, "spec.egress", spec.egress, `egress on the API server's port must name the API server's addresses: together the rules on it admit every ${together} address`);
    if (checked === 0) f.pass(s, "spec.egress", "(no rule on the API server's port)");
  },
});

/** The namespace of a Helm chart or release (its `namespace` input). */
function chartNamespace(s: Subject): string | undefined {
  return typeof s.props?.namespace === "string" ? s.props.namespace : undefined;
}

export const clusterAccessMatchesCni = stackControl({
  name: "cluster-access-matches-cni",
  description:
    "The policies that let pods reach the API server and the nodes are written for the cluster's CNI (the stack output compliance.network.cni, or a cluster stack's contract.cni): on Cilium, where ipBlock rules match neither, every namespace with a default deny that runs a controller (a Helm chart or release) has a CiliumNetworkPolicy allowing egress to the kube-apiserver entity, no NetworkPolicy relies on ipBlocks for the API server or the kubelets, and each CiliumNetworkPolicy selects specific pods; on any other CNI there is no CiliumNetworkPolicy (its CRD is absent and pulumi up would fail).",
  severity: "high",
  refs: [PCI.outboundRestricted, PCI.nscConfig, GDPR.resilience],
  remediation:
    "Set diaspomoney-platform:kubernetes.cni to the cluster's CNI; build API-server and node rules with apiServerEgress / nodeEgress / apiServerIngress and register ciliumClusterAccess next to the NetworkPolicy (components/network.ts).",
  check: (resources, f) => {
    const all = resources.map(subjectOf);
    const stack = all.find((r) => r.type === T.stack);
    const cni = stack?.props?.compliance?.network?.cni ?? stack?.props?.contract?.cni;
    const claim = stack?.props?.compliance?.network?.cni !== undefined ? "outputs.compliance.network.cni" : "outputs.contract.cni";
    if (!stack || typeof cni !== "string") return { notApplicable: "the stack's outputs name no CNI (compliance.network.cni or contract.cni)" };
    const cnps = all.filter((r) => r.type === CILIUM_NETWORK_POLICY);
    if (cni !== "cilium") {
      f.pass(stack, claim, cni);
      for (const p of cnps) f.fail(p, "kind", "CiliumNetworkPolicy", `the cluster's CNI is ${cni}: it serves no cilium.io CRD, so pulumi up would fail on this object`);
      return;
    }
    f.pass(stack, claim, cni);
    for (const np of all.filter((r) => r.type === T.networkPolicy)) {
      asArray<any>(np.props?.spec?.egress).forEach((rule, i) => {
        const byAddress = asArray<any>(rule?.to).some((peer) => peer?.ipBlock);
        if (byAddress && (allowsPort(rule?.ports, API_SERVER_PORT) || allowsPort(rule?.ports, KUBELET_PORT))) {
          f.fail(np, `spec.egress[${i}].to`, rule.to, "on Cilium an ipBlock matches neither the API server nor the nodes: name them with a CiliumNetworkPolicy (toEntities kube-apiserver, remote-node, host)");
        }
      });
    }
    for (const p of cnps) f.expect(!isEmptySelector(p.props?.spec?.endpointSelector) && !!p.props?.spec?.endpointSelector, p, "spec.endpointSelector", p.props?.spec?.endpointSelector, "a CiliumNetworkPolicy selects the pods of one component, not the whole namespace");
    const closed = new Set(
      all
        .filter((r) => r.type === T.networkPolicy && isEmptySelector(r.props?.spec?.podSelector) && asArray(r.props?.spec?.egress).length === 0 && asArray<string>(r.props?.spec?.policyTypes).includes("Egress"))
        .map((r) => namespaceOf(r)),
    );
    const controllers = all.filter((r) => (r.type === T.helmChart || r.type === T.helmRelease) && closed.has(chartNamespace(r)));
    for (const ns of new Set(controllers.map(chartNamespace))) {
      const anchor = controllers.find((c) => chartNamespace(c) === ns)!;
      const toApi = cnps.find((p) => namespaceOf(p) === ns && asArray<any>(p.props?.spec?.egress).some((rule) => asArray<string>(rule?.toEntities).includes("kube-apiserver")));
      f.expect(!!toApi, anchor, "CiliumNetworkPolicy (toEntities kube-apiserver)", toApi ? `${ns}/${k8sName(toApi)}` : undefined, `namespace ${ns} denies egress by default and runs a controller, which must reach the API server: on Cilium only a kube-apiserver entity rule allows it`);
    }
  },
});

export const networkControls = [namespaceDefaultDeny, podsSelectedByNetworkPolicy, onlyTraefikLoadBalancer, noOpenNetworkAccess, apiServerEgressBounded, clusterAccessMatchesCni];
