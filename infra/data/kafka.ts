import type * as pulumi from "@pulumi/pulumi";
import type { EnvironmentContext } from "../context";

/** What Kafka gives the rest of the data layer. */
export interface KafkaDeployment {
  /** `host:port,...` of the TLS listener, reachable from the app namespace. */
  bootstrapServers: pulumi.Input<string>;
  /** Port of the authenticated TLS listener. */
  port: number;
  /** SCRAM-SHA-512 user of the app, and its password (a Pulumi secret). */
  username: pulumi.Input<string>;
  password: pulumi.Input<string>;
  outputs: Record<string, unknown>;
}

export function deployKafka(_ctx: EnvironmentContext): KafkaDeployment {
  return { bootstrapServers: "kafka-kafka-bootstrap:9093", port: 9093, username: "app", password: "", outputs: {} };
}
