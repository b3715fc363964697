import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { connectionSecretData } from "../../infra/data";
import { cachedPlan, inputs, k8sObject, planProgram, STACKS } from "../harness";

const CONTRACT_KEYS = ["MONGODB_URI", "REDIS_NODES", "REDIS_PASSWORD", "KAFKA_BROKERS", "KAFKA_USERNAME", "KAFKA_PASSWORD", "KAFKA_SASL_MECHANISM"];

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
});

describe("connection Secret entries", () => {
  it("are all secret, the fixed SASL mechanism included, and carry the app user's URI with TLS and the replica set", async () => {
    const plan = await planProgram("dev", async () => {
      const data = connectionSecretData({
        mongodbUri: "mongodb://u:p@h:27017/d?replicaSet=rs0&tls=true",
        redisNodes: "r:6379",
        redisPassword: "",
        kafkaBrokers: "k:9093",
        kafkaUsername: "app",
        kafkaPassword: "",
      });
      const secrecy = await Promise.all(Object.values(data).map((o) => (o as any).isSecret as Promise<boolean>));
      return { keys: Object.keys(data), allSecret: secrecy.every(Boolean), mechanism: pulumi.unsecret(data.KAFKA_SASL_MECHANISM) };
    });
    expect(plan.outputs).toEqual({ keys: CONTRACT_KEYS, allSecret: true, mechanism: "SCRAM-SHA-512" });
  });
});
