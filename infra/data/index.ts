import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { leafCertificateSpec, type IssuedTls, type IssuerRef } from "../../components/internal-ca";
import { awaitAnnotations, checksum } from "../../components/lifecycle";
import type { EnvironmentContext } from "../context";
import { deployAtlas } from "./atlas";
import { deployKafka } from "./kafka";
import { deployMongoDB } from "./mongodb";
import { deployRedis } from "./redis";

/** Where the app finds the CA every data-layer certificate chains to. */
export interface DataTrust {
  /** Secret in the app namespace whose `caKey` entry is the environment's internal CA certificate. */
  secretName: string;
  caKey: "ca.crt";
  /** Where the app mounts that entry, read-only: the connection Secret's CA paths point there. */
  mountPath: string;
}

/** What the data layer gives the rest of the environment. */
export interface DataLayer {
  /** Name of the Secret, in the app namespace, holding what the app needs to connect. */
  connectionSecretName: pulumi.Input<string>;
  /** The CA the app verifies MongoDB, Kafka and Redis with; the app mounts it as said here. */
  trust: DataTrust;
  /** Ports the app may reach in the infra namespace. */
  ports: { mongodb: number; redis: number; kafka: number };
  /** The data custom resources (Kafka with its topics and user, MongoDB, Redis): the app starts once they are ready. */
  ready: pulumi.Resource[];
  /** Checksum of the connection Secret's data: the app's pods roll when it changes. */
  connectionSecretChecksum: pulumi.Output<string>;
  /** Stack outputs of the area (no secret). */
  outputs: Record<string, unknown>;
}

export const CONNECTION_SECRET = "data-connections";
export const KAFKA_SASL_MECHANISM = "SCRAM-SHA-512";
/** The Certificate issued in the app namespace only so that its Secret carries the CA (`ca.crt`). */
export const DATA_CLIENT_CERTIFICATE = "data-client";
export const DATA_TRUST: DataTrust = { secretName: "data-client-tls", caKey: "ca.crt", mountPath: "/etc/diaspomoney/data-tls" };

/** Path of the CA file in the app's pods. */
export function trustedCaFile(trust: DataTrust): string {
  return `${trust.mountPath}/${trust.caKey}`;
}

/** Names of an environment's internal CA objects (ClusterIssuers are cluster-wide: the name says whose). */
export function internalCaNames(env: string): { ca: string; selfSignedIssuer: string } {
  return { ca: `diaspomoney-${env}-internal-ca`, selfSignedIssuer: `diaspomoney-${env}-selfsigned` };
}

export interface ConnectionParts {
  mongodbUri: pulumi.Input<string>;
  redisNodes: pulumi.Input<string>;
  redisPassword: pulumi.Input<string>;
  /** Name the Redis nodes' certificate is verified against. */
  redisTlsServerName: pulumi.Input<string>;
  kafkaBrokers: pulumi.Input<string>;
  kafkaUsername: pulumi.Input<string>;
  kafkaPassword: pulumi.Input<string>;
  /** Path of the internal CA certificate in the app's pods. */
  caFile: string;
  /** Present only when Atlas is on. */
  atlasUri?: pulumi.Input<string>;
}

/** The connection Secret's entries. Every value is a Pulumi secret, addresses and paths included. */
export function connectionSecretData(p: ConnectionParts): Record<string, pulumi.Output<string>> {
  const entries: Record<string, pulumi.Input<string>> = {
    MONGODB_URI: p.mongodbUri,
    REDIS_NODES: p.redisNodes,
    REDIS_PASSWORD: p.redisPassword,
    REDIS_TLS: "true",
    REDIS_CA_FILE: p.caFile,
    REDIS_TLS_SERVERNAME: p.redisTlsServerName,
    KAFKA_BROKERS: p.kafkaBrokers,
    KAFKA_USERNAME: p.kafkaUsername,
    KAFKA_PASSWORD: p.kafkaPassword,
    KAFKA_SASL_MECHANISM: KAFKA_SASL_MECHANISM,
    KAFKA_CA_FILE: p.caFile,
    ...(p.atlasUri === undefined ? {} : { MONGODB_ATLAS_URI: p.atlasUri }),
  };
  return Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, pulumi.secret(v)]));
}

/**
 * The environment's internal CA, the infra namespace's stores (Kafka, Redis, MongoDB) with
 * certificates from it and, when the stack turns it on, MongoDB Atlas; then what the app needs to
 * reach them: the CA certificate and one Secret of connection settings.
 */
export function buildDataLayer(ctx: EnvironmentContext): DataLayer {
  const k8sOpts = { parent: ctx.parent, provider: ctx.providers.kubernetes };
  // The environment's internal CA is the cluster stack's (a ClusterIssuer is cluster-wide): this
  // environment only asks it for certificates. Its CRDs and cert-manager exist before this stack.
  const ca = ctx.cluster.internalCa[ctx.spec.name];
  const issuer: IssuerRef = { name: ca.issuer, kind: "ClusterIssuer", group: "cert-manager.io" };
  const tls: IssuedTls = { issuer, after: [] };
  const caFile = trustedCaFile(DATA_TRUST);

  const kafka = deployKafka(ctx, tls);
  const redis = deployRedis(ctx, tls);
  const mongodb = deployMongoDB(ctx, tls, caFile);
  const atlas = deployAtlas(ctx);

  // cert-manager writes the CA certificate into `ca.crt` of every Secret it issues: a certificate
  // issued in the app namespace is how the CA gets there (a pod mounts Secrets of its own namespace
  // only). Its key is never used: the app mounts `ca.crt` alone.
  const trust = new k8s.apiextensions.CustomResource(
    `${DATA_CLIENT_CERTIFICATE}-certificate`,
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: {
        name: DATA_CLIENT_CERTIFICATE,
        namespace: ctx.namespaces.app.name,
        labels: ctx.labels(DATA_CLIENT_CERTIFICATE, "data"),
        annotations: awaitAnnotations("Certificate", ctx.config.kubernetes.awaitReadiness),
      },
      // No organization: mongod would take a client whose subject matched its members' for a member.
      spec: leafCertificateSpec({
        secretName: DATA_TRUST.secretName,
        issuer,
        commonName: DATA_CLIENT_CERTIFICATE,
        usages: ["client auth", "digital signature"],
        secretLabels: ctx.labels(DATA_TRUST.secretName, "data"),
      }),
    },
    k8sOpts,
  );

  const data = connectionSecretData({
    mongodbUri: mongodb.uri,
    redisNodes: redis.nodes,
    redisPassword: redis.password,
    redisTlsServerName: redis.tlsServerName,
    kafkaBrokers: kafka.bootstrapServers,
    kafkaUsername: kafka.username,
    kafkaPassword: kafka.password,
    caFile,
    atlasUri: atlas?.connectionString,
  });
  // The app reads this Secret: waiting for the CA's Secret here makes the app wait for it too.
  const secret = new k8s.core.v1.Secret(
    CONNECTION_SECRET,
    {
      metadata: { name: CONNECTION_SECRET, namespace: ctx.namespaces.app.name, labels: ctx.labels(CONNECTION_SECRET, "data") },
      type: "Opaque",
      stringData: data,
    },
    { ...k8sOpts, dependsOn: [trust] },
  );

  return {
    connectionSecretName: secret.metadata.name,
    ready: [...kafka.ready, ...mongodb.ready, ...redis.ready],
    connectionSecretChecksum: checksum(data),
    trust: DATA_TRUST,
    ports: { mongodb: mongodb.port, redis: redis.port, kafka: kafka.port },
    outputs: {
      connectionSecret: { name: CONNECTION_SECRET, namespace: ctx.names.app, keys: Object.keys(data) },
      ports: { mongodb: mongodb.port, redis: redis.port, kafka: kafka.port },
      tls: {
        clusterIssuer: ca.issuer,
        caSecret: ca.caSecret,
        trust: { ...DATA_TRUST, namespace: ctx.names.app, certificate: DATA_CLIENT_CERTIFICATE },
      },
      mongodb: mongodb.outputs,
      atlas: atlas?.outputs ?? { enabled: false },
      kafka: kafka.outputs,
      redis: redis.outputs,
    },
  };
}
