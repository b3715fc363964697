import { describe, expect, it } from "vitest";
import { mongodPodLabels } from "../../components/mongodb";
import { cachedPlan, inputs, k8sObject, planStack, stackConfig, STACKS, type Plan } from "../harness";

const WEB = { "app.kubernetes.io/name": "web" };
const PROMETHEUS = { "app.kubernetes.io/name": "prometheus" };

function policies(plan: Plan, namespace: string): any[] {
  return plan.resources
    .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && (r.inputs as any).metadata?.namespace === namespace)
    .map((r) => inputs(r));
}

function ports(rule: any): number[] {
  return (rule.ports ?? []).map((p: any) => p.port);
}

describe.each(STACKS)("network policies of the %s data layer", (stack) => {
  const app = `diaspomoney-${stack}`;
  const infra = `diaspomoney-${stack}-infra`;

  it("let only the app's web pods in from the app namespace, and only to the data ports", async () => {
    const plan = await cachedPlan(stack);
    const dataPorts = Object.values((plan.outputs as any).data.ports as Record<string, number>);
    expect(dataPorts.sort()).toEqual([27017, 6379, 9093].sort());
    let webRules = 0;
    for (const policy of policies(plan, infra)) {
      for (const rule of policy.spec.ingress ?? []) {
        for (const peer of rule.from ?? []) {
          // Nothing from outside the cluster.
          expect(peer.ipBlock, policy.metadata.name).toBeUndefined();
          if (!peer.namespaceSelector) continue;
          // A cross-namespace peer is always a named namespace and named pods.
          expect(peer.namespaceSelector, policy.metadata.name).toEqual({ matchLabels: { "kubernetes.io/metadata.name": app } });
          const labels = peer.podSelector?.matchLabels;
          if (JSON.stringify(labels) === JSON.stringify(WEB)) {
            webRules += 1;
            expect(ports(rule).length, policy.metadata.name).toBeGreaterThan(0);
            for (const port of ports(rule)) expect(dataPorts, policy.metadata.name).toContain(port);
          } else {
            expect(labels, policy.metadata.name).toEqual(PROMETHEUS);
            expect(ports(rule).length, policy.metadata.name).toBeGreaterThan(0);
            for (const port of ports(rule)) expect(dataPorts, `${policy.metadata.name}: Prometheus on a data port`).not.toContain(port);
          }
        }
      }
    }
    expect(webRules).toBeGreaterThan(0);
  });

  it("send nothing from the infra namespace to another namespace but DNS", async () => {
    const plan = await cachedPlan(stack);
    for (const policy of policies(plan, infra)) {
      for (const rule of policy.spec.egress ?? []) {
        for (const peer of rule.to ?? []) {
          if (peer.namespaceSelector) expect(peer.namespaceSelector.matchLabels, policy.metadata.name).toEqual({ "kubernetes.io/metadata.name": "kube-system" });
        }
      }
    }
  });

  it("open MongoDB to the app on 27017, Prometheus on 9216, members and operator on 27017, nothing else", async () => {
    const plan = await cachedPlan(stack);
    const spec = inputs(k8sObject(plan, "NetworkPolicy", "mongodb", infra)).spec;
    expect(spec.podSelector).toEqual({ matchLabels: mongodPodLabels("mongodb") });
    expect(spec.policyTypes).toEqual(["Ingress", "Egress"]);
    const byPort = (port: number) => spec.ingress.filter((r: any) => ports(r).includes(port)).flatMap((r: any) => r.from);
    expect(byPort(27017)).toEqual([
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": app } }, podSelector: { matchLabels: WEB } },
      { podSelector: { matchLabels: mongodPodLabels("mongodb") } },
      { podSelector: { matchLabels: { "app.kubernetes.io/name": "psmdb-operator", "app.kubernetes.io/instance": "psmdb-operator" } } },
    ]);
    expect(byPort(9216)).toEqual([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": app } }, podSelector: { matchLabels: PROMETHEUS } }]);
    expect(spec.ingress.flatMap(ports).sort()).toEqual([27017, 27017, 9216]);
  });

  it("let MongoDB out only to its members and to S3 over 443, never to private ranges or the metadata endpoint", async () => {
    const plan = await cachedPlan(stack);
    const [members, s3] = inputs(k8sObject(plan, "NetworkPolicy", "mongodb", infra)).spec.egress;
    expect(members).toEqual({ to: [{ podSelector: { matchLabels: mongodPodLabels("mongodb") } }], ports: [{ protocol: "TCP", port: 27017 }] });
    expect(ports(s3)).toEqual([443]);
    expect(s3.to).toEqual([
      { ipBlock: { cidr: "0.0.0.0/0", except: expect.arrayContaining(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]) } },
      { ipBlock: { cidr: "::/0", except: expect.arrayContaining(["fc00::/7", "fe80::/10"]) } },
    ]);
  });

  it("let the operator reach the API server and the database pods, and nothing reach it", async () => {
    const plan = await cachedPlan(stack);
    const spec = inputs(k8sObject(plan, "NetworkPolicy", "psmdb-operator", infra)).spec;
    expect(spec.podSelector.matchLabels).toEqual({ "app.kubernetes.io/name": "psmdb-operator", "app.kubernetes.io/instance": "psmdb-operator" });
    expect(spec.policyTypes).toEqual(["Egress"]);
    expect(spec.ingress).toBeUndefined();
    expect(spec.egress.map(ports)).toEqual([[443, 6443], [27017]]);
    expect(spec.egress[1].to).toEqual([{ podSelector: { matchLabels: { "app.kubernetes.io/managed-by": "percona-server-mongodb-operator" } } }]);
  });
});

describe("the operator's API server egress", () => {
  const CNP = "kubernetes:cilium.io/v2:CiliumNetworkPolicy";

  it("is the configured endpoints in prod, and any address where they are unset (dev)", async () => {
    const configured = JSON.parse(stackConfig("prod").values["diaspomoney-platform:kubernetes"]).apiServerCidrs as string[];
    const prod = inputs(k8sObject(await cachedPlan("prod"), "NetworkPolicy", "psmdb-operator", "diaspomoney-prod-infra")).spec.egress[0];
    expect(prod.to).toEqual(configured.map((cidr) => ({ ipBlock: { cidr } })));
    const dev = inputs(k8sObject(await cachedPlan("dev"), "NetworkPolicy", "psmdb-operator", "diaspomoney-dev-infra")).spec.egress[0];
    expect(dev.to).toEqual([{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }]);
    expect((await cachedPlan("prod")).resources.filter((r) => r.type === CNP)).toEqual([]);
  });

  it("on Cilium is a kube-apiserver CiliumNetworkPolicy for the same pods, and no address rule", async () => {
    const file = JSON.parse(stackConfig("prod").values["diaspomoney-platform:kubernetes"]);
    const plan = await planStack("prod", { config: { kubernetes: { ...file, cni: "cilium" } } });
    const np = inputs(k8sObject(plan, "NetworkPolicy", "psmdb-operator", "diaspomoney-prod-infra")).spec;
    expect(np.egress.map(ports)).toEqual([[27017]]);
    const cnp = inputs(k8sObject(plan, "CiliumNetworkPolicy", "psmdb-operator-cluster-access", "diaspomoney-prod-infra")).spec;
    expect(cnp.endpointSelector).toEqual(np.podSelector);
    expect(cnp.egress).toEqual([{ toEntities: ["kube-apiserver"], toPorts: [{ ports: [{ port: "443", protocol: "TCP" }, { port: "6443", protocol: "TCP" }] }] }]);
  });
});
