import { describe, expect, it } from "vitest";
import { apiServerEgressBounded, clusterAccessMatchesCni, namespaceDefaultDeny, noOpenNetworkAccess, onlyTraefikLoadBalancer, podsSelectedByNetworkPolicy } from "../../policy/controls/network";
import { BOUNDED, WHOLE_INTERNET } from "../networks";
import { ACCEPTANCE, deployment, evaluate, k8s, messages } from "./harness";

const NS = "diaspomoney-prod";
const namespace = k8s("kubernetes:core/v1:Namespace", NS, undefined, {});
const deny = (ns = NS) => k8s("kubernetes:networking.k8s.io/v1:NetworkPolicy", "default-deny", ns, { spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } });
const allowWeb = k8s("kubernetes:networking.k8s.io/v1:NetworkPolicy", "web", NS, {
  spec: { podSelector: { matchLabels: { "app.kubernetes.io/name": "web" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } } }] }] },
});

describe("namespace-default-deny", () => {
  it("passes a namespace with an empty-selector policy denying both directions", async () => {
    const r = await evaluate(namespaceDefaultDeny, [namespace, deny()]);
    expect(r.status).toBe("pass");
    expect(r.evidence[0].value).toBe('"diaspomoney-prod/default-deny"');
  });

  it("fails a namespace whose only policy denies ingress, or is in another namespace", async () => {
    const ingressOnly = k8s("kubernetes:networking.k8s.io/v1:NetworkPolicy", "deny-in", NS, { spec: { podSelector: {}, policyTypes: ["Ingress"] } });
    const r = await evaluate(namespaceDefaultDeny, [namespace, ingressOnly, deny("elsewhere")]);
    expect(messages(r)).toEqual([expect.stringMatching(/^Namespace diaspomoney-prod: NetworkPolicy \(default deny\) is \(not set\); namespace diaspomoney-prod needs a default-deny NetworkPolicy .*\[PCI-DSS 1\.3\.1/)]);
  });
});

describe("pods-selected-by-network-policy", () => {
  it("passes a Deployment selected by a policy written for it (the default deny does not count)", async () => {
    expect((await evaluate(podsSelectedByNetworkPolicy, [deployment(), deny(), allowWeb])).status).toBe("pass");
    const r = await evaluate(podsSelectedByNetworkPolicy, [deployment(), deny()]);
    expect(messages(r)).toEqual([expect.stringContaining('Deployment diaspomoney-prod/web: selected by NetworkPolicy is (not set); no NetworkPolicy in diaspomoney-prod selects pods labelled {"app.kubernetes.io/name":"web"}')]);
  });

  it("matches operator pods by the labels their operator sets (Strimzi node pools)", async () => {
    const pool = k8s("kubernetes:kafka.strimzi.io/v1:KafkaNodePool", "brokers", "infra", { metadata: { labels: { "strimzi.io/cluster": "kafka" } }, spec: { replicas: 3, roles: ["broker"] } });
    const brokers = k8s("kubernetes:networking.k8s.io/v1:NetworkPolicy", "kafka", "infra", { spec: { podSelector: { matchLabels: { "strimzi.io/cluster": "kafka", "strimzi.io/broker-role": "true" } }, policyTypes: ["Ingress"] } });
    expect((await evaluate(podsSelectedByNetworkPolicy, [pool, brokers])).status).toBe("pass");
    const controllers = k8s("kubernetes:kafka.strimzi.io/v1:KafkaNodePool", "controllers", "infra", { metadata: { labels: { "strimzi.io/cluster": "kafka" } }, spec: { replicas: 3, roles: ["controller"] } });
    expect(messages(await evaluate(podsSelectedByNetworkPolicy, [controllers, brokers]))).toEqual([expect.stringContaining("KafkaNodePool infra/controllers: selected by NetworkPolicy is (not set)")]);
  });
});

describe("only-traefik-load-balancer", () => {
  const svc = (name: string, type: string) => k8s("kubernetes:core/v1:Service", name, NS, { metadata: { labels: { "app.kubernetes.io/name": name } }, spec: { type, ports: [{ port: 443 }] } });

  it("allows Traefik's LoadBalancer and ClusterIP Services", async () => {
    expect((await evaluate(onlyTraefikLoadBalancer, [svc("traefik", "LoadBalancer"), svc("web", "ClusterIP")])).status).toBe("pass");
  });

  it("fails any other LoadBalancer or NodePort, in Services, operator resources or chart values", async () => {
    const kafka = k8s("kubernetes:kafka.strimzi.io/v1:Kafka", "kafka", "infra", { spec: { kafka: { listeners: [{ name: "external", port: 9094, type: "loadbalancer", tls: true }] } } });
    const chart = { type: "kubernetes:helm.sh/v4:Chart", name: "monitoring", inputs: { chart: "kube-prometheus-stack", version: "88.5.3", values: { grafana: { service: { type: "LoadBalancer" } } } } };
    const r = await evaluate(onlyTraefikLoadBalancer, [svc("web", "LoadBalancer"), svc("debug", "NodePort"), kafka, chart]);
    expect(messages(r)).toEqual([
      expect.stringContaining('Service diaspomoney-prod/web: spec.type is "LoadBalancer"; only the Service labelled app.kubernetes.io/name=traefik may be a LoadBalancer'),
      expect.stringContaining('Service diaspomoney-prod/debug: spec.type is "NodePort"'),
      expect.stringContaining('Kafka infra/kafka: spec.kafka.listeners[0].type is "loadbalancer"'),
      expect.stringContaining('Chart "monitoring": values.grafana.service.type is "LoadBalancer"'),
    ]);
  });
});

describe("no-open-network-access", () => {
  const lb = (ranges?: string[]) =>
    k8s("kubernetes:core/v1:Service", "traefik", NS, { metadata: { labels: { "app.kubernetes.io/name": "traefik" } }, spec: { type: "LoadBalancer", ...(ranges ? { loadBalancerSourceRanges: ranges } : {}) } });
  const access = (cidrBlock: string) => ({ type: "mongodbatlas:index/projectIpAccessList:ProjectIpAccessList", name: `access-${cidrBlock}`, inputs: { projectId: "p", cidrBlock } });

  it("passes a load balancer restricted to Cloudflare and a bounded Atlas access list", async () => {
    expect((await evaluate(noOpenNetworkAccess, [lb(["173.245.48.0/20", "2400:cb00::/32"]), access("198.51.100.0/28")])).status).toBe("pass");
  });

  it("fails 0.0.0.0/0 anywhere, and a load balancer without source ranges", async () => {
    const r = await evaluate(noOpenNetworkAccess, [lb(), lb(["0.0.0.0/0"]), access("0.0.0.0/0")]);
    expect(messages(r)).toEqual([
      expect.stringContaining("Service diaspomoney-prod/traefik: spec.loadBalancerSourceRanges is (not set); a LoadBalancer must list bounded source ranges"),
      expect.stringContaining('spec.loadBalancerSourceRanges is ["0.0.0.0/0"]'),
      expect.stringContaining('ProjectIpAccessList "access-0.0.0.0/0": cidrBlock is "0.0.0.0/0"; the Atlas access list must never admit the whole internet'),
    ]);
  });

  it("lets only Traefik's pods accept ingress from any address", async () => {
    const open = (name: string) =>
      k8s("kubernetes:networking.k8s.io/v1:NetworkPolicy", name, NS, { spec: { podSelector: { matchLabels: { "app.kubernetes.io/name": name } }, ingress: [{ ports: [{ port: 8443 }] }] } });
    expect((await evaluate(noOpenNetworkAccess, [open("traefik")])).status).toBe("pass");
    expect(messages(await evaluate(noOpenNetworkAccess, [open("grafana")]))).toEqual([expect.stringContaining("NetworkPolicy diaspomoney-prod/grafana: spec.ingress[0].from is \"(any source)\"; only Traefik's pods may accept ingress from any address")]);
  });

  it("requires the Traefik chart's LoadBalancer to carry source ranges", async () => {
    const chart = (values: object) => ({ type: "kubernetes:helm.sh/v4:Chart", name: "traefik", inputs: { chart: "traefik", version: "41.3.0", values } });
    expect((await evaluate(noOpenNetworkAccess, [chart({ service: { enabled: false } })])).status).toBe("pass");
    expect(messages(await evaluate(noOpenNetworkAccess, [chart({})]))).toEqual([expect.stringContaining('Chart "traefik": values.service.loadBalancerSourceRanges is (not set)')]);
  });
});

const INFRA = "diaspomoney-prod-infra";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const CNP = "kubernetes:cilium.io/v2:CiliumNetworkPolicy";
const OPERATOR = { "app.kubernetes.io/name": "psmdb-operator" };
const apiRule = (cidrs: string[]) => ({ to: cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }] });
const operatorPolicy = (egress: object[]) => k8s(NETPOL, "psmdb-operator", INFRA, { spec: { podSelector: { matchLabels: OPERATOR }, policyTypes: ["Egress"], egress } });
const companion = (spec: object) => k8s(CNP, "psmdb-operator-cluster-access", INFRA, { spec });
const toApiServer = { endpointSelector: { matchLabels: OPERATOR }, egress: [{ toEntities: ["kube-apiserver"], toPorts: [{ ports: [{ port: "443", protocol: "TCP" }, { port: "6443", protocol: "TCP" }] }] }] };

describe("api-server-egress-bounded", () => {
  it("passes production API-server egress to the API server's addresses, and other rules on other ports to any address", async () => {
    const alertmanager = k8s(NETPOL, "alertmanager", NS, { spec: { podSelector: { matchLabels: { app: "am" } }, egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] }] } });
    const r = await evaluate(apiServerEgressBounded, [operatorPolicy([apiRule(["10.20.0.0/28"])]), alertmanager, companion(toApiServer)]);
    expect(r.status).toBe("pass");
  });

  it("fails production API-server egress to any address, in a NetworkPolicy or a CiliumNetworkPolicy, and a rule open on every port", async () => {
    const world = companion({ endpointSelector: { matchLabels: OPERATOR }, egress: [{ toEntities: ["world"], toPorts: [{ ports: [{ port: "6443", protocol: "TCP" }] }] }] });
    const everyPort = k8s(NETPOL, "debug", INFRA, { spec: { podSelector: { matchLabels: { app: "debug" } }, egress: [{ to: [{ ipBlock: { cidr: "::/0" } }] }] } });
    const r = await evaluate(apiServerEgressBounded, [operatorPolicy([apiRule(["0.0.0.0/0", "::/0"])]), world, everyPort]);
    expect(messages(r)).toEqual([
      expect.stringContaining(`NetworkPolicy ${INFRA}/psmdb-operator: spec.egress[0].to is [{"ipBlock":{"cidr":"0.0.0.0/0"}},{"ipBlock":{"cidr":"::/0"}}]; egress on the API server's port must name the API server's addresses`),
      expect.stringContaining(`CiliumNetworkPolicy ${INFRA}/psmdb-operator-cluster-access: spec.egress[0]`),
      expect.stringContaining(`NetworkPolicy ${INFRA}/debug: spec.egress[0].to`),
    ]);
  });

  it("does not apply outside production, where the API server's addresses may be unknown", async () => {
    expect((await evaluate(apiServerEgressBounded, [operatorPolicy([apiRule(["0.0.0.0/0"])])], ACCEPTANCE)).status).toBe("not-applicable");
  });
});

describe("cluster-access-matches-cni", () => {
  const outputs = (cni: string) => ({ compliance: { network: { cni, apiServerCidrs: null } } });
  const infraNamespace = k8s("kubernetes:core/v1:Namespace", INFRA, undefined, {});
  const deny = k8s(NETPOL, "default-deny", INFRA, { spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } });
  const operatorChart = { type: "kubernetes:helm.sh/v3:Release", name: "psmdb-operator", inputs: { chart: "psmdb-operator", namespace: INFRA } };
  const onCilium = [infraNamespace, deny, operatorChart, operatorPolicy([{ to: [{ podSelector: { matchLabels: { app: "mongod" } } }], ports: [{ port: 27017 }] }])];

  it("passes Cilium with a kube-apiserver companion for the controller's pods and no address rule for the API server", async () => {
    const r = await evaluate(clusterAccessMatchesCni, [...onCilium, companion(toApiServer)], undefined, outputs("cilium"));
    expect(r.status).toBe("pass");
  });

  it("fails Cilium without a kube-apiserver policy where a controller runs behind default deny, with an ipBlock API rule, or with a namespace-wide policy", async () => {
    const missing = await evaluate(clusterAccessMatchesCni, onCilium, undefined, outputs("cilium"));
    expect(messages(missing)).toEqual([expect.stringMatching(/Release "psmdb-operator": CiliumNetworkPolicy \(toEntities kube-apiserver\) is \(not set\); namespace diaspomoney-prod-infra denies egress by default and runs a controller/)]);
    const ipBlock = await evaluate(clusterAccessMatchesCni, [...onCilium, operatorPolicy([apiRule(["10.20.0.0/28"])]), companion({ ...toApiServer, endpointSelector: {} })], undefined, outputs("cilium"));
    expect(messages(ipBlock)).toEqual([
      expect.stringContaining("NetworkPolicy diaspomoney-prod-infra/psmdb-operator: spec.egress[0].to is"),
      expect.stringContaining("CiliumNetworkPolicy diaspomoney-prod-infra/psmdb-operator-cluster-access: spec.endpointSelector is {}; a CiliumNetworkPolicy selects the pods of one component"),
    ]);
  });

  it("passes Calico with address rules, and fails a CiliumNetworkPolicy there (no such CRD on the cluster)", async () => {
    const calico = [infraNamespace, deny, operatorChart, operatorPolicy([apiRule(["10.20.0.0/28"])])];
    expect((await evaluate(clusterAccessMatchesCni, calico, undefined, outputs("calico"))).status).toBe("pass");
    const r = await evaluate(clusterAccessMatchesCni, [...calico, companion(toApiServer)], undefined, outputs("calico"));
    expect(messages(r)).toEqual([expect.stringContaining("CiliumNetworkPolicy diaspomoney-prod-infra/psmdb-operator-cluster-access: kind is \"CiliumNetworkPolicy\"; the cluster's CNI is calico")]);
  });

  it("reads a cluster stack's CNI from its contract, and does not apply when no output names one", async () => {
    expect((await evaluate(clusterAccessMatchesCni, onCilium, undefined, { contract: { cni: "cilium" } })).status).toBe("fail");
    expect((await evaluate(clusterAccessMatchesCni, onCilium)).status).toBe("not-applicable");
  });
});

describe("the whole internet, in any spelling", () => {
  const lb = (ranges: string[]) => k8s("kubernetes:core/v1:Service", "traefik", NS, { metadata: { labels: { "app.kubernetes.io/name": "traefik" } }, spec: { type: "LoadBalancer", loadBalancerSourceRanges: ranges } });
  const access = (inputs: Record<string, string>) => ({ type: "mongodbatlas:index/projectIpAccessList:ProjectIpAccessList", name: "access", inputs: { projectId: "p", ...inputs } });
  const ingressFrom = (...rules: string[][]) =>
    k8s(NETPOL, "grafana", NS, { spec: { podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana" } }, ingress: rules.map((cidrs) => ({ from: cidrs.map((cidr) => ({ ipBlock: { cidr } })) })) } });

  it.each(WHOLE_INTERNET)("fails %j (every %s address) as load balancer sources, NetworkPolicy sources and API-server destinations", async (list, family) => {
    const open = await evaluate(noOpenNetworkAccess, [lb(list), ingressFrom(list)]);
    expect(messages(open)).toEqual([
      expect.stringMatching(`a LoadBalancer must list bounded source ranges, never the whole internet in any spelling \\((it admits|together they admit) every ${family} address\\)`),
      expect.stringContaining("spec.ingress[0].from is"),
    ]);
    const api = await evaluate(apiServerEgressBounded, [operatorPolicy([apiRule(list)])]);
    expect(messages(api)).toEqual([expect.stringMatching(`egress on the API server's port must name the API server's addresses, not any address \\((it admits|together they admit) every ${family} address\\)`)]);
  });

  it.each(WHOLE_INTERNET.filter(([list]) => list.length === 1))("fails the Atlas access list entry %j", async ([cidrBlock]) => {
    expect(messages(await evaluate(noOpenNetworkAccess, [access({ cidrBlock })]))).toEqual([
      expect.stringContaining(`cidrBlock is "${cidrBlock}"; the Atlas access list must never admit the whole internet, in any spelling (it admits every`),
    ]);
  });

  it.each(BOUNDED.map((list) => [list]))("passes bounded sources %j", async (list) => {
    expect((await evaluate(noOpenNetworkAccess, [lb(list), ingressFrom(list), ...list.map((cidrBlock) => access({ cidrBlock }))])).status).toBe("pass");
    expect((await evaluate(apiServerEgressBounded, [operatorPolicy([apiRule(list)])])).status).toBe("pass");
  });

  it("adds up the rules of a policy: halves of the internet in two rules open it", async () => {
    expect(messages(await evaluate(noOpenNetworkAccess, [ingressFrom(["0.0.0.0/1"], ["128.0.0.0/1"])]))).toEqual([
      expect.stringContaining("spec.ingress is [[{\"ipBlock\":{\"cidr\":\"0.0.0.0/1\"}}],[{\"ipBlock\":{\"cidr\":\"128.0.0.0/1\"}}]]; only Traefik's pods may accept ingress from any address: together the rules admit every IPv4 address"),
    ]);
    const cilium = companion({ endpointSelector: { matchLabels: OPERATOR }, egress: ["::/1", "8000::/1"].map((cidr) => ({ toCIDRSet: [{ cidr }], toPorts: [{ ports: [{ port: "6443", protocol: "TCP" }] }] })) });
    expect(messages(await evaluate(apiServerEgressBounded, [operatorPolicy([apiRule(["10.20.0.0/28"]), apiRule(["0.0.0.0/1", "128.0.0.0/1"])]), cilium]))).toEqual([
      expect.stringContaining(`NetworkPolicy ${INFRA}/psmdb-operator: spec.egress[1].to is`),
      expect.stringContaining(`CiliumNetworkPolicy ${INFRA}/psmdb-operator-cluster-access: spec.egress is`),
    ]);
  });

  it("fails what is not a network, and an Atlas address of 0.0.0.0 (any address to many systems); passes a security group", async () => {
    const r = await evaluate(noOpenNetworkAccess, [lb(["173.245.48.0/20", "300.1.1.1/8", "10.1/8"]), ingressFrom(["10.0.0.0/8", "everything"]), access({ cidrBlock: "10.0.0.0/33" }), access({ ipAddress: "0.0.0.0" })]);
    expect(messages(r)).toEqual([
      expect.stringContaining("a LoadBalancer must list bounded source ranges, never the whole internet in any spelling ([1], [2] are not networks)"),
      expect.stringContaining("every ipBlock must name a network (from[1].ipBlock.cidr is not a network)"),
      expect.stringContaining('cidrBlock is "10.0.0.0/33"; the Atlas access list must never admit the whole internet, in any spelling (it is not a network)'),
      expect.stringContaining('ipAddress is "0.0.0.0"; the Atlas access list must never admit the whole internet, in any spelling (it admits every IPv4 address)'),
    ]);
    expect((await evaluate(noOpenNetworkAccess, [access({ awsSecurityGroup: "sg-0123456789abcdef0" })])).status).toBe("pass");
    expect(messages(await evaluate(apiServerEgressBounded, [operatorPolicy([apiRule(["10.20.0.0/28", "10.20.0.1/33"])])]))).toEqual([expect.stringContaining("(to[1].ipBlock.cidr is not a network)")]);
  });
});
