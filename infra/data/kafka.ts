import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { IssuedTls } from "../../components/internal-ca";
import type { PodPeer } from "../../components/mongodb";
import { KafkaCluster, StrimziOperator, type KafkaNodePoolSpec } from "../../components/kafka";
import type { EnvironmentSpec } from "../config/schema";
import { installsCharts, type EnvironmentContext } from "../context";
import { charts, operands } from "../versions";
import { apiServer, appPods, prometheusPods } from "./network";

/** What Kafka gives the rest of the data layer. */
export interface KafkaDeployment {
  /** `host:port,...` of the TLS listener, reachable from the app namespace. */
  bootstrapServers: pulumi.Input<string>;
  /** Port of the authenticated TLS listener. */
  port: number;
  /** SCRAM-SHA-512 user of the app, and its password (a Pulumi secret). */
  username: pulumi.Input<string>;
  password: pulumi.Input<string>;
  /** The cluster, its topics and the app's user: the app starts once they are ready. */
  ready: pulumi.Resource[];
  outputs: Record<string, unknown>;
}

/** The app's SCRAM-SHA-512 user. */
export const KAFKA_APP_USER = "app";
/** The app's consumer groups must start with this prefix: its ACLs allow no other group. */
export const KAFKA_CONSUMER_GROUP_PREFIX = "diaspomoney-";

/**
 * Node pools from the stack's sizes: without dedicated controllers, one pool whose nodes are both
 * controllers and brokers; with them, a controller pool (sized by `kafka.controllers`, else like the
 * brokers) and a broker pool.
 */
export function kafkaNodePools(kafka: EnvironmentSpec["kafka"]): KafkaNodePoolSpec[] {
  const brokers = { storage: kafka.storage, resources: kafka.resources };
  if (kafka.dedicatedControllers === 0) {
    if (kafka.controllers) throw new Error("kafka.controllers sizes dedicated controllers, but kafka.dedicatedControllers is 0: remove one or the other");
    return [{ name: "combined", replicas: kafka.brokers, roles: ["controller", "broker"], ...brokers }];
  }
  return [
    { name: "controllers", replicas: kafka.dedicatedControllers, roles: ["controller"], ...(kafka.controllers ?? brokers) },
    { name: "brokers", replicas: kafka.brokers, roles: ["broker"], ...brokers },
  ];
}

function peer(p: PodPeer): k8s.types.input.networking.v1.NetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } }, podSelector: { matchLabels: p.podLabels } };
}

/**
 * Strimzi in the infra namespace, then the cluster: sizes and topics from the stack file, CRDs only
 * from the stack that installs the cluster's shared services, protection where the stack asks for it.
 */
export function deployKafka(ctx: EnvironmentContext, tls: IssuedTls): KafkaDeployment {
  const opts = { parent: ctx.parent, provider: ctx.providers.kubernetes };
  const namespace = ctx.namespaces.infra.name;
  const prometheus = [peer(prometheusPods(ctx))];

  const operator = new StrimziOperator(
    "strimzi",
    {
      namespace,
      chart: charts.strimzi,
      labels: ctx.labels,
      installChart: installsCharts(ctx),
      metricsScrapers: prometheus,
      apiServer: apiServer(ctx),
      awaitReadiness: ctx.config.kubernetes.awaitReadiness,
    },
    opts,
  );

  const kafka = new KafkaCluster(
    "kafka",
    {
      namespace,
      labels: ctx.labels,
      version: operands.kafka,
      pools: kafkaNodePools(ctx.spec.kafka),
      topics: ctx.spec.kafka.topics,
      app: { user: KAFKA_APP_USER, consumerGroupPrefix: KAFKA_CONSUMER_GROUP_PREFIX },
      clients: [peer(appPods(ctx))],
      metricsScrapers: prometheus,
      protectData: ctx.spec.features.protectStatefulResources,
      operator,
      apiServer: apiServer(ctx),
      listenerTls: tls,
      awaitReadiness: ctx.config.kubernetes.awaitReadiness,
    },
    opts,
  );

  return {
    bootstrapServers: kafka.bootstrapServers,
    port: kafka.port,
    username: kafka.username,
    password: kafka.password,
    ready: kafka.ready,
    outputs: {
      bootstrapServers: kafka.bootstrapServers,
      port: kafka.port,
      username: kafka.username,
      saslMechanism: "SCRAM-SHA-512",
      tls: { listenerSecret: kafka.listenerSecretName, issuer: tls.issuer.name, betweenBrokers: "Strimzi cluster CA" },
      version: operands.kafka,
      nodePools: kafkaNodePools(ctx.spec.kafka).map((p) => ({ name: p.name, replicas: p.replicas, roles: p.roles })),
      topics: ctx.spec.kafka.topics.map((t) => t.name),
      consumerGroupPrefix: KAFKA_CONSUMER_GROUP_PREFIX,
    },
  };
}
