import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { connectionSecretData, DATA_TRUST, trustedCaFile } from "../../infra/data";
import { cachedPlan, inputs, k8sObject, planProgram, STACKS } from "../harness";

const CONTRACT_KEYS = [
  "MONGODB_URI",
  "REDIS_NODES",
  "REDIS_PASSWORD",
  "REDIS_TLS",
  "REDIS_CA_FILE",
  "REDIS_TLS_SERVERNAME",
  "KAFKA_BROKERS",
  "KAFKA_USERNAME",
  "KAFKA_PASSWORD",
  "KAFKA_SASL_MECHANISM",
  "KAFKA_CA_FILE",
];

describe.each(STACKS)("the connection Secret of %s", (stack) => {
  it("lives in the app namespace, holds the contract's keys and shows none of their values", async () => {
    const plan = await cachedPlan(stack);
    const secret = inputs(k8sObject(plan, "Secret", "data-connections", `diaspomoney-${stack}`));
    const keys = stack === "prod" ? [...CONTRACT_KEYS, "MONGODB_ATLAS_URI"] : CONTRACT_KEYS;
    expect(Object.keys(secret.stringData).sort()).toEqual([...keys].sort());
    expect(Object.values(secret.stringData).every((v) => v === "[secret]")).toBe(true);
    expect(secret.data).toBeUndefined();
    expect((plan.outputs as any).data.connectionSecret).toEqual({ name: "data-connections", namespace: `diaspomoney-${stack}`, keys });
  });

  it("is built from the generated MongoDB password, not from a literal", async () => {
    const plan = await cachedPlan(stack);
    const secret = k8sObject(plan, "Secret", "data-connections", `diaspomoney-${stack}`);
    const appPassword = plan.resources.find((r) => r.name === "mongodb-app-password")!;
    expect(secret.dependsOn).toContain(appPassword.urn);
  });

  it("waits for the CA's Secret in the app namespace, so the app that reads it finds the CA", async () => {
    const plan = await cachedPlan(stack);
    const secret = k8sObject(plan, "Secret", "data-connections", `diaspomoney-${stack}`);
    const trust = k8sObject(plan, "Certificate", "data-client", `diaspomoney-${stack}`);
    expect(secret.dependsOn).toContain(trust.urn);
  });
});

describe("connection Secret entries", () => {
  const parts = {
    mongodbUri: "mongodb://u:p@h:27017/d?replicaSet=rs0&tls=true",
    redisNodes: "r:6379",
    redisPassword: "",
    redisTlsServerName: "redis-leader-headless.ns.svc",
    kafkaBrokers: "k:9093",
    kafkaUsername: "app",
    kafkaPassword: "",
    caFile: trustedCaFile(DATA_TRUST),
  };

  it("are all secret, the fixed SASL mechanism and the CA paths included", async () => {
    const plan = await planProgram("dev", async () => {
      const data = connectionSecretData(parts);
      const secrecy = await Promise.all(Object.values(data).map((o) => (o as any).isSecret as Promise<boolean>));
      return { keys: Object.keys(data), allSecret: secrecy.every(Boolean), revealed: pulumi.unsecret(pulumi.all(data)) };
    });
    expect(plan.outputs.keys).toEqual(CONTRACT_KEYS);
    expect(plan.outputs.allSecret).toBe(true);
    expect(plan.outputs.revealed).toMatchObject({
      KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
      KAFKA_CA_FILE: "/etc/diaspomoney/data-tls/ca.crt",
      REDIS_TLS: "true",
      REDIS_CA_FILE: "/etc/diaspomoney/data-tls/ca.crt",
      REDIS_TLS_SERVERNAME: "redis-leader-headless.ns.svc",
    });
  });

  it("add the Atlas URI only when Atlas is on", async () => {
    const plan = await planProgram("dev", async () => ({ keys: Object.keys(connectionSecretData({ ...parts, atlasUri: "mongodb+srv://x" })) }));
    expect(plan.outputs.keys).toEqual([...CONTRACT_KEYS, "MONGODB_ATLAS_URI"]);
  });
});
