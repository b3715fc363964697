import { describe, expect, it } from "vitest";
import { CERT_MANAGER_PORTS, CertManager } from "../../components/cert-manager";
import { StrimziOperator } from "../../components/kafka";
import { monitoringClusterAccess, monitoringNetworkPolicies, type MonitoringStackArgs } from "../../components/monitoring";
import {
  apiServerAccess,
  apiServerEgress,
  apiServerIngress,
  ciliumClusterAccess,
  ciliumClusterAccessSpec,
  nodeEgress,
  NON_PUBLIC_IPV4,
  PUBLIC_INTERNET,
  type ApiServerAccess,
} from "../../components/network";
import { profileOf } from "../../infra/compliance";
import { evaluatePlan } from "../../infra/compliance/evaluate";
import { clusterAccessMatchesCni } from "../../policy/controls/network";
import { cachedPlan, inputs, ofType, planProgram, planStack, stackConfig } from "../harness";

const calico: ApiServerAccess = { cni: "calico", cidrs: ["10.0.0.1/32"] };
const cilium: ApiServerAccess = { cni: "cilium", cidrs: ["10.0.0.1/32"] };
const CNP = "kubernetes:cilium.io/v2:CiliumNetworkPolicy";
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

describe("shared NetworkPolicy blocks", () => {
  it("reach the API server on its known addresses, or on any address when they are unknown", () => {
    expect(apiServerEgress({ ...calico, ports: [6443] })).toEqual([{ to: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ protocol: "TCP", port: 6443 }] }]);
    expect(apiServerEgress(undefined)).toEqual([
      {
        to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
        ports: [
          { protocol: "TCP", port: 443 },
          { protocol: "TCP", port: 6443 },
        ],
      },
    ]);
    expect(apiServerEgress({ cni: "other" })).toEqual(apiServerEgress(undefined));
  });

  it("define the internet without the cluster's networks or the cloud metadata service", () => {
    expect(NON_PUBLIC_IPV4).toEqual(expect.arrayContaining(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]));
    expect(PUBLIC_INTERNET.map((p: any) => p.ipBlock.cidr)).toEqual(["0.0.0.0/0", "::/0"]);
    expect((PUBLIC_INTERNET[1] as any).ipBlock.except).toEqual(expect.arrayContaining(["fc00::/7", "fe80::/10"]));
  });

  it("are built from the deployment config's CNI and API server addresses", () => {
    expect(apiServerAccess({ cni: "cilium", apiServerCidrs: ["10.20.0.0/28"] })).toEqual({ cni: "cilium", cidrs: ["10.20.0.0/28"] });
    expect(apiServerAccess({ cni: "calico" })).toEqual({ cni: "calico" });
  });
});

describe("on Cilium, where ipBlock rules match neither the API server nor the nodes", () => {
  it("NetworkPolicies carry no address rule for the API server, the control plane or the kubelets", () => {
    expect(apiServerEgress(cilium)).toEqual([]);
    expect(apiServerIngress(cilium, [10250], ["10.0.0.0/8"])).toEqual([]);
    expect(nodeEgress(cilium, [10250])).toEqual([]);
  });

  it("on Calico and other CNIs they keep them", () => {
    expect(apiServerIngress(calico, [10250], ["10.0.0.0/8"])).toEqual([{ from: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ protocol: "TCP", port: 10250 }] }]);
    expect(apiServerIngress({ cni: "other" }, [10250], ["10.0.0.0/8"])[0].from).toEqual([{ ipBlock: { cidr: "10.0.0.0/8" } }]);
    expect(nodeEgress({ cni: "calico" }, [10250])).toEqual([{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }], ports: [{ protocol: "TCP", port: 10250 }] }]);
  });

  it("the companion policy names the kube-apiserver entity, the nodes' entities and the control plane, as Cilium's schema spells them", () => {
    const selector = { matchLabels: { "app.kubernetes.io/name": "op" } };
    expect(ciliumClusterAccessSpec(selector, { apiServer: true, nodePorts: [10250], fromApiServerPorts: [9443] })).toEqual({
      description: expect.any(String),
      endpointSelector: selector,
      egress: [
        { toEntities: ["kube-apiserver"], toPorts: [{ ports: [{ port: "443", protocol: "TCP" }, { port: "6443", protocol: "TCP" }] }] },
        { toEntities: ["remote-node", "host"], toPorts: [{ ports: [{ port: "10250", protocol: "TCP" }] }] },
      ],
      ingress: [{ fromEntities: ["kube-apiserver"], toPorts: [{ ports: [{ port: "9443", protocol: "TCP" }] }] }],
    });
    expect(ciliumClusterAccessSpec(selector, { apiServer: true }, { cni: "cilium", ports: [6443] })).toEqual({
      description: expect.any(String),
      endpointSelector: selector,
      egress: [{ toEntities: ["kube-apiserver"], toPorts: [{ ports: [{ port: "6443", protocol: "TCP" }] }] }],
    });
    expect(ciliumClusterAccessSpec(selector, {})).toBeUndefined();
  });

  it("the companion is registered on Cilium only, for the same pods and namespace", async () => {
    const register = (api: ApiServerAccess) => async () => {
      ciliumClusterAccess("op", { metadata: { name: "op-cluster-access", namespace: "data" }, podSelector: { matchLabels: { app: "op" } }, access: { apiServer: true }, api }, {});
      return {};
    };
    const onCilium = await planProgram("dev", register(cilium));
    const [cnp] = ofType(onCilium, CNP);
    expect(inputs(cnp)).toMatchObject({ apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicy", metadata: { name: "op-cluster-access", namespace: "data" }, spec: { endpointSelector: { matchLabels: { app: "op" } } } });
    expect(ofType(await planProgram("dev", register(calico)), CNP)).toEqual([]);
    expect(ofType(await planProgram("dev", register({ cni: "other" })), CNP)).toEqual([]);
  });
});

/** NetworkPolicy rules that name the API server or the kubelets by address (ports 6443 or 10250 to ipBlocks). */
function addressRulesToTheCluster(np: any): unknown[] {
  const byAddress = (peers: any[] | undefined) => (peers ?? []).some((p) => p.ipBlock);
  const clusterPort = (ports: any[] | undefined) => (ports ?? []).some((p) => p.port === 6443 || p.port === 10250);
  return [...(np.spec.egress ?? []).filter((r: any) => byAddress(r.to) && clusterPort(r.ports)), ...(np.spec.ingress ?? []).filter((r: any) => byAddress(r.from) && clusterPort(r.ports))];
}

describe("components on Cilium", () => {
  const labels = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "test" });

  it("cert-manager reaches the API server and is called by it through entities, its NetworkPolicies by address on Calico only", async () => {
    const certManager = (api: ApiServerAccess) => async () => {
      new CertManager("cm", {
        namespace: "cert-manager",
        labels,
        chart: { chart: "cert-manager", repo: "https://charts.jetstack.io", version: "v1.21.1" },
        metricsScrapers: { namespaceLabels: { team: "ops" }, podLabels: { app: "prometheus" } },
        apiServer: api,
      });
      return {};
    };
    const plan = await planProgram("dev", certManager(cilium));
    for (const np of ofType(plan, NP)) expect(addressRulesToTheCluster(inputs(np)), np.name).toEqual([]);
    const cnps = Object.fromEntries(ofType(plan, CNP).map((r) => [inputs(r).metadata.name, inputs(r).spec]));
    expect(Object.keys(cnps).sort()).toEqual(["cert-manager-api-server-cluster-access", "cert-manager-webhook-cluster-access"]);
    expect(cnps["cert-manager-api-server-cluster-access"]).toMatchObject({ endpointSelector: { matchLabels: { "app.kubernetes.io/instance": "cert-manager" } }, egress: [{ toEntities: ["kube-apiserver"] }] });
    expect(cnps["cert-manager-webhook-cluster-access"]).toMatchObject({
      endpointSelector: { matchLabels: { "app.kubernetes.io/component": "webhook" } },
      ingress: [{ fromEntities: ["kube-apiserver"], toPorts: [{ ports: [{ port: String(CERT_MANAGER_PORTS.webhook), protocol: "TCP" }] }] }],
    });

    const onCalico = await planProgram("dev", certManager(calico));
    expect(ofType(onCalico, CNP)).toEqual([]);
    expect(ofType(onCalico, NP).flatMap((np) => addressRulesToTheCluster(inputs(np)))).toHaveLength(2);
  });

  it("the Strimzi operator's NetworkPolicy loses its address rule and gains a companion for the same pods", async () => {
    const plan = await planProgram("dev", async () => (new StrimziOperator("op", { namespace: "data", chart: { chart: "strimzi-kafka-operator", repo: "oci://quay.io/strimzi-helm", version: "1.2.0" }, labels, installChart: false, apiServer: cilium }), {}));
    const [np] = ofType(plan, NP);
    const [cnp] = ofType(plan, CNP);
    expect(addressRulesToTheCluster(inputs(np))).toEqual([]);
    expect(inputs(cnp).spec.endpointSelector).toEqual(inputs(np).spec.podSelector);
    expect(inputs(cnp).metadata).toMatchObject({ name: "strimzi-cluster-operator-cluster-access", namespace: "data" });
  });

  it("Prometheus reaches the kubelets as nodes, and every monitoring pod that calls the API server has a companion", () => {
    const network = { uiClients: { app: "traefik" }, scrapeTargets: [], notificationPorts: [443] };
    const base = { namespace: "shop", watchedNamespaces: [], releaseName: "mon", chart: { chart: "kube-prometheus-stack", repo: "https://prometheus-community.github.io/helm-charts", version: "88.5.3" }, installChart: false, labels };
    const args = (api: ApiServerAccess) =>
      ({ ...base, prometheus: { retention: "1d", storage: "1Gi" }, alertmanager: { replicas: 1, configName: "r" }, grafana: { replicas: 1 }, network: { ...network, apiServer: api } }) as unknown as MonitoringStackArgs;
    const onCilium = monitoringNetworkPolicies(args(cilium));
    for (const [name, spec] of Object.entries(onCilium)) expect(addressRulesToTheCluster({ spec }), name).toEqual([]);
    const onCalico = monitoringNetworkPolicies(args(calico));
    const needing = Object.entries(onCalico).filter(([, spec]) => addressRulesToTheCluster({ spec }).length > 0).map(([name]) => name);
    const access = monitoringClusterAccess(args(cilium));
    expect(Object.keys(access).sort()).toEqual(needing.sort());
    for (const name of needing) expect(access[name].podSelector).toEqual(onCalico[name].podSelector);
    expect(access.prometheus.access).toEqual({ apiServer: true, nodePorts: [10250] });
  });
});

describe("whole stacks on Cilium", () => {
  const onCni = async (stack: string, cni: string) => {
    const kubernetes = JSON.parse(stackConfig(stack).values["diaspomoney-platform:kubernetes"]);
    return planStack(stack, { config: { kubernetes: { ...kubernetes, cni } } });
  };

  it.each(["dev", "prod", "cluster-prod"])("%s: every controller reaches the API server through an entity, none through an ipBlock", async (stack) => {
    const plan = await onCni(stack, "cilium");
    expect(ofType(plan, CNP).length).toBeGreaterThan(0);
    const audit = await evaluatePlan(plan, profileOf(stack), [clusterAccessMatchesCni]);
    expect(audit.controls[0].violations.map((v) => v.message)).toEqual([]);
    expect(audit.controls[0].status).toBe("pass");
  });

  it("the checked-in stacks (Calico) register no CiliumNetworkPolicy", async () => {
    for (const stack of ["dev", "cluster-prod"]) expect(ofType(await cachedPlan(stack), CNP), stack).toEqual([]);
  });
});
