import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAXMEMORY_RATIO,
  memoryBytes,
  REDIS_OPERATOR_POD_LABELS,
  RedisCluster,
  RedisOperator,
  redisAdditionalConfig,
  redisCertificateDnsNames,
  redisOperatorValues,
  type RedisClusterArgs,
} from "../../components/redis";
import { splitImageRef } from "../../infra/data/redis";
import { inputs, k8sObject, ofType, planProgram } from "../harness";

const labels = (name: string, component?: string) => ({
  "app.kubernetes.io/name": name,
  "app.kubernetes.io/part-of": "test",
  "app.kubernetes.io/managed-by": "pulumi",
  ...(component ? { "app.kubernetes.io/component": component } : {}),
});
const peer = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "apps" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": name } } });

function clusterArgs(over: Partial<RedisClusterArgs> = {}): RedisClusterArgs {
  return {
    namespace: "data",
    labels,
    leaders: 3,
    followersPerLeader: 1,
    storage: "5Gi",
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    images: { redis: "quay.io/opstree/redis:v8.6.2", exporter: "quay.io/opstree/redis-exporter:v1.83.0" },
    clients: [peer("web")],
    metricsScrapers: [peer("prometheus")],
    ...over,
  };
}

describe("memory quantities", () => {
  it("read binary units", () => {
    expect(memoryBytes("512Mi")).toBe(512 * 2 ** 20);
    expect(memoryBytes("4Gi")).toBe(4 * 2 ** 30);
    expect(memoryBytes("1Ti")).toBe(2 ** 40);
  });

  it("reject decimal units and garbage rather than guess", () => {
    for (const bad of ["512M", "1.5Gi", "", "Gi", "512mi"]) expect(() => memoryBytes(bad), bad).toThrow(/binary memory quantity/);
  });
});

describe("redis-additional.conf", () => {
  it("writes the AOF every second and evicts only expiring keys", () => {
    const lines = redisAdditionalConfig("512Mi").trim().split("\n");
    expect(lines).toEqual(["appendonly yes", "appendfsync everysec", `maxmemory ${Math.floor(512 * 2 ** 20 * MAXMEMORY_RATIO)}`, "maxmemory-policy volatile-lru"]);
  });

  it("keeps nodes announcing their IPs under TLS, and says nothing of it without", () => {
    expect(redisAdditionalConfig("512Mi", { tls: true }).trim().split("\n").at(-1)).toBe("cluster-preferred-endpoint-type ip");
    expect(redisAdditionalConfig("512Mi")).not.toMatch(/preferred-endpoint/);
  });

  it("always leaves headroom under the container limit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 1 << 20 }), (mi) => {
        const max = Number(/maxmemory (\d+)/.exec(redisAdditionalConfig(`${mi}Mi`))![1]);
        expect(max).toBeGreaterThan(0);
        expect(max).toBeLessThan(mi * 2 ** 20);
      }),
    );
  });
});

describe("redis-operator values", () => {
  it("watch only the operator's namespace with a namespaced Role, pin the image, run restricted, carry no secret", () => {
    const v = redisOperatorValues({ namespace: "data", image: { repository: "quay.io/opstree/redis-operator", tag: "v0.26.0" }, labels }) as any;
    expect(v.redisOperator).toMatchObject({ imageName: "quay.io/opstree/redis-operator", imageTag: "v0.26.0", watchNamespace: "data", webhook: false });
    expect(v.redisOperator.podLabels).not.toHaveProperty("app.kubernetes.io/name");
    expect(v.rbac).toEqual({ enabled: true, scope: "namespace" });
    expect(v.certmanager).toEqual({ enabled: false });
    expect(v.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, readOnlyRootFilesystem: true });
    expect(JSON.stringify(v)).not.toMatch(/password|secret/i);
  });

  it("split an image reference at its tag, registry port included", () => {
    expect(splitImageRef("quay.io/opstree/redis-operator:v0.26.0")).toEqual({ repository: "quay.io/opstree/redis-operator", tag: "v0.26.0" });
    expect(splitImageRef("registry.local:5000/redis:7")).toEqual({ repository: "registry.local:5000/redis", tag: "7" });
    expect(() => splitImageRef("registry.local:5000/redis")).toThrow(/has no tag/);
  });
});

describe("RedisOperator", () => {
  const chart = { chart: "redis-operator", repo: "https://example/charts", version: "0.26.1" };
  const image = { repository: "quay.io/opstree/redis-operator", tag: "v0.26.0" };

  it("installs the chart without its CRDs, or no chart where the cluster's owners run the operator", async () => {
    const plan = await planProgram("dev", async () => (new RedisOperator("op", { namespace: "data", chart, image, labels, installChart: true }), {}));
    const c = inputs(ofType(plan, "kubernetes:helm.sh/v3:Release")[0]);
    expect(c).toMatchObject({ chart: "redis-operator", version: "0.26.1", repositoryOpts: { repo: chart.repo }, namespace: "data", skipCrds: true });
    const external = await planProgram("dev", async () => (new RedisOperator("op", { namespace: "data", chart, image, labels, installChart: false }), {}));
    expect(ofType(external, "kubernetes:helm.sh/v3:Release")).toHaveLength(0);
  });

  it("lets the operator reach the API server and the Redis pods' client port, and accepts nothing", async () => {
    const plan = await planProgram("dev", async () => (new RedisOperator("op", { namespace: "data", chart, image, labels, installChart: true }), {}));
    const spec = inputs(k8sObject(plan, "NetworkPolicy", "redis-operator", "data")).spec;
    expect(spec.podSelector.matchLabels).toEqual(REDIS_OPERATOR_POD_LABELS);
    expect(spec.ingress).toEqual([]);
    expect(spec.egress[0].to).toEqual([{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }]);
    expect(spec.egress[1]).toEqual({ to: [{ podSelector: { matchExpressions: [{ key: "redis_setup_type", operator: "Exists" }] } }], ports: [{ protocol: "TCP", port: 6379 }] });
  });
});

describe("RedisCluster", () => {
  it("sizes followers as leaders times followers per leader", async () => {
    const plan = await planProgram("dev", async () => (new RedisCluster("r", clusterArgs({ leaders: 4, followersPerLeader: 2 })), {}));
    const { spec } = inputs(k8sObject(plan, "RedisCluster", "redis", "data"));
    expect([spec.clusterSize, spec.redisLeader.replicas, spec.redisFollower.replicas]).toEqual([4, 4, 8]);
  });

  it("admits the cluster bus from its own pods only, and the app on the client port only", async () => {
    const plan = await planProgram("dev", async () => (new RedisCluster("r", clusterArgs()), {}));
    const spec = inputs(k8sObject(plan, "NetworkPolicy", "redis-nodes", "data")).spec;
    const self = { podSelector: spec.podSelector };
    const rules = spec.ingress.map((r: any) => [r.from, r.ports.map((p: { port: number }) => p.port)]);
    expect(rules).toEqual([
      [[peer("web")], [6379]],
      [[self], [6379, 16379]],
      [[{ podSelector: { matchLabels: REDIS_OPERATOR_POD_LABELS } }], [6379]],
      [[peer("prometheus")], [9121]],
    ]);
    expect(spec.egress).toEqual([{ to: [self], ports: [6379, 16379].map((port) => ({ protocol: "TCP", port })) }]);
    expect(spec.podSelector).toEqual({ matchLabels: { redis_setup_type: "cluster" }, matchExpressions: [{ key: "app", operator: "In", values: ["redis-leader", "redis-follower"] }] });
  });

  it("seeds clients with every leader's stable address", async () => {
    let nodes: string | undefined;
    await planProgram("dev", async () => {
      new RedisCluster("r", clusterArgs()).nodes.apply((n) => (nodes = n));
      return {};
    });
    expect(nodes).toBe([0, 1, 2].map((i) => `redis-leader-${i}.redis-leader-headless.data.svc:6379`).join(","));
  });

  it("protects the cluster only when asked, and always keeps its volumes", async () => {
    for (const protectData of [true, false]) {
      const plan = await planProgram("dev", async () => (new RedisCluster("r", clusterArgs({ protectData })), {}));
      const cr = k8sObject(plan, "RedisCluster", "redis", "data");
      expect([cr.protect, cr.retainOnDelete]).toEqual([protectData, protectData]);
      expect(inputs(cr).spec.storage.keepAfterDelete).toBe(true);
      expect(inputs(cr).spec.kubernetesConfig.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    }
  });

  it("turns TLS on with a certificate from the caller's issuer, verified against a name it holds", async () => {
    const issuer = { name: "env-ca", kind: "ClusterIssuer", group: "cert-manager.io" } as const;
    let serverName: string | undefined;
    const plan = await planProgram("dev", async () => {
      new RedisCluster("r", clusterArgs({ tls: { issuer } })).tlsServerName!.apply((n) => (serverName = n));
      return {};
    });
    const cr = k8sObject(plan, "RedisCluster", "redis", "data");
    expect(inputs(cr).spec.TLS).toEqual({ ca: "ca.crt", cert: "tls.crt", key: "tls.key", secret: { secretName: "redis-tls" } });
    const cert = k8sObject(plan, "Certificate", "redis-tls", "data");
    expect(inputs(cert).spec).toMatchObject({
      issuerRef: issuer,
      usages: ["server auth", "client auth", "digital signature"],
      duration: "8760h",
      renewBefore: "2160h",
    });
    expect(inputs(cert).spec.dnsNames).toContain(serverName);
    expect(inputs(cert).spec.dnsNames).toContain("*.redis-leader-headless.data.svc");
    expect(cr.dependsOn).toContain(cert.urn);
    expect(inputs(k8sObject(plan, "ConfigMap", "redis-config", "data")).data["redis-additional.conf"]).toMatch(/cluster-preferred-endpoint-type ip/);
  });

  it("leaves TLS off when no issuer is given", async () => {
    const plan = await planProgram("dev", async () => (new RedisCluster("r", clusterArgs()), {}));
    expect(inputs(k8sObject(plan, "RedisCluster", "redis", "data")).spec.TLS).toBeUndefined();
    expect(ofType(plan, "kubernetes:cert-manager.io/v1:Certificate")).toEqual([]);
  });
});

describe("Redis certificate names", () => {
  it("cover every pod of both roles through its headless Service, the role Services and localhost", () => {
    const names = redisCertificateDnsNames("redis", "data");
    expect(names[0]).toBe("localhost");
    for (const seed of [0, 1, 2].map((i) => `redis-leader-${i}.redis-leader-headless.data.svc`)) {
      expect(names).toContain(`*.${seed.split(".").slice(1).join(".")}`);
    }
    expect(names).toEqual(expect.arrayContaining(["redis-follower.data.svc", "*.redis-follower-headless.data.svc.cluster.local", "redis-leader-headless.data.svc"]));
    expect(new Set(names).size).toBe(names.length);
  });
});
