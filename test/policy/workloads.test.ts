import { describe, expect, it } from "vitest";
import {
  containerResources,
  disruptionBudgetAndSpread,
  imagesPinned,
  operatorPodsRestricted,
  podSecurityRestricted,
  probesOnServingContainers,
  readOnlyRootFilesystem,
  serviceAccountTokens,
} from "../../policy/controls/workloads";
import { evaluatePlan } from "../../infra/compliance/evaluate";
import { cachedPlan } from "../harness";
import { ACCEPTANCE, DEV, deployment, evaluate, k8s, messages, PROD, restrictedContainer } from "./harness";

const INFRA = "diaspomoney-prod-infra";

describe("pod-security-restricted", () => {
  it("passes a Deployment that meets Pod Security restricted, with evidence per check", async () => {
    const r = await evaluate(podSecurityRestricted, [deployment()]);
    expect(r.status).toBe("pass");
    expect(r.evidence.map((e) => e.property)).toContain("spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation");
    expect(r.evidence.every((e) => e.ok)).toBe(true);
  });

  it("fails a privileged container with host networking, naming the resource, property and requirement", async () => {
    const r = await evaluate(podSecurityRestricted, [
      deployment("web", (pod) => {
        pod.hostNetwork = true;
        delete pod.securityContext;
        pod.containers[0].securityContext = { privileged: true, capabilities: { add: ["SYS_ADMIN"] } };
        pod.volumes.push({ name: "host", hostPath: { path: "/var/run" } });
      }),
    ]);
    expect(r.status).toBe("fail");
    const m = messages(r);
    expect(m).toContainEqual(expect.stringMatching(/^Deployment diaspomoney-prod\/web: spec\.template\.spec\.hostNetwork is true; host namespaces are forbidden.*\[PCI-DSS 2\.2\.6/));
    expect(m).toContainEqual(expect.stringContaining("spec.template.spec.containers[0].securityContext.privileged is true; privileged containers are forbidden"));
    expect(m).toContainEqual(expect.stringContaining("allowPrivilegeEscalation is (not set); allowPrivilegeEscalation must be false"));
    expect(m).toContainEqual(expect.stringContaining('only NET_BIND_SERVICE may be added'));
    expect(m).toContainEqual(expect.stringContaining("volume types hostPath are not allowed"));
    expect(m).toContainEqual(expect.stringContaining("seccompProfile must be RuntimeDefault or Localhost"));
  });

  it("takes runAsNonRoot and seccomp from the pod when the container leaves them out, and rejects runAsUser 0", async () => {
    const ok = await evaluate(podSecurityRestricted, [deployment("web", (pod) => {
      delete pod.containers[0].securityContext.runAsNonRoot;
      delete pod.containers[0].securityContext.seccompProfile;
    })]);
    expect(ok.status).toBe("pass");
    const root = await evaluate(podSecurityRestricted, [deployment("web", (pod) => (pod.containers[0].securityContext.runAsUser = 0))]);
    expect(messages(root)).toEqual([expect.stringContaining("the container must run as non-root")]);
  });

  it("checks init containers and CronJob templates too", async () => {
    const cron = k8s("kubernetes:batch/v1:CronJob", "cleanup", "diaspomoney-prod", {
      spec: { schedule: "0 1 * * *", jobTemplate: { spec: { template: { spec: { initContainers: [{ name: "init", image: "busybox:1.36", securityContext: { ...restrictedContainer, allowPrivilegeEscalation: true } }], containers: [] } } } } },
    });
    const r = await evaluate(podSecurityRestricted, [cron]);
    expect(messages(r)).toEqual([expect.stringMatching(/^CronJob diaspomoney-prod\/cleanup: spec\.jobTemplate\.spec\.template\.spec\.initContainers\[0\]\.securityContext\.allowPrivilegeEscalation is true/)]);
  });

  it("judges what an operator resource declares and leaves the rest to operator-pods-restricted", async () => {
    const redis = (leaderContext: object) =>
      k8s("kubernetes:redis.redis.opstreelabs.in/v1beta2:RedisCluster", "redis", INFRA, {
        spec: { clusterSize: 3, kubernetesConfig: { image: "quay.io/opstree/redis:v8.6.2" }, redisLeader: { securityContext: leaderContext } },
      });
    const declared = await evaluate(podSecurityRestricted, [redis({ ...restrictedContainer, allowPrivilegeEscalation: true })]);
    expect(messages(declared)).toEqual([expect.stringContaining("RedisCluster diaspomoney-prod-infra/redis: spec.redisLeader.securityContext.allowPrivilegeEscalation is true")]);
    const hostNet = await evaluate(podSecurityRestricted, [
      k8s("kubernetes:redis.redis.opstreelabs.in/v1beta2:RedisCluster", "redis", INFRA, { spec: { hostNetwork: true, kubernetesConfig: { image: "quay.io/opstree/redis:v8.6.2" } } }),
    ]);
    expect(messages(hostNet)).toContainEqual(expect.stringContaining("spec.redisLeader.hostNetwork is true"));
  });
});

describe("operator-pods-restricted", () => {
  const kafka = k8s("kubernetes:kafka.strimzi.io/v1:Kafka", "kafka", INFRA, { spec: { kafka: { version: "4.1.0", listeners: [] }, entityOperator: { topicOperator: {}, userOperator: {} } } });
  const strimziChart = (env: object[]) => ({ type: "kubernetes:helm.sh/v4:Chart", name: "strimzi", inputs: { chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator", version: "1.2.0", values: { extraEnvs: env } } });

  it("accepts Kafka pods without declared contexts when Strimzi runs its restricted pod security provider", async () => {
    const r = await evaluate(operatorPodsRestricted, [kafka, strimziChart([{ name: "STRIMZI_POD_SECURITY_PROVIDER_CLASS", value: "restricted" }])]);
    expect(r.status).toBe("pass");
    expect(r.evidence[0].value).toContain("Strimzi's restricted pod security provider");
  });

  it("fails them when the operator runs with its default provider", async () => {
    const r = await evaluate(operatorPodsRestricted, [kafka, strimziChart([])]);
    expect(r.status).toBe("fail");
    expect(messages(r)).toContainEqual(expect.stringContaining("Kafka diaspomoney-prod-infra/kafka: spec.kafka.template.pod.securityContext is (not set); must be declared"));
  });

  it("reads the Kafka Exporter's container context where the CRD puts it (template.container)", async () => {
    const pod = { securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } } };
    const exporter = (template: object) =>
      k8s("kubernetes:kafka.strimzi.io/v1:Kafka", "kafka", INFRA, { spec: { kafka: { version: "4.1.0", listeners: [], template: { pod: pod, kafkaContainer: { securityContext: restrictedContainer } } }, kafkaExporter: { template } } });
    const declared = await evaluate(operatorPodsRestricted, [exporter({ pod, container: { securityContext: restrictedContainer } })]);
    expect(declared.status).toBe("pass");
    const missing = await evaluate(operatorPodsRestricted, [exporter({ pod })]);
    expect(messages(missing)).toEqual([expect.stringContaining("Kafka diaspomoney-prod-infra/kafka: spec.kafkaExporter.template.container.securityContext is (not set)")]);
  });

  it("holds for the stacks' own Kafka where the cluster provides Strimzi (no operator chart in the stack)", async () => {
    // Found by the real engine: with cluster services external, rct's preview failed this control.
    const plan = await cachedPlan("rct");
    const withoutOperator = { ...plan, resources: plan.resources.filter((r) => !(r.type.startsWith("kubernetes:helm") && /strimzi/.test(String((r.inputs as any).chart)))) };
    expect(withoutOperator.resources.length).toBeLessThan(plan.resources.length);
    const control = (await evaluatePlan(withoutOperator, ACCEPTANCE, [operatorPodsRestricted])).controls[0];
    expect(control.status, messages(control).join("\n")).toBe("pass");
  });

  it("requires Percona replica sets to declare their contexts (the operator has no restricted mode)", async () => {
    const psmdb = (rs: object) => k8s("kubernetes:psmdb.percona.com/v1:PerconaServerMongoDB", "mongodb", INFRA, { spec: { image: "percona/percona-server-mongodb:8.0.17-6", initContainerSecurityContext: restrictedContainer, replsets: [{ name: "rs0", size: 3, ...rs }] } });
    const declared = await evaluate(operatorPodsRestricted, [psmdb({ podSecurityContext: { runAsNonRoot: true }, containerSecurityContext: restrictedContainer })]);
    expect(declared.status).toBe("pass");
    const missing = await evaluate(operatorPodsRestricted, [psmdb({})]);
    expect(messages(missing)).toEqual([
      expect.stringContaining("spec.replsets[0].podSecurityContext is (not set)"),
      expect.stringContaining("spec.replsets[0].containerSecurityContext is (not set)"),
    ]);
  });
});

describe("read-only-root-filesystem", () => {
  it("passes read-only containers and fails a writable one", async () => {
    expect((await evaluate(readOnlyRootFilesystem, [deployment()])).status).toBe("pass");
    const r = await evaluate(readOnlyRootFilesystem, [deployment("web", (pod) => (pod.containers[0].securityContext.readOnlyRootFilesystem = false))]);
    expect(messages(r)).toEqual([expect.stringMatching(/^Deployment diaspomoney-prod\/web: spec\.template\.spec\.containers\[0\]\.securityContext\.readOnlyRootFilesystem is false; readOnlyRootFilesystem must be true \[PCI-DSS 2\.2\.6/)]);
  });

  it("reports a registered exception as holding, with its reason, and nothing else", async () => {
    const redis = (name: string) =>
      k8s("kubernetes:redis.redis.opstreelabs.in/v1beta2:RedisCluster", name, INFRA, { spec: { redisLeader: { securityContext: { ...restrictedContainer, readOnlyRootFilesystem: false } } } });
    const accepted = await evaluate(readOnlyRootFilesystem, [redis("redis")]);
    expect(accepted.status).toBe("pass");
    expect(accepted.evidence.find((e) => e.property === "spec.redisLeader.securityContext.readOnlyRootFilesystem")?.exception).toContain("/etc/redis/redis.conf");
    const other = await evaluate(readOnlyRootFilesystem, [redis("sessions")]);
    expect(other.status).toBe("fail");
  });
});

describe("container-resources", () => {
  it("passes containers with requests and a memory limit; fails one without", async () => {
    expect((await evaluate(containerResources, [deployment()])).status).toBe("pass");
    const r = await evaluate(containerResources, [deployment("web", (pod) => (pod.containers[0].resources = { requests: { cpu: "100m" } }))]);
    expect(messages(r)).toEqual([expect.stringContaining("Deployment diaspomoney-prod/web: spec.template.spec.containers[0].resources is {\"requests\":{\"cpu\":\"100m\"}}; requests.cpu, requests.memory and limits.memory must be set")]);
  });

  it("reads operator resources where the resource keeps them (Strimzi node pools)", async () => {
    const pool = (resources?: object) => k8s("kubernetes:kafka.strimzi.io/v1:KafkaNodePool", "brokers", INFRA, { metadata: { labels: { "strimzi.io/cluster": "kafka" } }, spec: { replicas: 3, roles: ["broker"], ...(resources ? { resources } : {}) } });
    expect((await evaluate(containerResources, [pool({ requests: { cpu: "1", memory: "4Gi" }, limits: { memory: "8Gi" } })])).status).toBe("pass");
    expect(messages(await evaluate(containerResources, [pool()]))).toEqual([expect.stringContaining("KafkaNodePool diaspomoney-prod-infra/brokers: spec.resources is (not set)")]);
  });
});

describe("images-pinned", () => {
  it("requires digests in production but not in acceptance", async () => {
    const tagged = deployment("web", (pod) => (pod.containers[0].image = "ghcr.io/diaspomoney/web:1.0.0"));
    expect(messages(await evaluate(imagesPinned, [tagged], PROD))).toEqual([expect.stringContaining("in production the image must be pinned by digest")]);
    expect((await evaluate(imagesPinned, [tagged], ACCEPTANCE)).status).toBe("pass");
    expect((await evaluate(imagesPinned, [deployment()], PROD)).status).toBe("pass");
  });

  it("takes the images a chart renders (under the CLI) as pinned by the chart's exact version", async () => {
    const traefik = deployment("traefik", (pod) => (pod.containers[0].image = "docker.io/traefik:v3.7.0"));
    const rendered = { ...traefik, urn: "urn:pulumi:test::diaspomoney-platform::kubernetes:helm.sh/v4:Chart$kubernetes:apps/v1:Deployment::traefik" };
    expect((await evaluate(imagesPinned, [rendered], PROD)).status).toBe("pass");
    expect((await evaluate(imagesPinned, [traefik], PROD)).status).toBe("fail");
  });

  it("rejects latest and untagged images everywhere", async () => {
    const latest = deployment("web", (pod) => (pod.containers[0].image = "ghcr.io/diaspomoney/web:latest"));
    const untagged = deployment("worker", (pod) => (pod.containers[0].image = "ghcr.io/diaspomoney/worker"));
    const r = await evaluate(imagesPinned, [latest, untagged], DEV);
    expect(messages(r)).toEqual([
      expect.stringContaining('Deployment diaspomoney-prod/web: spec.template.spec.containers[0].image is "ghcr.io/diaspomoney/web:latest"; the image tag must not be "latest"'),
      expect.stringContaining("never the implicit latest"),
    ]);
  });

  it("requires exact chart versions and operator image versions", async () => {
    const chart = (version: string) => ({ type: "kubernetes:helm.sh/v4:Chart", name: "traefik", inputs: { chart: "traefik", version, values: {} } });
    expect((await evaluate(imagesPinned, [chart("41.3.0")])).status).toBe("pass");
    expect(messages(await evaluate(imagesPinned, [chart("^41.0.0")]))).toEqual([expect.stringContaining('Chart "traefik": version is "^41.0.0"; the chart version must be pinned exactly')]);
    const redis = k8s("kubernetes:redis.redis.opstreelabs.in/v1beta2:RedisCluster", "redis", INFRA, { spec: { kubernetesConfig: { image: "quay.io/opstree/redis:latest" } } });
    expect(messages(await evaluate(imagesPinned, [redis]))).toContainEqual(expect.stringContaining('spec.kubernetesConfig.image is "quay.io/opstree/redis:latest"'));
  });
});

describe("probes-on-serving-containers", () => {
  it("passes serving containers with both probes and fails one without readiness", async () => {
    expect((await evaluate(probesOnServingContainers, [deployment()])).status).toBe("pass");
    const r = await evaluate(probesOnServingContainers, [deployment("web", (pod) => delete pod.containers[0].readinessProbe)]);
    expect(messages(r)).toEqual([expect.stringContaining("Deployment diaspomoney-prod/web: spec.template.spec.containers[0].readinessProbe is (not set); a serving container needs a readiness probe")]);
  });

  it("ignores containers that expose no port", async () => {
    const r = await evaluate(probesOnServingContainers, [deployment("worker", (pod) => {
      delete pod.containers[0].ports;
      delete pod.containers[0].readinessProbe;
    })]);
    expect(r.status).toBe("not-applicable");
  });
});

describe("service-account-token-not-automounted", () => {
  it("passes a pod without token or with a dedicated identity; fails the default token", async () => {
    expect((await evaluate(serviceAccountTokens, [deployment()])).status).toBe("pass");
    const own = deployment("web", (pod) => {
      delete pod.automountServiceAccountToken;
      pod.serviceAccountName = "web";
    });
    expect((await evaluate(serviceAccountTokens, [own])).status).toBe("pass");
    const r = await evaluate(serviceAccountTokens, [deployment("web", (pod) => delete pod.automountServiceAccountToken)]);
    expect(messages(r)).toEqual([expect.stringContaining("Deployment diaspomoney-prod/web: spec.template.spec.automountServiceAccountToken is {}; the default service account token must not be mounted")]);
  });
});

describe("disruption-budget-and-spread", () => {
  const pdb = k8s("kubernetes:policy/v1:PodDisruptionBudget", "web", "diaspomoney-prod", { spec: { maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "web" } } } });

  it("passes 3 spread replicas with a matching budget", async () => {
    const r = await evaluate(disruptionBudgetAndSpread, [deployment(), pdb]);
    expect(r.status).toBe("pass");
    expect(r.evidence.map((e) => e.value)).toContain('"web"');
  });

  it("fails replicas without a budget or spread", async () => {
    const r = await evaluate(disruptionBudgetAndSpread, [deployment("web", (pod) => delete pod.topologySpreadConstraints)]);
    expect(messages(r)).toEqual([
      expect.stringContaining("Deployment diaspomoney-prod/web: PodDisruptionBudget is (not set); 3 replicas need a PodDisruptionBudget"),
      expect.stringContaining("3 replicas must be spread"),
    ]);
  });

  it("takes the replicas of an autoscaled Deployment from its HorizontalPodAutoscaler", async () => {
    const hpa = k8s("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "web", "diaspomoney-prod", { spec: { minReplicas: 2, scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" } } });
    const r = await evaluate(disruptionBudgetAndSpread, [deployment("web", (_pod, spec) => delete spec.replicas), hpa]);
    expect(messages(r)[0]).toContain("2 replicas need a PodDisruptionBudget");
  });

  it("checks operator replica sets: Percona budgets and anti-affinity, Kafka pool spread", async () => {
    const psmdb = k8s("kubernetes:psmdb.percona.com/v1:PerconaServerMongoDB", "mongodb", INFRA, { spec: { replsets: [{ name: "rs0", size: 3, affinity: { antiAffinityTopologyKey: "none" } }] } });
    const r = await evaluate(disruptionBudgetAndSpread, [psmdb]);
    expect(messages(r)).toEqual([
      expect.stringContaining("PerconaServerMongoDB diaspomoney-prod-infra/mongodb: spec.replsets[0].podDisruptionBudget is (not set)"),
      expect.stringContaining("replica set members must be spread"),
    ]);
    const kafka = k8s("kubernetes:kafka.strimzi.io/v1:Kafka", "kafka", INFRA, { spec: { kafka: { rack: { topologyKey: "topology.kubernetes.io/zone" } } } });
    const pool = k8s("kubernetes:kafka.strimzi.io/v1:KafkaNodePool", "brokers", INFRA, { metadata: { labels: { "strimzi.io/cluster": "kafka" } }, spec: { replicas: 3 } });
    expect(messages(await evaluate(disruptionBudgetAndSpread, [kafka, pool]))).toEqual([expect.stringContaining("Kafka nodes must be spread")]);
  });

  it("reads replicas, budgets and spread of chart workloads from their values", async () => {
    const monitoring = (alertmanagerSpec: object) => ({
      type: "kubernetes:helm.sh/v4:Chart",
      name: "monitoring",
      inputs: { chart: "kube-prometheus-stack", version: "88.5.3", values: { alertmanager: { podDisruptionBudget: { enabled: true }, alertmanagerSpec: { replicas: 3, ...alertmanagerSpec } }, grafana: { replicas: 1 } } },
    });
    expect((await evaluate(disruptionBudgetAndSpread, [monitoring({ podAntiAffinity: "hard" })])).status).toBe("pass");
    expect(messages(await evaluate(disruptionBudgetAndSpread, [monitoring({ podAntiAffinity: "" })]))).toEqual([
      expect.stringContaining('Chart "monitoring": values.alertmanager.alertmanagerSpec.podAntiAffinity is ""; alertmanager\'s 3 replicas must be spread'),
    ]);
  });

  it("does not apply when nothing runs 2 replicas", async () => {
    const r = await evaluate(disruptionBudgetAndSpread, [deployment("web", (_pod, spec) => (spec.replicas = 1))]);
    expect(r).toMatchObject({ status: "not-applicable", reason: "nothing runs 2 or more replicas" });
  });
});
