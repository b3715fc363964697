import * as pulumi from "@pulumi/pulumi";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  memberCertificateDnsNames,
  memberHosts,
  MongoReplicaSet,
  mongodbUri,
  mongodConfiguration,
  mongodPodLabels,
  operatorValues,
  PerconaMongoOperator,
  replsetSizing,
  type MongoReplicaSetArgs,
} from "../../components/mongodb";
import { computedState } from "../../infra/plan/recorder";
import { inputs, k8sObject, ofType, planProgram } from "../harness";

const labels = { "app.kubernetes.io/part-of": "test", "app.kubernetes.io/managed-by": "pulumi", "diaspomoney.fr/environment": "t" };

function replicaSetArgs(overrides: Partial<MongoReplicaSetArgs> = {}): MongoReplicaSetArgs {
  return {
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
    ...overrides,
  };
}

describe("replica set sizing", () => {
  it("accepts 1 with the unsafe flag and odd sizes from 3 without it", () => {
    expect(replsetSizing(1)).toEqual({ size: 1, unsafeReplsetSize: true });
    expect(replsetSizing(3)).toEqual({ size: 3, unsafeReplsetSize: false });
    expect(replsetSizing(7)).toEqual({ size: 7, unsafeReplsetSize: false });
  });

  it("rejects even, zero, negative and fractional sizes", () => {
    for (const bad of [0, -1, 2, 4, 1.5]) expect(() => replsetSizing(bad), String(bad)).toThrow(/odd number of at least 3/);
  });
});

describe("connection strings", () => {
  it("lists every member through the headless Service and turns TLS on", () => {
    const hosts = memberHosts("mongodb", "ns", 3);
    expect(hosts).toEqual([
      "mongodb-rs0-0.mongodb-rs0.ns.svc.cluster.local:27017",
      "mongodb-rs0-1.mongodb-rs0.ns.svc.cluster.local:27017",
      "mongodb-rs0-2.mongodb-rs0.ns.svc.cluster.local:27017",
    ]);
    const uri = new URL(mongodbUri({ username: "app", password: "pw", hosts: hosts.slice(0, 1), database: "db", replicaSet: "rs0", authSource: "db" }));
    expect(uri.protocol).toBe("mongodb:");
    expect(uri.pathname).toBe("/db");
    expect(Object.fromEntries(uri.searchParams)).toEqual({ replicaSet: "rs0", authSource: "db", tls: "true" });
  });

  it("percent-encodes any user name and password so they come back intact", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (username, password) => {
        const uri = mongodbUri({ username, password, hosts: ["h:27017"], database: "d", replicaSet: "rs0", authSource: "d" });
        const credentials = /^mongodb:\/\/([^:@/]*):([^@/]*)@h:27017\/d\?/.exec(uri);
        expect(credentials).not.toBeNull();
        expect(decodeURIComponent(credentials![1])).toBe(username);
        expect(decodeURIComponent(credentials![2])).toBe(password);
      }),
    );
  });
});

describe("operator values", () => {
  const args = {
    namespace: "db",
    chart: { chart: "psmdb-operator", repo: "https://charts.example", version: "1.22.0" },
    image: "docker.io/percona/percona-server-mongodb-operator:1.22.0",
    installChart: true,
    labels: { ...labels, "app.kubernetes.io/name": "psmdb-operator" },
  };

  it("watch only the release namespace, run restricted and send no telemetry", () => {
    const v = operatorValues(args) as any;
    expect(v.image).toEqual({ repository: "docker.io/percona/percona-server-mongodb-operator", tag: "1.22.0", pullPolicy: "IfNotPresent" });
    // A watchNamespace value, even the release's own, makes the chart create a ClusterRole.
    expect(v.watchNamespace).toBeUndefined();
    expect(v.watchAllNamespaces).toBe(false);
    expect(v.disableTelemetry).toBe(true);
    expect(v.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } });
    expect(v.podSecurityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
  });

  it("leave the chart's own label keys to the chart", () => {
    const v = operatorValues(args) as any;
    expect(v.podLabels["app.kubernetes.io/name"]).toBeUndefined();
    expect(v.labels["app.kubernetes.io/managed-by"]).toBeUndefined();
    expect(v.podLabels["diaspomoney.fr/environment"]).toBe("t");
  });

  it("refuse an image without a tag", () => {
    expect(() => operatorValues({ ...args, image: "registry:5000/percona/operator" })).toThrow(/no tag/);
  });

  it("never install the chart's CRDs, and no chart where the cluster's owners run the operator", async () => {
    const plan = await planProgram("dev", async () => {
      new PerconaMongoOperator("with", { ...args, releaseName: "with" });
      new PerconaMongoOperator("without", { ...args, installChart: false, releaseName: "without" });
      return {};
    });
    const releases = ofType(plan, "kubernetes:helm.sh/v3:Release");
    expect(Object.fromEntries(releases.map((r) => [inputs(r).name, inputs(r).skipCrds]))).toEqual({ with: true });
    expect(ofType(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => inputs(r).metadata.name).sort()).toEqual(["with", "without"]);
  });
});

describe("a MongoReplicaSet", () => {
  it("sizes the replica set and sets the unsafe flag only for a single member", async () => {
    const plan = await planProgram("dev", async () => {
      new MongoReplicaSet("single", replicaSetArgs({ members: 1, namespace: "one" }));
      new MongoReplicaSet("triple", replicaSetArgs({ members: 3, namespace: "three" }));
      return {};
    });
    const single = inputs(k8sObject(plan, "PerconaServerMongoDB", "single")).spec;
    const triple = inputs(k8sObject(plan, "PerconaServerMongoDB", "triple")).spec;
    expect(single.replsets[0].size).toBe(1);
    expect(single.unsafeFlags).toEqual({ replsetSize: true });
    expect(triple.replsets[0].size).toBe(3);
    expect(triple.unsafeFlags).toBeUndefined();
  });

  it("refuses an even replica set before registering anything", () => {
    expect(() => new MongoReplicaSet("even", replicaSetArgs({ members: 2 }))).toThrow(/2 members/);
  });

  it("keeps the volumes and the point-in-time chunks when the cluster is deleted", async () => {
    const plan = await planProgram("dev", async () => (new MongoReplicaSet("m", replicaSetArgs()), {}));
    const finalizers = inputs(k8sObject(plan, "PerconaServerMongoDB", "m")).metadata.finalizers;
    expect(finalizers).toEqual(["percona.com/delete-psmdb-pods-in-order"]);
  });

  it("gives the application user readWrite on its database only, with a generated password", async () => {
    const plan = await planProgram("dev", async () => (new MongoReplicaSet("m", replicaSetArgs()), {}));
    const spec = inputs(k8sObject(plan, "PerconaServerMongoDB", "m")).spec;
    expect(spec.users).toEqual([{ name: "shop", db: "shop", passwordSecretRef: { name: "m-app-user", key: "password" }, roles: [{ name: "readWrite", db: "shop" }] }]);
    const userSecret = k8sObject(plan, "Secret", "m-app-user", "db");
    expect(inputs(userSecret).stringData).toEqual({ password: "[secret]" });
    const generator = plan.resources.find((r) => r.name === "m-app-password")!;
    expect(userSecret.dependsOn).toContain(generator.urn);
  });

  it("gives the application a secret URI with every member, TLS, the replica set and the generated password", async () => {
    const plan = await planProgram("dev", async () => {
      const rs = new MongoReplicaSet("m", replicaSetArgs({ namespace: "db" }));
      // Unwrapped here only so the test can read what the secret holds.
      return { uri: rs.appUri, revealed: pulumi.unsecret(rs.appUri) };
    });
    expect(plan.outputs.uri).toBe("[secret]");
    const password = computedState("random:index/randomPassword:RandomPassword", "m-app-password", { length: 32 }).result as string;
    expect(plan.outputs.revealed).toBe(
      `mongodb://shop:${password}@${memberHosts("m", "db", 3).join(",")}/shop?replicaSet=rs0&authSource=shop&tls=true`,
    );
  });

  it("backs up daily to S3 with a retention count and point-in-time recovery when asked", async () => {
    const plan = await planProgram("dev", async () => {
      new MongoReplicaSet("pitr", replicaSetArgs({ namespace: "a" }));
      new MongoReplicaSet("nopitr", replicaSetArgs({ namespace: "b", backup: { ...replicaSetArgs().backup, pointInTimeRecovery: false, keep: 2 } }));
      return {};
    });
    const pitr = inputs(k8sObject(plan, "PerconaServerMongoDB", "pitr")).spec.backup;
    expect(pitr.tasks).toEqual([
      { name: "daily", enabled: true, schedule: "30 2 * * *", storageName: "s3", type: "logical", retention: { type: "count", count: 5, deleteFromStorage: true } },
    ]);
    expect(pitr.pitr.enabled).toBe(true);
    expect(pitr.storages.s3.s3).toMatchObject({ bucket: "b", region: "eu-west-3", endpointUrl: "https://s3.example", credentialsSecret: "pitr-backup-s3" });
    const nopitr = inputs(k8sObject(plan, "PerconaServerMongoDB", "nopitr")).spec.backup;
    expect(nopitr.pitr.enabled).toBe(false);
    expect(nopitr.tasks[0].retention.count).toBe(2);
    expect(inputs(k8sObject(plan, "Secret", "pitr-backup-s3", "a")).stringData).toEqual({ AWS_ACCESS_KEY_ID: "[secret]", AWS_SECRET_ACCESS_KEY: "[secret]" });
  });

  it("runs the exporter sidecar with credentials from the users Secret, never literal", async () => {
    const plan = await planProgram("dev", async () => (new MongoReplicaSet("m", replicaSetArgs()), {}));
    const rs = inputs(k8sObject(plan, "PerconaServerMongoDB", "m")).spec.replsets[0];
    const exporter = rs.sidecars.find((c: any) => c.name === "mongodb-exporter");
    expect(exporter.ports).toEqual([{ name: "metrics", containerPort: 9216, protocol: "TCP" }]);
    expect(exporter.env.every((e: any) => e.value === undefined && e.valueFrom.secretKeyRef.name === "m-users")).toBe(true);
    expect(exporter.args.join(" ")).not.toMatch(/:[^@/\s]+@/);
    expect(exporter.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false });
  });

  it("spreads members across hosts and zones and lets one go at a time", async () => {
    const plan = await planProgram("dev", async () => (new MongoReplicaSet("m", replicaSetArgs()), {}));
    const rs = inputs(k8sObject(plan, "PerconaServerMongoDB", "m")).spec.replsets[0];
    expect(rs.affinity).toEqual({ antiAffinityTopologyKey: "kubernetes.io/hostname" });
    expect(rs.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "topology.kubernetes.io/zone", labelSelector: { matchLabels: mongodPodLabels("m") } });
    expect(rs.podDisruptionBudget).toEqual({ maxUnavailable: 1 });
    expect(rs.volumeSpec.persistentVolumeClaim.resources.requests.storage).toBe("10Gi");
  });

  it("encrypts at rest with AES256-GCM and lets clients in with TLS and no certificate", () => {
    expect(mongodConfiguration()).toMatch(/enableEncryption: true/);
    expect(mongodConfiguration()).toMatch(/encryptionCipherMode: AES256-GCM/);
    expect(mongodConfiguration()).toMatch(/allowConnectionsWithoutCertificates: true/);
  });

  it("applies the stateful options to the resource, the encryption key, its generator and the users Secret only", async () => {
    const plan = await planProgram("dev", async () => (new MongoReplicaSet("m", replicaSetArgs({ stateful: { protect: true, retainOnDelete: true } })), {}));
    const kept = plan.resources.filter((r) => r.protect && r.retainOnDelete).map((r) => r.name).sort();
    expect(kept).toEqual(["m-cluster", "m-encryption-key", "m-encryption-key", "m-users"]);
  });
});

describe("a MongoReplicaSet's certificates", () => {
  const issuer = { name: "env-ca", kind: "ClusterIssuer", group: "cert-manager.io" } as const;

  it("come from the caller's issuer, under the names the operator reads, before the replica set exists", async () => {
    const plan = await planProgram("dev", async () => (new MongoReplicaSet("m", replicaSetArgs({ tls: { issuer } })), {}));
    const psmdb = k8sObject(plan, "PerconaServerMongoDB", "m");
    const { secrets, tls } = inputs(psmdb).spec;
    expect(secrets).toMatchObject({ ssl: "m-ssl", sslInternal: "m-ssl-internal" });
    // issuerConf would make operator 1.22 create an Issuer of that name signed by its own CA.
    expect(tls).toEqual({ mode: "requireTLS", allowInvalidCertificates: false });
    for (const name of ["m-ssl", "m-ssl-internal"]) {
      const cert = k8sObject(plan, "Certificate", name, "db");
      expect(inputs(cert).metadata.annotations).toEqual({ "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "600" });
      expect(inputs(cert).spec).toMatchObject({
        secretName: name,
        issuerRef: issuer,
        commonName: "m",
        subject: { organizations: ["PSMDB"] },
        usages: ["server auth", "client auth", "digital signature"],
        privateKey: { encoding: "PKCS8" },
      });
      expect(psmdb.dependsOn).toContain(cert.urn);
    }
  });

  it("name localhost, the replica set's Service and every member through it", () => {
    const names = memberCertificateDnsNames("m", "db");
    expect(names).toEqual([
      "localhost",
      "m-rs0",
      "m-rs0.db",
      "m-rs0.db.svc",
      "m-rs0.db.svc.cluster.local",
      "*.m-rs0",
      "*.m-rs0.db",
      "*.m-rs0.db.svc",
      "*.m-rs0.db.svc.cluster.local",
    ]);
    // A wildcard covers one label: each member host of the app's URI is its first label plus a wildcard's domain.
    for (const host of memberHosts("m", "db", 3).map((h) => h.split(":")[0])) {
      expect(names).toContain(`*.${host.split(".").slice(1).join(".")}`);
    }
  });

  it("are the operator's own when no issuer is given", async () => {
    const plan = await planProgram("dev", async () => (new MongoReplicaSet("m", replicaSetArgs()), {}));
    expect(ofType(plan, "kubernetes:cert-manager.io/v1:Certificate")).toEqual([]);
    expect(inputs(k8sObject(plan, "PerconaServerMongoDB", "m")).spec.tls.certValidityDuration).toBe("2160h");
  });

  it("are verified by the app against the CA file it is given", async () => {
    const plan = await planProgram("dev", async () => {
      const rs = new MongoReplicaSet("m", replicaSetArgs({ tls: { issuer }, appCaFile: "/etc/tls/ca.crt" }));
      return { revealed: pulumi.unsecret(rs.appUri) };
    });
    const query = new URLSearchParams((plan.outputs.revealed as string).split("?")[1]);
    expect(Object.fromEntries(query)).toEqual({ replicaSet: "rs0", authSource: "shop", tls: "true", tlsCAFile: "/etc/tls/ca.crt" });
  });
});
