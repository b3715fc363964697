import { describe, expect, it } from "vitest";
import { namespaceDefaultDeny, noOpenNetworkAccess, onlyTraefikLoadBalancer, podsSelectedByNetworkPolicy } from "../../policy/controls/network";
import { deployment, evaluate, k8s, messages } from "./harness";

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
