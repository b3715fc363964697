import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { IssuedTls } from "../../components/internal-ca";
import type { PodPeer } from "../../components/mongodb";
import { RedisCluster, RedisOperator } from "../../components/redis";
import { installsCharts, type EnvironmentContext } from "../context";
import { charts, images } from "../versions";
import { apiServer, appPods, prometheusPods } from "./network";

/** What Redis gives the rest of the data layer. */
export interface RedisDeployment {
  /** `host:port` seed addresses of the cluster, reachable from the app namespace. */
  nodes: pulumi.Input<string>;
  port: number;
  /** The cluster password (a Pulumi secret). */
  password: pulumi.Input<string>;
  /** Name every node's certificate is verified against (nodes are reached by IP after a redirect). */
  tlsServerName: pulumi.Input<string>;
  /** The cluster: the app starts once it is ready. */
  ready: pulumi.Resource[];
  outputs: Record<string, unknown>;
}

/** `registry/repository:tag` split at the tag, as the operator chart takes it. */
export function splitImageRef(ref: string): { repository: string; tag: string } {
  const at = ref.lastIndexOf(":");
  if (at <= ref.lastIndexOf("/")) throw new Error(`image "${ref}" has no tag`);
  return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
}

function peer(p: PodPeer): k8s.types.input.networking.v1.NetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } }, podSelector: { matchLabels: p.podLabels } };
}

/**
 * The redis-operator in the infra namespace, then a Redis Cluster sized by the stack file. CRDs only
 * from the stack that installs the cluster's shared services.
 */
export function deployRedis(ctx: EnvironmentContext, tls: IssuedTls): RedisDeployment {
  const opts = { parent: ctx.parent, provider: ctx.providers.kubernetes };
  const namespace = ctx.namespaces.infra.name;
  const spec = ctx.spec.redis;

  const operator = new RedisOperator(
    "redis-operator",
    {
      namespace,
      chart: charts.redisOperator,
      image: splitImageRef(images.redisOperator),
      labels: ctx.labels,
      installChart: installsCharts(ctx),
      apiServer: apiServer(ctx),
      awaitReadiness: ctx.config.kubernetes.awaitReadiness,
    },
    opts,
  );

  const redis = new RedisCluster(
    "redis",
    {
      namespace,
      labels: ctx.labels,
      leaders: spec.leaders,
      followersPerLeader: spec.followersPerLeader,
      storage: spec.storage,
      resources: spec.resources,
      images: { redis: images.redis, exporter: images.redisExporter },
      clients: [peer(appPods(ctx))],
      metricsScrapers: [peer(prometheusPods(ctx))],
      protectData: ctx.spec.features.protectStatefulResources,
      operator,
      tls,
      awaitReadiness: ctx.config.kubernetes.awaitReadiness,
    },
    opts,
  );

  return {
    nodes: redis.nodes,
    port: redis.port,
    password: redis.password,
    tlsServerName: redis.tlsServerName!,
    ready: redis.ready,
    outputs: {
      nodes: redis.nodes,
      port: redis.port,
      leaders: spec.leaders,
      followers: spec.leaders * spec.followersPerLeader,
      persistence: "aof everysec",
      tls: { issuer: tls.issuer.name, serverName: redis.tlsServerName, plainPortClosed: true },
      images: { redis: images.redis, exporter: images.redisExporter, operator: images.redisOperator },
    },
  };
}
