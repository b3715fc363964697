/**
 * Build 3, Helm on a cold cluster: every `helm.v3.Release` (the operators) waits long enough for a
 * node scale-up and the first image pulls before its atomic rollback; every `helm.v4.Chart` (Traefik,
 * kube-prometheus-stack, cert-manager) awaits its objects one by one, and only the switch applies.
 */
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { CertManager } from "../../components/cert-manager";
import { StrimziOperator } from "../../components/kafka";
import { PerconaMongoOperator } from "../../components/mongodb";
import { MonitoringStack } from "../../components/monitoring";
import { RedisOperator } from "../../components/redis";
import { Traefik } from "../../components/traefik";
import { evaluatePlan } from "../../infra/compliance/evaluate";
import { helmReleasesFitColdCluster } from "../../policy/controls/lifecycle";
import { inputs, ofType, planProgram } from "../harness";
import { PROD } from "../policy/harness";

const labels = (name: string) => ({ "app.kubernetes.io/name": name });
const api = { cni: "calico" as const, cidrs: ["10.0.0.1/32"] };

/** Every chart-installing component of the platform, as its callers build it. */
const charts = (awaitReadiness: boolean | undefined) =>
  planProgram("dev", async () => {
    new StrimziOperator("strimzi", { namespace: "data", chart: { chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator", version: "1.2.0" }, labels, installChart: true, apiServer: api, awaitReadiness });
    new PerconaMongoOperator("psmdb", {
      namespace: "data",
      chart: { chart: "psmdb-operator", repo: "https://percona.github.io/percona-helm-charts/", version: "1.22.0" },
      image: "percona/percona-server-mongodb-operator:1.22.0",
      installChart: true,
      labels: {},
      apiServer: api,
      awaitReadiness,
    });
    new RedisOperator("redis", { namespace: "data", chart: { chart: "redis-operator", repo: "https://ot-container-kit.github.io/helm-charts/", version: "0.26.0" }, image: { repository: "r/op", tag: "1" }, labels, installChart: true, apiServer: api, awaitReadiness });
    new Traefik("traefik", {
      namespace: "apps",
      labels,
      chart: { chart: "traefik", repo: "https://traefik.github.io/charts", version: "41.3.0" },
      replicas: 2,
      allowedSourceRanges: ["198.51.100.0/24"],
      metricsScraperLabels: {},
      backends: [],
      awaitReadiness,
    });
    new MonitoringStack("monitoring", {
      namespace: "apps",
      watchedNamespaces: ["data"],
      releaseName: "monitoring-t",
      chart: { chart: "kube-prometheus-stack", repo: "https://prometheus-community.github.io/helm-charts", version: "88.5.3" },
      installChart: true,
      labels,
      prometheus: { retention: "7d", storage: "10Gi" },
      alertmanager: { replicas: 1, configName: "routing" },
      grafana: { replicas: 1 },
      network: { uiClients: {}, scrapeTargets: [], apiServer: api, notificationPorts: [443] },
      awaitReadiness,
    });
    new CertManager("cert-manager", {
      namespace: "cert-manager",
      labels,
      chart: { chart: "cert-manager", repo: "https://charts.jetstack.io", version: "v1.21.1" },
      metricsScrapers: { namespaceLabels: {}, podLabels: {} },
      awaitReadiness,
    });
    return {};
  });

describe("Helm installs on a cold cluster", () => {
  it("give every operator release 15 minutes to come up before its atomic rollback", async () => {
    const plan = await charts(undefined);
    const releases = ofType(plan, "kubernetes:helm.sh/v3:Release").map(inputs);
    expect(releases.map((r) => r.name).sort()).toEqual(["psmdb-operator", "redis-operator", "strimzi-kafka-operator"]);
    for (const r of releases) expect([r.name, r.timeout, r.atomic, r.skipAwait]).toEqual([r.name, 900, true, false]);
    expect((await evaluatePlan(plan, PROD, [helmReleasesFitColdCluster])).controls[0].status).toBe("pass");
  });

  it("let every v4 chart await its objects", async () => {
    const plan = await charts(undefined);
    const v4 = ofType(plan, "kubernetes:helm.sh/v4:Chart").map(inputs);
    expect(v4.map((c) => c.name).sort()).toEqual(["cert-manager", "monitoring-t", "traefik"]);
    for (const c of v4) expect([c.name, c.skipAwait]).toEqual([c.name, false]);
  });

  it("neither wait nor roll back where readiness is off", async () => {
    const plan = await charts(false);
    for (const r of ofType(plan, "kubernetes:helm.sh/v3:Release").map(inputs)) expect([r.name, r.atomic, r.skipAwait]).toEqual([r.name, false, true]);
    for (const c of ofType(plan, "kubernetes:helm.sh/v4:Chart").map(inputs)) expect([c.name, c.skipAwait]).toEqual([c.name, true]);
    expect((await evaluatePlan(plan, PROD, [helmReleasesFitColdCluster])).controls[0].status).toBe("pass");
  });

  it("fail the policy control with Helm's default timeout (the failing case)", async () => {
    const plan = await planProgram("dev", async () => {
      new k8s.helm.v3.Release("defaults", { name: "defaults", chart: "strimzi-kafka-operator", namespace: "data", atomic: true });
      return {};
    });
    const result = (await evaluatePlan(plan, PROD, [helmReleasesFitColdCluster])).controls[0];
    expect(result.status).toBe("fail");
    expect(result.violations[0].message).toContain('Release "defaults": timeout is (not set); a waiting release needs a timeout of at least 900 s');
  });
});
