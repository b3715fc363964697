import { describe, expect, it } from "vitest";
import { environments } from "../../stacks";
import { environmentSpecSchema } from "../../infra/config/schema";
import { computedState } from "../../infra/plan/recorder";
import { charts, images } from "../../infra/versions";
import { cachedPlan, inputs, k8sObject, ofType, STACKS } from "../harness";

const expected = {
  dev: { protect: false },
  rct: { protect: false },
  prod: { protect: true },
} as const;

describe.each(STACKS)("Redis in %s", (stack) => {
  const infra = `diaspomoney-${stack}-infra`;
  const app = `diaspomoney-${stack}`;
  const spec = environmentSpecSchema.parse(environments[stack]).redis;
  const cr = async () => k8sObject(await cachedPlan(stack), "RedisCluster", "redis", infra);

  it("runs the stack's leaders, one follower set per leader, with the stack's storage and resources", async () => {
    const { spec: s } = inputs(await cr());
    expect(spec).toMatchObject({ leaders: 3, followersPerLeader: 1 });
    expect(s.clusterSize).toBe(spec.leaders);
    expect(s.redisLeader.replicas).toBe(spec.leaders);
    expect(s.redisFollower.replicas).toBe(spec.leaders * spec.followersPerLeader);
    expect(s.kubernetesConfig.resources).toEqual(spec.resources);
    expect(s.storage.volumeClaimTemplate.spec).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: spec.storage } } });
    expect(s.storage.nodeConfVolume).toBe(true);
    expect(s.kubernetesConfig.image).toBe(images.redis);
    expect(s.redisExporter).toMatchObject({ enabled: true, image: images.redisExporter });
  });

  it("persists with AOF, fsync every second, through a ConfigMap both roles read", async () => {
    const plan = await cachedPlan(stack);
    const { spec: s } = inputs(await cr());
    expect(s.persistenceEnabled).toBe(true);
    const conf: string = inputs(k8sObject(plan, "ConfigMap", "redis-config", infra)).data["redis-additional.conf"];
    expect(conf.split("\n")).toEqual(expect.arrayContaining(["appendonly yes", "appendfsync everysec", "maxmemory-policy volatile-lru"]));
    expect(s.redisLeader.redisConfig).toEqual({ additionalRedisConfig: "redis-config" });
    expect(s.redisFollower.redisConfig).toEqual({ additionalRedisConfig: "redis-config" });
  });

  it("spreads each role, and bounds its disruptions", async () => {
    const { spec: s } = inputs(await cr());
    for (const role of [s.redisLeader, s.redisFollower]) {
      expect(role.pdb).toEqual({ enabled: true, maxUnavailable: 1 });
      const anti = role.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
      expect(anti.topologyKey).toBe("kubernetes.io/hostname");
      expect(anti.labelSelector.matchExpressions[0].values).toEqual(["redis-leader", "redis-follower"]);
      expect(role.topologySpreadConstraints[0].topologyKey).toBe("topology.kubernetes.io/zone");
    }
  });

  it("runs every container non-root, without privilege escalation or capabilities, under the runtime seccomp profile", async () => {
    const { spec: s } = inputs(await cr());
    expect(s.podSecurityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
    for (const sc of [s.redisLeader.securityContext, s.redisFollower.securityContext, s.redisExporter.securityContext]) {
      expect(sc).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    }
  });

  it("authenticates with a generated password held only in a Secret", async () => {
    const plan = await cachedPlan(stack);
    const { spec: s } = inputs(await cr());
    expect(s.kubernetesConfig.redisSecret).toEqual({ name: "redis-password", key: "password" });
    const secret = k8sObject(plan, "Secret", "redis-password", infra);
    expect(inputs(secret).stringData).toEqual({ password: "[secret]" });
    const [generator] = ofType(plan, "random:index/randomPassword:RandomPassword").filter((r) => r.name === "redis-password");
    expect(secret.dependsOn).toContain(generator.urn);
    const fake = computedState(generator.type, generator.name, inputs(generator)).result as string;
    expect(fake).toHaveLength(32);
    expect(JSON.stringify(plan)).not.toContain(fake);
    expect(inputs(k8sObject(plan, "ConfigMap", "redis-config", infra)).data["redis-additional.conf"]).not.toMatch(/requirepass|masterauth/);
    const out = (plan.outputs as any).data.redis;
    expect(out.nodes).toBe([0, 1, 2].map((i) => `redis-leader-${i}.redis-leader-headless.${infra}.svc:6379`).join(","));
    expect(JSON.stringify(out)).not.toMatch(/\[secret\]|password/i);
  });

  it("admits the app on 6379, Prometheus on 9121, the bus between Redis pods only", async () => {
    const plan = await cachedPlan(stack);
    const policy = inputs(k8sObject(plan, "NetworkPolicy", "redis-nodes", infra)).spec;
    const peer = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": app } }, podSelector: { matchLabels: { "app.kubernetes.io/name": name } } });
    const byPeer = new Map(policy.ingress.map((r: any) => [JSON.stringify(r.from), r.ports.map((p: { port: number }) => p.port)]));
    expect(byPeer.get(JSON.stringify([peer("web")]))).toEqual([6379]);
    expect(byPeer.get(JSON.stringify([peer("prometheus")]))).toEqual([9121]);
    const bus = policy.ingress.filter((r: any) => r.ports.some((p: { port: number }) => p.port === 16379));
    expect(bus).toEqual([{ from: [{ podSelector: policy.podSelector }], ports: [6379, 16379].map((port) => ({ protocol: "TCP", port })) }]);
  });

  it("installs the operator in the infra namespace watching only it, never its CRDs (the cluster stack's)", async () => {
    const plan = await cachedPlan(stack);
    const [release] = ofType(plan, "kubernetes:helm.sh/v3:Release").filter((r) => inputs(r).chart === charts.redisOperator.chart);
    const c = inputs(release);
    expect(c).toMatchObject({ name: "redis-operator", namespace: infra, atomic: true, version: charts.redisOperator.version, repositoryOpts: { repo: charts.redisOperator.repo }, skipCrds: true });
    expect(`${c.values.redisOperator.imageName}:${c.values.redisOperator.imageTag}`).toBe(images.redisOperator);
    expect(c.values.redisOperator.watchNamespace).toBe(infra);
    expect(c.values.rbac.scope).toBe("namespace");
    expect(JSON.stringify(c.values)).not.toMatch(/password|\[secret\]|offline-placeholder/i);
    expect((await cr()).dependsOn).toContain(release.urn);
  });

  it(`${expected[stack].protect ? "protects" : "does not protect"} the cluster, and always keeps its volumes`, async () => {
    const r = await cr();
    expect([r.protect, r.retainOnDelete]).toEqual([expected[stack].protect, expected[stack].protect]);
    expect(inputs(r).spec.storage.keepAfterDelete).toBe(true);
    expect(inputs(r).spec.kubernetesConfig.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
  });
});
