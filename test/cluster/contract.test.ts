import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ClusterContractError, contractProblems, type ClusterContract } from "../../infra/cluster/contract";
import { loadCluster } from "../../infra/cluster/load";
import { ConfigError } from "../../infra/config/load";
import { crdVersions } from "../../infra/crds";
import { installRecorder } from "../../infra/plan/recorder";
import { getMonitor } from "../../infra/sdk-internals";
import { clusterNonprod } from "../../stacks/cluster-nonprod";
import { clusterProd } from "../../stacks/cluster-prod";
import { UnknownStackError } from "../../stacks";
import { cachedPlan, inputs, ofType, planStack } from "../harness";

function contract(overrides: Partial<ClusterContract> = {}): ClusterContract {
  return {
    schema: 1,
    stack: "cluster-nonprod",
    clusterIdentifier: "eu-par-nonprod-01",
    environments: ["dev", "rct"],
    services: "managed",
    cni: "calico",
    crds: crdVersions(),
    certManager: { namespace: "cert-manager" },
    internalCa: {
      dev: { issuer: "diaspomoney-dev-internal-ca", caSecret: { namespace: "cert-manager", name: "diaspomoney-dev-internal-ca" } },
      rct: { issuer: "diaspomoney-rct-internal-ca", caSecret: { namespace: "cert-manager", name: "diaspomoney-rct-internal-ca" } },
    },
    ...overrides,
  };
}

describe("the cluster contract", () => {
  it("fits an environment it hosts, on its cluster, at the CRD releases of this program", () => {
    expect(contractProblems("dev", "eu-par-nonprod-01", contract())).toEqual([]);
  });

  it("is what the cluster stack publishes", async () => {
    const plan = await cachedPlan("cluster-nonprod");
    const published = (plan.outputs as any).contract;
    expect(contractProblems("dev", "eu-par-nonprod-01", published)).toEqual([]);
    expect(contractProblems("rct", "eu-par-nonprod-01", published)).toEqual([]);
    expect(published.internalCa.dev).toEqual({ issuer: "diaspomoney-dev-internal-ca", caSecret: { namespace: "cert-manager", name: "diaspomoney-dev-internal-ca" } });
  });

  it("names every misfit at once: missing stack output, other cluster, environment not hosted, CRD releases", () => {
    expect(contractProblems("dev", "x", undefined)[0]).toMatch(/no "contract" output: deploy it first/);
    expect(contractProblems("dev", "x", { schema: 2 })[0]).toMatch(/not a contract of schema 1/);
    const problems = contractProblems(
      "prod",
      "eu-par-prod-01",
      contract({ crds: { ...crdVersions(), strimzi: "1.1.0" }, internalCa: {} }),
    );
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/manages cluster "eu-par-nonprod-01", but .*clusterIdentifier is "eu-par-prod-01"/);
    expect(problems[1]).toMatch(/does not host environment "prod"/);
    expect(problems[2]).toMatch(/no internal CA issuer for "prod"/);
    expect(problems[3]).toMatch(/CRDs of strimzi: the cluster serves "1.1.0", this program needs "1.2.0"/);
  });
});

/** What the last plan registered besides the stack itself (the reference is a read, not a registration). */
const registered = () => ((getMonitor() as any).records as { type: string }[]).filter((r) => r.type !== "pulumi:pulumi:Stack");

describe("an environment whose cluster stack does not fit", () => {
  it("fails before registering anything when the cluster stack is not deployed", async () => {
    await expect(planStack("dev", { config: { cluster: { stack: "cluster-gone" } } })).rejects.toThrow(ClusterContractError);
    await expect(planStack("dev", { config: { cluster: { stack: "cluster-gone" } } })).rejects.toThrow(
      /Stack "dev" cannot deploy on cluster stack "cluster-gone".*\n.*no "contract" output: deploy it first/,
    );
    expect(registered()).toEqual([]);
  });

  it("fails with every reason when it names another cluster's stack", async () => {
    const err = (await planStack("dev", { config: { cluster: { stack: "cluster-prod" } } }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ClusterContractError);
    expect(err.message).toMatch(/manages cluster "eu-par-prod-01"/);
    expect(err.message).toMatch(/does not host environment "dev"/);
    expect(registered()).toEqual([]);
  });

  it("deploys where the contract fits: the committed configs", async () => {
    const plan = await cachedPlan("rct");
    expect((plan.outputs as any).environment.cluster).toMatchObject({ stack: "cluster-nonprod", identifier: "eu-par-nonprod-01", services: "managed" });
  });
});

describe("cluster stack configuration", () => {
  const raw = (values: Record<string, unknown>, secret: string[] = []) => ({
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
    secret: new Set(secret),
  });
  const base = { kubernetes: { context: "c", clusterIdentifier: "id", cni: "calico", apiServerCidrs: ["10.0.0.0/28"] }, autoscaler: { mode: "platform" } };

  it("accepts the committed clusters", () => {
    expect(loadCluster("cluster-prod", clusterProd, raw({ ...base, autoscaler: { mode: "chart", cloudProvider: "clusterapi", nodeGroups: [{ name: "a", minSize: 1, maxSize: 3 }] } })).config.autoscaler.mode).toBe("chart");
    expect(loadCluster("cluster-nonprod", clusterNonprod, raw(base)).config.services).toBe("managed");
  });

  it("refuses, all at once, what would break the cluster: no API server addresses in production, inverted node group, chart without services, a secret", () => {
    const bad = raw(
      {
        kubernetes: { context: "c", clusterIdentifier: "id", cni: "calico" },
        services: "external",
        autoscaler: { mode: "chart", cloudProvider: "clusterapi", nodeGroups: [{ name: "a", minSize: 3, maxSize: 1 }] },
        token: "x",
      },
      ["token"],
    );
    let err: ConfigError | undefined;
    try {
      loadCluster("cluster-prod", clusterProd, bad);
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const keys = err!.problems.map((p) => p.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        "diaspomoney-platform:token",
        "diaspomoney-platform:kubernetes.apiServerCidrs",
        "diaspomoney-platform:autoscaler.nodeGroups[0].maxSize",
        "diaspomoney-platform:autoscaler.mode",
      ]),
    );
    expect(err!.message).toMatch(/Invalid configuration for stack "cluster-prod"/);
    expect(err!.message).not.toMatch(/"x"/);
  });

  it("registers nothing when the configuration is refused", async () => {
    installRecorder("diaspomoney-platform", "cluster-prod");
    await expect(planStack("cluster-prod", { config: { kubernetes: { context: "c", clusterIdentifier: "id", cni: "calico" } } })).rejects.toThrow(ConfigError);
    expect((getMonitor() as any).records).toEqual([]);
  });
});

describe("cluster-wide pieces", () => {
  it("binds each hosted environment's Strimzi operator to the shared ClusterRoles, kept like the CRDs", async () => {
    const plan = await cachedPlan("cluster-nonprod");
    const bindings = ofType(plan, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").map(inputs);
    expect(bindings.map((b) => b.metadata.name).sort()).toEqual([
      "strimzi-cluster-operator-global-diaspomoney-dev-infra",
      "strimzi-cluster-operator-global-diaspomoney-rct-infra",
      "strimzi-cluster-operator-kafka-broker-delegation-diaspomoney-dev-infra",
      "strimzi-cluster-operator-kafka-broker-delegation-diaspomoney-rct-infra",
    ]);
    const roles = plan.resources.filter((r) => r.type === "kubernetes:yaml/v2:ConfigFile" && /ClusterRole/.test(inputs(r).file));
    expect(roles.length).toBeGreaterThan(0);
    for (const r of roles) expect([r.protect, r.retainOnDelete, inputs(r).file]).toEqual([true, true, expect.stringContaining("/strimzi-kafka-operator/1.2.0/")]);
  });

  it("installs the Cluster Autoscaler from its chart in cluster-prod, and leaves it to the platform in cluster-nonprod", async () => {
    const prod = await cachedPlan("cluster-prod");
    const [chart] = ofType(prod, "kubernetes:helm.sh/v4:Chart").filter((c) => inputs(c).chart === "cluster-autoscaler");
    expect(inputs(chart).values).toMatchObject({ cloudProvider: "clusterapi", autoscalingGroups: [{ name: "eu-par-prod-01-general-a", minSize: 3, maxSize: 9 }, { name: "eu-par-prod-01-general-b", minSize: 3, maxSize: 9 }] });
    expect(inputs(chart).values.extraArgs).toMatchObject({ expander: "least-waste", "skip-nodes-with-local-storage": false });
    expect((prod.outputs as any).cluster.autoscaler.mode).toBe("chart");
    const nonprod = await cachedPlan("cluster-nonprod");
    expect(ofType(nonprod, "kubernetes:helm.sh/v4:Chart").filter((c) => inputs(c).chart === "cluster-autoscaler")).toEqual([]);
    expect((nonprod.outputs as any).cluster.autoscaler).toEqual({ mode: "platform" });
  });
});

describe("the program's errors, as the Pulumi CLI prints them", () => {
  // Found by the real engine: the language host prints an unhandled error with util.inspect, which
  // starts from `err.stack`. A field named `stack` (the stack's name) replaced the trace, message
  // included: the CLI printed `[rct] { clusterStack: … }` and nothing of what to do.
  it.each([
    ["ClusterContractError", () => new ClusterContractError("rct", "cluster-nonprod", ["the cluster stack has no \"contract\" output"]), /^ClusterContractError: Stack "rct" cannot deploy on cluster stack "cluster-nonprod"/],
    ["ConfigError", () => new ConfigError("dev", [{ source: "Pulumi.dev.yaml", key: "k", value: "(not set)", expected: "a value" }]), /^ConfigError: Invalid configuration for stack "dev"/],
    ["UnknownStackError", () => new UnknownStackError("qa"), /^UnknownStackError: Unknown stack "qa"/],
  ])("%s keeps its message and trace", (_, make, header) => {
    const err = make();
    expect(err.stack).toMatch(header);
    expect(inspect(err)).toMatch(header);
    expect((err as { stackName: string }).stackName).toMatch(/^(rct|dev|qa)$/);
  });
});
