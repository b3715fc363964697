import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { InternalCA, leafCertificateSpec, WAIT_FOR_READY, type IssuedTls } from "../../components/internal-ca";
import type { EnvironmentContext } from "../context";
import { CERT_MANAGER_NAMESPACE } from "../edge";
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
  /** Stack outputs of the area (no secret). */
  outputs: Record<string, unknown>;
}

/** What the data layer needs from areas built before it. */
export interface DataLayerDeps {
  /** cert-manager, where this stack installs it: the CA's objects wait for its webhook. */
  certManager?: pulumi.Resource;
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
export function buildDataLayer(ctx: EnvironmentContext, deps: DataLayerDeps = {}): DataLayer {
  const k8sOpts = { parent: ctx.parent, provider: ctx.providers.kubernetes };
  const caNames = internalCaNames(ctx.spec.name);
  // cert-manager's webhook admits every Issuer and Certificate: all of them wait for its chart.
  const webhook = deps.certManager ? [deps.certManager] : [];
  const ca = new InternalCA(
    "internal-ca",
    {
      name: caNames.ca,
      selfSignedIssuerName: caNames.selfSignedIssuer,
      // Every stack writes here, rct too: the namespace exists once cert-manager is in the cluster.
      namespace: CERT_MANAGER_NAMESPACE,
      labels: (name) => ctx.labels(name, "internal-ca"),
      commonName: `DiaspoMoney ${ctx.spec.name} internal CA`,
      organizations: ["DiaspoMoney"],
      // Replacing the CA would make every client distrust every server at once.
      retention: ctx.stateful,
      after: webhook,
    },
    k8sOpts,
  );
  const tls: IssuedTls = { issuer: ca.issuerRef, after: [...webhook, ca.clusterIssuer] };
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
        annotations: { ...WAIT_FOR_READY },
      },
      // No organization: mongod would take a client whose subject matched its members' for a member.
      spec: leafCertificateSpec({
        secretName: DATA_TRUST.secretName,
        issuer: ca.issuerRef,
        commonName: DATA_CLIENT_CERTIFICATE,
        usages: ["client auth", "digital signature"],
        secretLabels: ctx.labels(DATA_TRUST.secretName, "data"),
      }),
    },
    { ...k8sOpts, dependsOn: tls.after },
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
    trust: DATA_TRUST,
    ports: { mongodb: mongodb.port, redis: redis.port, kafka: kafka.port },
    outputs: {
      connectionSecret: { name: CONNECTION_SECRET, namespace: ctx.names.app, keys: Object.keys(data) },
      ports: { mongodb: mongodb.port, redis: redis.port, kafka: kafka.port },
      tls: {
        clusterIssuer: ca.issuerRef.name,
        caSecret: { namespace: CERT_MANAGER_NAMESPACE, name: ca.secretName },
        protected: ctx.stateful.protect === true,
        trust: { ...DATA_TRUST, namespace: ctx.names.app, certificate: DATA_CLIENT_CERTIFICATE },
      },
      mongodb: mongodb.outputs,
      atlas: atlas?.outputs ?? { enabled: false },
      kafka: kafka.outputs,
      redis: redis.outputs,
    },
  };
}
