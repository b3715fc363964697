import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CERT_MANAGER_BUDGET } from "../components/cert-manager";
import type { NamespaceBudget } from "../components/namespaces";
import { ConfigError, loadEnvironment, type RawStackConfig } from "../infra/config/load";
import { environmentSpecSchema, type EnvironmentSpec } from "../infra/config/schema";
import { readStackConfigFile } from "../infra/plan/run";
import {
  budgetProblems,
  bytes,
  certManagerQuotaProblems,
  certManagerWorkloads,
  DIMENSIONS,
  environmentWorkloads,
  groupQuantities,
  headroomReport,
  LARGEST_RELEASE,
  millicores,
  namespaceMaximum,
  QUOTA_HEADROOM,
  quotaProblems,
  requiredQuantities,
  surgeOf,
  type PodGroup,
} from "../infra/sizing";
import { environments } from "../stacks";

const GI = 2 ** 30;
const spec = (stack: string): EnvironmentSpec => environmentSpecSchema.parse(environments[stack]);
const res = (cpu: string, memory: string, limitCpu = cpu, limitMemory = memory) => ({ requests: { cpu, memory }, limits: { cpu: limitCpu, memory: limitMemory } });

describe("quantities", () => {
  it("reads CPU and memory the way Kubernetes writes them", () => {
    expect(["500m", "2", "0.5", "1.25", "10m"].map(millicores)).toEqual([500, 2000, 500, 1250, 10]);
    expect(["512Mi", "4Gi", "1Ti", "64Ki"].map(bytes)).toEqual([512 * 2 ** 20, 4 * GI, 2 ** 40, 64 * 1024]);
    expect(() => millicores("1 CPU")).toThrow(/CPU quantity/);
    expect(() => bytes("1G")).toThrow(/binary quantity/);
  });

  it("rounds a percentage surge up, as the Deployment controller does", () => {
    expect([1, 3, 4, 5, 8, 20].map((n) => surgeOf("25%", n))).toEqual([1, 1, 1, 2, 2, 5]);
    expect(surgeOf(0, 10)).toBe(0);
  });

  it("charges a pod the larger of its containers' sum and its largest init container", () => {
    const g: PodGroup = { name: "p", replicas: 2, surge: 1, containers: [res("100m", "100Mi"), res("50m", "50Mi")], initContainers: [res("1", "10Mi")], volumes: ["10Gi", "1Gi"] };
    expect(groupQuantities(g)).toEqual({ cpuRequests: 3000, cpuLimits: 3000, memoryRequests: 3 * 150 * 2 ** 20, memoryLimits: 3 * 150 * 2 ** 20, pods: 3, persistentVolumeClaims: 4, storage: 22 * GI });
  });
});

describe("a namespace's quota against what runs in it", () => {
  const group = fc.record({
    name: fc.constantFrom("a", "b", "c"),
    replicas: fc.integer({ min: 1, max: 30 }),
    surge: fc.integer({ min: 0, max: 8 }),
    containers: fc.array(
      fc.record({ requests: fc.record({ cpu: fc.integer({ min: 1, max: 4000 }).map((m) => `${m}m`), memory: fc.integer({ min: 1, max: 8192 }).map((m) => `${m}Mi`) }), limits: fc.record({ cpu: fc.integer({ min: 1, max: 8000 }).map((m) => `${m}m`), memory: fc.integer({ min: 1, max: 16384 }).map((m) => `${m}Mi`) }) }),
      { minLength: 1, maxLength: 3 },
    ),
    volumes: fc.array(fc.integer({ min: 1, max: 500 }).map((g) => `${g}Gi`), { maxLength: 2 }),
  });
  /** The smallest budget the check accepts for `groups`, written as a stack file would. */
  const exactBudget = (groups: PodGroup[]): NamespaceBudget => {
    const need = requiredQuantities(namespaceMaximum(groups));
    return {
      cpu: { requests: `${need.cpuRequests}m`, limits: `${need.cpuLimits}m` },
      memory: { requests: `${Math.ceil(need.memoryRequests / 1024)}Ki`, limits: `${Math.ceil(need.memoryLimits / 1024)}Ki` },
      pods: need.pods,
      persistentVolumeClaims: need.persistentVolumeClaims,
      storage: `${Math.ceil(need.storage / 1024)}Ki`,
      containerDefaults: res("100m", "128Mi"),
    };
  };
  const where = { source: "stacks/test.ts", key: "namespaces.app" };

  it("accepts a budget of the maximum plus headroom, and refuses it one unit short in any dimension, naming the key", () => {
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 5 }), fc.constantFrom(...DIMENSIONS), (groups, short) => {
        const budget = exactBudget(groups);
        expect(budgetProblems(where, budget, groups)).toEqual([]);
        const need = requiredQuantities(namespaceMaximum(groups));
        if (need[short] === 0) return;
        const less: NamespaceBudget = structuredClone(budget);
        if (short === "cpuRequests") less.cpu.requests = `${need.cpuRequests - 1}m`;
        if (short === "cpuLimits") less.cpu.limits = `${need.cpuLimits - 1}m`;
        if (short === "memoryRequests") less.memory.requests = `${Math.ceil(need.memoryRequests / 1024) - 1}Ki`;
        if (short === "memoryLimits") less.memory.limits = `${Math.ceil(need.memoryLimits / 1024) - 1}Ki`;
        if (short === "pods") less.pods = need.pods - 1;
        if (short === "persistentVolumeClaims") less.persistentVolumeClaims = need.persistentVolumeClaims - 1;
        if (short === "storage") less.storage = `${Math.ceil(need.storage / 1024) - 1}Ki`;
        const problems = budgetProblems(where, less, groups);
        expect(problems.map((p) => p.key)).toEqual([`namespaces.app.${{ cpuRequests: "cpu.requests", cpuLimits: "cpu.limits", memoryRequests: "memory.requests", memoryLimits: "memory.limits", pods: "pods", persistentVolumeClaims: "persistentVolumeClaims", storage: "storage" }[short]}`]);
      }),
      { numRuns: 200 },
    );
  });
});

describe("the environments' quotas", () => {
  it.each(["dev", "rct", "prod"])("hold everything %s runs at its maximum with at least 10%% headroom in every dimension", (stack) => {
    expect(quotaProblems(stack, spec(stack))).toEqual([]);
    for (const row of headroomReport(spec(stack))) expect(row.headroom, `${stack} ${row.namespace} ${row.dimension}`).toBeGreaterThanOrEqual(QUOTA_HEADROOM);
  });

  it("count the app at its autoscaler's maximum plus its rolling surge, and every sidecar", () => {
    const rolling = environmentWorkloads(spec("prod"), { strategy: "rolling" });
    expect(rolling.app.find((g) => g.name === "web")).toMatchObject({ replicas: 20, surge: 5 });
    expect(rolling.infra.find((g) => g.name === "mongodb members")?.containers).toHaveLength(3);
    expect(rolling.infra.find((g) => g.name === "redis nodes")).toMatchObject({ replicas: 6, surge: 0 });
    // The issue counted about 50 CPU without surges; a rolling release at the maximum needs 62.6.
    expect(namespaceMaximum(rolling.app).cpuLimits).toBe(62_600);
    expect(namespaceMaximum(environmentWorkloads(spec("rct")).infra).cpuLimits).toBe(22_900);
  });

  it("hold any release strategy the deployment config may switch to: two full-size variants at most", () => {
    const largest = environmentWorkloads(spec("prod"));
    expect(largest.app.filter((g) => g.name.startsWith("web")).map((g) => [g.name, g.replicas, g.surge])).toEqual([
      ["web-blue", 20, 5],
      ["web-green", 20, 5],
    ]);
    const image = "r/web:1";
    const strategies = [
      { strategy: "rolling" as const },
      ...[1, 10, 25, 50, 100].map((canaryWeight) => ({ strategy: "canary" as const, canaryImage: image, canaryWeight })),
      { strategy: "blueGreen" as const, blueImage: image, greenImage: image, active: "green" as const },
    ];
    for (const stack of ["dev", "rct", "prod"]) {
      const top = namespaceMaximum(environmentWorkloads(spec(stack), LARGEST_RELEASE).app);
      for (const release of strategies) {
        const max = namespaceMaximum(environmentWorkloads(spec(stack), release).app);
        for (const d of DIMENSIONS) expect(max[d], `${stack} ${JSON.stringify(release)} ${d}`).toBeLessThanOrEqual(top[d]);
      }
    }
  });

  it("refuse the budgets the issue found too tight: prod's app namespace at 48 CPU, rct's infra namespace at 20", () => {
    const prod = spec("prod");
    prod.namespaces.app.cpu.limits = "48";
    expect(quotaProblems("prod", prod)).toEqual([
      {
        source: "stacks/prod.ts",
        key: "namespaces.app.cpu.limits",
        value: '"48"',
        expected: expect.stringMatching(/^at least "123\.9": at most 112\.6 CPU runs in the namespace at once \(web-blue 25 pods 50 CPU, web-green 25 pods 50 CPU, .*\) plus 10% headroom$/),
      },
    ]);
    const rct = spec("rct");
    rct.namespaces.infra.cpu.limits = "20";
    expect(quotaProblems("rct", rct).map((p) => [p.key, p.value])).toEqual([["namespaces.infra.cpu.limits", '"20"']]);
  });

  it("are part of the configuration check, which names the stack, the key and the numbers", () => {
    const file = readStackConfigFile("prod");
    const raw: RawStackConfig = { values: {}, secret: new Set() };
    for (const [k, v] of Object.entries(file.values)) {
      const short = k.replace(/^diaspomoney-platform:/, "");
      raw.values[short] = v;
      if (file.secretKeys.includes(k)) (raw.secret as Set<string>).add(short);
    }
    const input = structuredClone(environments.prod) as any;
    input.namespaces.infra.pods = 20;
    let error: unknown;
    try {
      loadEnvironment("prod", input, raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain("stacks/prod.ts namespaces.infra.pods = 20: expected at least 30: at most 27 runs in the namespace at once");
  });
});

describe("cert-manager's quota", () => {
  it("holds its three Deployments at two and at three replicas, each surging, with headroom", () => {
    for (const replicas of [1, 2, 3]) expect(certManagerQuotaProblems("cluster-nonprod", replicas), String(replicas)).toEqual([]);
    expect(namespaceMaximum(certManagerWorkloads(3)).pods).toBe(12);
    expect(CERT_MANAGER_BUDGET.pods).toBeGreaterThanOrEqual(Math.ceil(12 * (1 + QUOTA_HEADROOM)));
  });

  it("refuses more replicas than it was sized for", () => {
    expect(certManagerQuotaProblems("cluster-prod", 5).map((p) => p.key)).toEqual(expect.arrayContaining(["CERT_MANAGER_BUDGET.cpu.limits", "CERT_MANAGER_BUDGET.pods"]));
  });
});
