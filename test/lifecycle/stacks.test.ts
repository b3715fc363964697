/**
 * Build 3 on the real environment plans: every lifecycle guarantee the component tests prove holds in
 * dev, rct and prod as the program assembles them, and the quota sizing model (infra/sizing.ts) is
 * what the plans actually declare.
 */
import { describe, expect, it } from "vitest";
import { READINESS } from "../../components/lifecycle";
import { profileOf } from "../../infra/compliance";
import { evaluatePlan } from "../../infra/compliance/evaluate";
import { environmentSpecSchema } from "../../infra/config/schema";
import { readStackConfigFile } from "../../infra/plan/run";
import { clusterSpecSchema } from "../../infra/cluster/schema";
import { certManagerQuotaProblems, environmentWorkloads, type PodGroup } from "../../infra/sizing";
import { lifecycleControls } from "../../policy/controls/lifecycle";
import { clusters, environments } from "../../stacks";
import { cachedPlan, CLUSTER_STACKS, inputs, ofType, STACKS, type Plan, type RecordedResource } from "../harness";
import { deletedBefore } from "./graph";

const kindOf = (r: RecordedResource) => (r.type.startsWith("kubernetes:") ? (inputs(r) as { kind?: string }).kind : undefined);
const byKind = (plan: Plan, kind: string) => plan.resources.filter((r) => kindOf(r) === kind);
const DATA_KINDS = ["Kafka", "KafkaTopic", "KafkaUser", "PerconaServerMongoDB", "RedisCluster"] as const;

describe.each(STACKS)("%s", (stack) => {
  it("passes every lifecycle control of the policy pack", async () => {
    const audit = await evaluatePlan(await cachedPlan(stack), profileOf(stack), lifecycleControls);
    for (const c of audit.controls) expect([c.name, c.status, c.violations.map((v) => v.message)]).toEqual([c.name, "pass", []]);
  });

  it("awaits every data custom resource on its ready condition", async () => {
    const plan = await cachedPlan(stack);
    for (const kind of DATA_KINDS) {
      const found = byKind(plan, kind);
      expect(found.length, kind).toBeGreaterThan(0);
      for (const r of found) expect(inputs(r).metadata.annotations, `${kind} ${r.name}`).toMatchObject({ "pulumi.com/waitFor": READINESS[kind].waitFor });
    }
  });

  it("starts the app after every data custom resource, and deletes it before them", async () => {
    const plan = await cachedPlan(stack);
    const apps = byKind(plan, "Deployment");
    expect(apps.length).toBeGreaterThan(0);
    for (const app of apps) for (const kind of DATA_KINDS) for (const cr of byKind(plan, kind)) expect(deletedBefore(plan, app, cr), `${inputs(app).metadata.name} after ${kind} ${cr.name}`).toBe(true);
  });

  it("updates Secrets and ConfigMaps in place, so that a rotation is not a delete and re-create under a fixed name", async () => {
    const provider = ofType(await cachedPlan(stack), "pulumi:providers:kubernetes").map(inputs);
    expect(provider).toHaveLength(1);
    // Provider inputs reach the engine as strings.
    expect(provider[0]).toMatchObject({ enableSecretMutable: "true", enableConfigMapMutable: "true" });
  });

  it("deletes topics and users before their Kafka, its pools and the operator release", async () => {
    const plan = await cachedPlan(stack);
    const targets = [...byKind(plan, "Kafka"), ...byKind(plan, "KafkaNodePool"), ...ofType(plan, "kubernetes:helm.sh/v3:Release").filter((r) => /strimzi/.test(String(inputs(r).chart)))];
    for (const e of [...byKind(plan, "KafkaTopic"), ...byKind(plan, "KafkaUser")]) for (const t of targets) expect(deletedBefore(plan, e, t), `${e.name} before ${t.name}`).toBe(true);
  });

  it("gives every Helm release 15 minutes and lets every chart await its objects", async () => {
    const plan = await cachedPlan(stack);
    for (const r of ofType(plan, "kubernetes:helm.sh/v3:Release").map(inputs)) expect([r.name, r.timeout, r.atomic]).toEqual([r.name, 900, true]);
    for (const c of ofType(plan, "kubernetes:helm.sh/v4:Chart").map(inputs)) expect([c.name, c.skipAwait]).toEqual([c.name, false]);
  });

  it("declares the workloads the quota sizing counts, at the sizes it counts", async () => {
    const plan = await cachedPlan(stack);
    const spec = environmentSpecSchema.parse(environments[stack]);
    // The strategy the stack deploys with (the quota check itself counts the largest one).
    const release = JSON.parse(readStackConfigFile(stack).values["diaspomoney-platform:app"]).release;
    expect(release).toEqual({ strategy: "rolling" });
    const w = environmentWorkloads(spec, release);
    const group = (groups: PodGroup[], name: string) => {
      const g = groups.find((x) => x.name === name);
      expect(g, name).toBeDefined();
      return g!;
    };
    // The app: its HPA's maximum, its Deployment's container.
    const hpa = inputs(byKind(plan, "HorizontalPodAutoscaler")[0]).spec;
    const web = inputs(byKind(plan, "Deployment")[0]).spec;
    expect(group(w.app, "web")).toMatchObject({ replicas: hpa.maxReplicas, containers: web.template.spec.containers.map((c: any) => c.resources) });
    expect(web.template.spec.initContainers ?? []).toEqual([]);
    // Charts, from their values.
    const values = (name: RegExp) => inputs(ofType(plan, "kubernetes:helm.sh/v4:Chart").find((c) => name.test(inputs(c).name))!).values;
    const traefik = values(/^traefik$/);
    expect(group(w.app, "traefik")).toMatchObject({ replicas: traefik.deployment.replicas, containers: [traefik.resources] });
    const kps = values(/^monitoring-/);
    expect(group(w.app, "prometheus")).toMatchObject({ replicas: kps.prometheus.prometheusSpec.replicas, containers: [kps.prometheus.prometheusSpec.resources, kps.prometheusOperator.prometheusConfigReloader.resources] });
    expect(group(w.app, "alertmanager")).toMatchObject({ replicas: kps.alertmanager.alertmanagerSpec.replicas, containers: [kps.alertmanager.alertmanagerSpec.resources, kps.prometheusOperator.prometheusConfigReloader.resources] });
    expect(group(w.app, "grafana")).toMatchObject({ replicas: kps.grafana.replicas, containers: [kps.grafana.resources, kps.grafana.sidecar.resources, kps.grafana.sidecar.resources] });
    expect(group(w.app, "prometheus-operator").containers).toEqual([kps.prometheusOperator.resources]);
    expect(group(w.app, "kube-state-metrics").containers).toEqual([kps["kube-state-metrics"].resources]);
    // Operators, from their releases.
    for (const [name, chart] of [["strimzi-cluster-operator", /strimzi/], ["psmdb-operator", /psmdb/], ["redis-operator", /redis-operator/]] as const) {
      const release = ofType(plan, "kubernetes:helm.sh/v3:Release").find((r) => chart.test(String(inputs(r).chart)));
      if (release) expect(group(w.infra, name).containers, name).toEqual([inputs(release).values.resources]);
    }
    // Operator-managed pods, from their custom resources.
    for (const pool of byKind(plan, "KafkaNodePool").map(inputs)) {
      expect(group(w.infra, `kafka pool ${pool.metadata.name}`)).toMatchObject({ replicas: pool.spec.replicas, containers: [pool.spec.resources], volumes: pool.spec.storage.volumes.map((v: any) => v.size) });
    }
    const kafka = inputs(byKind(plan, "Kafka")[0]).spec;
    expect(group(w.infra, "kafka entity operator").containers).toEqual([kafka.entityOperator.topicOperator.resources, kafka.entityOperator.userOperator.resources]);
    expect(group(w.infra, "kafka exporter").containers).toEqual([kafka.kafkaExporter.resources]);
    const psmdb = inputs(byKind(plan, "PerconaServerMongoDB")[0]).spec;
    expect(group(w.infra, "mongodb members")).toMatchObject({
      replicas: psmdb.replsets[0].size,
      containers: [psmdb.replsets[0].resources, ...psmdb.replsets[0].sidecars.map((s: any) => s.resources), psmdb.backup.resources],
      volumes: [psmdb.replsets[0].volumeSpec.persistentVolumeClaim.resources.requests.storage],
    });
    const redis = inputs(byKind(plan, "RedisCluster")[0]).spec;
    expect(group(w.infra, "redis nodes")).toMatchObject({
      replicas: redis.redisLeader.replicas + redis.redisFollower.replicas,
      containers: [redis.kubernetesConfig.resources, redis.redisExporter.resources],
      volumes: [redis.storage.volumeClaimTemplate.spec.resources.requests.storage, redis.storage.nodeConfVolumeClaimTemplate.spec.resources.requests.storage],
    });
    // Nothing else runs pods in the two namespaces: no other workload nor operator resource.
    const podKinds = new Set(plan.resources.map(kindOf).filter((k): k is string => ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"].includes(k ?? "")));
    expect([...podKinds]).toEqual(["Deployment"]);
    expect(byKind(plan, "Deployment")).toHaveLength(w.app.filter((g) => g.name.startsWith("web")).length);
  });
});

describe.each(CLUSTER_STACKS)("%s", (stack) => {
  it("lets every chart await its objects and gives every Helm release 15 minutes", async () => {
    const plan = await cachedPlan(stack);
    for (const c of ofType(plan, "kubernetes:helm.sh/v4:Chart").map(inputs)) expect([c.name, c.skipAwait === true]).toEqual([c.name, false]);
    for (const r of ofType(plan, "kubernetes:helm.sh/v3:Release").map(inputs)) expect([r.name, r.timeout]).toEqual([r.name, 900]);
  });

  it("sizes cert-manager's namespace for the replicas the cluster runs", () => {
    const spec = clusterSpecSchema.parse(clusters[stack]);
    expect(certManagerQuotaProblems(stack, spec.certManager.replicas)).toEqual([]);
  });
});
