/**
 * The sharded topology of the MongoDB component: shards, config servers and mongos, each with what a
 * replica set has (spread, budget, TLS, backups, exporter), and the app's URI through mongos.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import {
  memberCertificateDnsNames,
  mongoClusterPodLabels,
  MongoReplicaSet,
  mongosHost,
  mongosPodLabels,
  mongoTopology,
  type MongoReplicaSetArgs,
} from "../../components/mongodb";
import { computedState } from "../../infra/plan/recorder";
import { inputs, k8sObject, ofType, planProgram } from "../harness";

const labels = { "app.kubernetes.io/part-of": "test", "diaspomoney.fr/environment": "t" };
const args = (overrides: Partial<MongoReplicaSetArgs> = {}): MongoReplicaSetArgs => ({
  namespace: "db",
  labels,
  crVersion: "1.22.0",
  images: { mongod: "r/mongod:1", backup: "r/pbm:1", exporter: "r/exporter:1", init: "r/operator:1" },
  members: 3,
  storage: "10Gi",
  resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
  appUser: { name: "shop", database: "shop" },
  backup: {
    bucket: "b",
    region: "eu-west-3",
    endpointUrl: "https://s3.example",
    accessKeyId: pulumi.secret("AKIDEXAMPLE"),
    secretAccessKey: pulumi.secret("wJalrEXAMPLEKEY"),
    schedule: "30 2 * * *",
    keep: 5,
    pointInTimeRecovery: true,
  },
  clients: [{ namespace: "shop", podLabels: { app: "web" } }],
  metricsScrapers: [{ namespace: "monitoring", podLabels: { app: "prometheus" } }],
  operatorPodLabels: { "app.kubernetes.io/name": "psmdb-operator" },
  sharding: { shards: 2, configServers: 3, mongos: 2, configServerStorage: "5Gi" },
  ...overrides,
});

describe("sharded topology", () => {
  it("names the shards rs0, rs1... and sizes config servers and routers", () => {
    expect(mongoTopology(3, { shards: 3, configServers: 3, mongos: 2 })).toEqual({ replsets: ["rs0", "rs1", "rs2"], members: 3, configServers: 3, mongos: 2, unsafeReplsetSize: false });
    expect(mongoTopology(3)).toEqual({ replsets: ["rs0"], members: 3, unsafeReplsetSize: false });
    // A single config server is a development shape: the operator's unsafe flag, like a single member.
    expect(mongoTopology(3, { shards: 1, configServers: 1, mongos: 1 }).unsafeReplsetSize).toBe(true);
  });

  it("refuses even config servers, no shard and no router", () => {
    expect(() => mongoTopology(3, { shards: 2, configServers: 2, mongos: 2 })).toThrow(/replica set of 2 members/);
    expect(() => mongoTopology(3, { shards: 0, configServers: 3, mongos: 2 })).toThrow(/0 shards: at least 1/);
    expect(() => mongoTopology(3, { shards: 2, configServers: 3, mongos: 0 })).toThrow(/0 mongos: at least 1/);
    expect(() => mongoTopology(4, { shards: 2, configServers: 3, mongos: 2 })).toThrow(/odd number of at least 3/);
  });

  it("certifies every shard, the config servers and mongos", () => {
    const names = memberCertificateDnsNames("m", "db", "svc.cluster.local", mongoTopology(3, { shards: 2, configServers: 3, mongos: 2 }));
    for (const service of ["m-rs0", "m-rs1", "m-cfg", "m-mongos"]) {
      expect(names).toContain(`${service}.db.svc.cluster.local`);
      expect(names).toContain(`*.${service}.db.svc.cluster.local`);
    }
    expect(memberCertificateDnsNames("m", "db")).not.toContain("m-mongos.db.svc.cluster.local");
  });
});

describe("a sharded MongoReplicaSet", () => {
  const planned = () =>
    planProgram("dev", async () => {
      const rs = new MongoReplicaSet("m", args());
      return { revealed: pulumi.unsecret(rs.appUri) };
    });

  it("declares the shards, the config servers and mongos, each spread, budgeted and exported", async () => {
    const plan = await planned();
    const spec = inputs(k8sObject(plan, "PerconaServerMongoDB", "m", "db")).spec;
    expect(spec.replsets.map((r: any) => [r.name, r.size])).toEqual([
      ["rs0", 3],
      ["rs1", 3],
    ]);
    expect(spec.replsets[1].topologySpreadConstraints[0].labelSelector.matchLabels).toEqual({ ...mongoClusterPodLabels("m"), "app.kubernetes.io/replset": "rs1", "app.kubernetes.io/component": "mongod" });
    expect(spec.sharding.enabled).toBe(true);
    const cfg = spec.sharding.configsvrReplSet;
    expect(cfg).toMatchObject({ size: 3, podDisruptionBudget: { maxUnavailable: 1 }, affinity: { antiAffinityTopologyKey: "kubernetes.io/hostname" } });
    expect(cfg.name).toBeUndefined();
    expect(cfg.volumeSpec.persistentVolumeClaim.resources.requests.storage).toBe("5Gi");
    expect(cfg.sidecars.map((c: any) => c.name)).toEqual(["mongodb-exporter"]);
    const mongos = spec.sharding.mongos;
    expect(mongos).toMatchObject({ size: 2, podDisruptionBudget: { maxUnavailable: 1 }, expose: { type: "ClusterIP" } });
    expect(mongos.topologySpreadConstraints[0].labelSelector.matchLabels).toEqual(mongosPodLabels("m"));
    expect(mongos.sidecars.map((c: any) => c.name)).toEqual(["mongodb-exporter"]);
    // What a replica set has, the sharded cluster keeps: TLS required, backups with PITR, no unsafe flag.
    expect(spec.tls.mode).toBe("requireTLS");
    expect(spec.backup).toMatchObject({ enabled: true, pitr: { enabled: true } });
    expect(spec.unsafeFlags).toBeUndefined();
  });

  it("gives the application a URI through mongos, without a replica set name", async () => {
    const plan = await planned();
    const password = computedState("random:index/randomPassword:RandomPassword", "m-app-password", { length: 32 }).result as string;
    expect(plan.outputs.revealed).toBe(`mongodb://shop:${password}@${mongosHost("m", "db")}/shop?authSource=shop&tls=true`);
  });

  it("lets clients reach mongos only, and the cluster's pods reach each other", async () => {
    const plan = await planned();
    const data = inputs(k8sObject(plan, "NetworkPolicy", "m", "db")).spec;
    const routers = inputs(k8sObject(plan, "NetworkPolicy", "m-mongos", "db")).spec;
    expect(data.podSelector).toEqual({ matchLabels: mongoClusterPodLabels("m"), matchExpressions: [{ key: "app.kubernetes.io/component", operator: "NotIn", values: ["mongos"] }] });
    const fromClients = (spec: any) => spec.ingress.some((r: any) => r.from.some((p: any) => p.podSelector?.matchLabels?.app === "web"));
    expect(fromClients(data)).toBe(false);
    expect(fromClients(routers)).toBe(true);
    expect(routers.podSelector).toEqual({ matchLabels: mongosPodLabels("m") });
    expect(routers.egress).toEqual([{ to: [{ podSelector: { matchLabels: mongoClusterPodLabels("m") } }], ports: [{ protocol: "TCP", port: 27017 }] }]);
    const cluster = ofType(plan, "kubernetes:psmdb.percona.com/v1:PerconaServerMongoDB")[0];
    const mongosPolicy = ofType(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((p) => inputs(p).metadata.name === "m-mongos")!;
    expect(cluster.dependsOn).toContain(mongosPolicy.urn);
  });

  it("keeps one replica set without sharding, with no mongos policy", async () => {
    const plan = await planProgram("dev", async () => {
      new MongoReplicaSet("m", args({ sharding: undefined }));
      return {};
    });
    const spec = inputs(k8sObject(plan, "PerconaServerMongoDB", "m", "db")).spec;
    expect(spec.sharding).toEqual({ enabled: false });
    expect(spec.replsets.map((r: any) => r.name)).toEqual(["rs0"]);
    expect(() => k8sObject(plan, "NetworkPolicy", "m-mongos", "db")).toThrow(/found 0/);
  });
});
