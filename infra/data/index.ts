import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EnvironmentContext } from "../context";
import { deployAtlas } from "./atlas";
import { deployKafka } from "./kafka";
import { deployMongoDB } from "./mongodb";
import { deployRedis } from "./redis";

/** What the data layer gives the rest of the environment. */
export interface DataLayer {
  /** Name of the Secret, in the app namespace, holding what the app needs to connect. */
  connectionSecretName: pulumi.Input<string>;
  /** Ports the app may reach in the infra namespace. */
  ports: { mongodb: number; redis: number; kafka: number };
  /** Stack outputs of the area (no secret). */
  outputs: Record<string, unknown>;
}

export const CONNECTION_SECRET = "data-connections";
export const KAFKA_SASL_MECHANISM = "SCRAM-SHA-512";

export interface ConnectionParts {
  mongodbUri: pulumi.Input<string>;
  redisNodes: pulumi.Input<string>;
  redisPassword: pulumi.Input<string>;
  kafkaBrokers: pulumi.Input<string>;
  kafkaUsername: pulumi.Input<string>;
  kafkaPassword: pulumi.Input<string>;
  /** Present only when Atlas is on. */
  atlasUri?: pulumi.Input<string>;
}

/** The connection Secret's entries. Every value is a Pulumi secret, addresses included. */
export function connectionSecretData(p: ConnectionParts): Record<string, pulumi.Output<string>> {
  const entries: Record<string, pulumi.Input<string>> = {
    MONGODB_URI: p.mongodbUri,
    REDIS_NODES: p.redisNodes,
    REDIS_PASSWORD: p.redisPassword,
    KAFKA_BROKERS: p.kafkaBrokers,
    KAFKA_USERNAME: p.kafkaUsername,
    KAFKA_PASSWORD: p.kafkaPassword,
    KAFKA_SASL_MECHANISM: KAFKA_SASL_MECHANISM,
    ...(p.atlasUri === undefined ? {} : { MONGODB_ATLAS_URI: p.atlasUri }),
  };
  return Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, pulumi.secret(v)]));
}

/**
 * The infra namespace's stores (Kafka, Redis, MongoDB) and, when the stack turns it on, MongoDB
 * Atlas; then the one Secret the app reads to reach them.
 */
export function buildDataLayer(ctx: EnvironmentContext): DataLayer {
  const kafka = deployKafka(ctx);
  const redis = deployRedis(ctx);
  const mongodb = deployMongoDB(ctx);
  const atlas = deployAtlas(ctx);

  const data = connectionSecretData({
    mongodbUri: mongodb.uri,
    redisNodes: redis.nodes,
    redisPassword: redis.password,
    kafkaBrokers: kafka.bootstrapServers,
    kafkaUsername: kafka.username,
    kafkaPassword: kafka.password,
    atlasUri: atlas?.connectionString,
  });
  const secret = new k8s.core.v1.Secret(
    CONNECTION_SECRET,
    {
      metadata: { name: CONNECTION_SECRET, namespace: ctx.namespaces.app.name, labels: ctx.labels(CONNECTION_SECRET, "data") },
      type: "Opaque",
      stringData: data,
    },
    { parent: ctx.parent, provider: ctx.providers.kubernetes },
  );

  return {
    connectionSecretName: secret.metadata.name,
    ports: { mongodb: mongodb.port, redis: redis.port, kafka: kafka.port },
    outputs: {
      connectionSecret: { name: CONNECTION_SECRET, namespace: ctx.names.app, keys: Object.keys(data) },
      ports: { mongodb: mongodb.port, redis: redis.port, kafka: kafka.port },
      mongodb: mongodb.outputs,
      atlas: atlas?.outputs ?? { enabled: false },
      kafka: kafka.outputs,
      redis: redis.outputs,
    },
  };
}
