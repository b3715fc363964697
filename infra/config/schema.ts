import { z } from "zod";
import { networksOf, parseNetwork, wholeInternetIn } from "../net";

/**
 * The two sources of an environment's configuration, and their rules.
 *
 * - The environment spec (`stacks/<env>.ts`) is code: sizes, hosts, retention, feature switches. It is
 *   reviewed like code and is the same wherever the stack is deployed.
 * - The deployment config (`Pulumi.<env>.yaml`, keys under `diaspomoney-platform:`) is what changes per
 *   installation and is not code: cluster context, Cloudflare and Atlas ids, image, receivers, secrets.
 *
 * Both are validated together (`infra/config/load.ts`) before any resource is registered.
 */

const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const hostname = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    "a lower-case DNS host name such as dev.diaspomoney.fr",
  );
const quantityCpu = z.string().regex(/^\d+(\.\d+)?m?$/, 'a CPU quantity such as "500m" or "2"');
const quantityMem = z.string().regex(/^\d+(Ki|Mi|Gi|Ti)$/, 'a memory or storage quantity such as "512Mi" or "20Gi"');
const cron = z
  .string()
  .regex(/^(\S+\s+){4}\S+$/, 'a five-field cron schedule such as "0 0 * * *"');
const duration = z.string().regex(/^\d+(s|m|h|d|w|y)$/, 'a Prometheus duration such as "15d"');
const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

const resources = z.strictObject({
  requests: z.strictObject({ cpu: quantityCpu, memory: quantityMem }),
  limits: z.strictObject({ cpu: quantityCpu, memory: quantityMem }),
});

const namespaceBudget = z.strictObject({
  /** Sum of CPU requests / limits allowed in the namespace. */
  cpu: z.strictObject({ requests: quantityCpu, limits: quantityCpu }),
  memory: z.strictObject({ requests: quantityMem, limits: quantityMem }),
  pods: positiveInt,
  persistentVolumeClaims: nonNegativeInt,
  storage: quantityMem,
  /** Defaults applied by the LimitRange to a container that sets nothing. */
  containerDefaults: resources,
});

/**
 * The data key purposes the app encrypts with (`app/src/lib/field-encryption/fields.ts`): the app
 * refuses to start unless each has a data key, so a missing one is refused here, before any rollout.
 */
export const FIELD_ENCRYPTION_PURPOSES = ["banking", "contact", "identity"] as const;

const vaultCiphertext = /^vault:v\d+:[A-Za-z0-9+/]+={0,2}$/;
const base64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The KMS holding the master key of the field encryption (see `FieldEncryptionKms` in components/app.ts). */
const fieldEncryptionKms = z.discriminatedUnion("provider", [
  z.strictObject({
    provider: z.literal("vault-transit"),
    address: z.string().regex(/^https:\/\/[a-z0-9.-]+(:\d+)?$/, "an https:// address of Vault such as https://vault.vault.svc:8200").optional(),
    key: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "a Transit key name such as web-fields").optional(),
    mount: z.string().regex(/^[a-z0-9][a-z0-9_/-]{0,63}$/, "a Vault mount path such as transit").optional(),
    role: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "a Vault Kubernetes auth role").optional(),
    authMount: z.string().regex(/^[a-z0-9][a-z0-9_/-]{0,63}$/, "a Vault auth mount path such as kubernetes").optional(),
    namespace: z.string().min(1).optional(),
  }),
  z.strictObject({
    provider: z.literal("aws-kms"),
    keyArn: z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key\/[0-9a-f-]{36}|alias\/[A-Za-z0-9/_-]+)$/, "the ARN of a KMS key or alias"),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region such as eu-west-3"),
    roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_/-]+$/, "the ARN of the IAM role the pods assume (IRSA)").optional(),
    endpoint: z.string().regex(/^https:\/\/\S+$/, "an https:// KMS endpoint").optional(),
  }),
]);

/**
 * Field-level encryption, an envelope scheme: the KMS holding the master key and the data keys it
 * wrapped (`npm run -w app keys -- generate`). Only wrapped keys are configured: no raw data key
 * ever reaches the config, the state or a pod's environment.
 */
export const fieldEncryptionSchema = z
  .strictObject({
    kms: fieldEncryptionKms.default({ provider: "vault-transit" }),
    /** Oldest first within a purpose: the last key of each purpose encrypts new values. */
    dataKeys: z
      .array(
        z.strictObject({
          id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "a key id of letters, digits, _ or - (at most 32), such as banking-2"),
          purpose: z.enum(FIELD_ENCRYPTION_PURPOSES),
          wrapped: z.string().min(1),
        }),
      )
      .min(1),
  })
  .superRefine((fe, ctx) => {
    const seen = new Set<string>();
    fe.dataKeys.forEach((k, i) => {
      if (seen.has(k.id)) ctx.addIssue({ code: "custom", path: ["dataKeys", i, "id"], message: `each key id once (${k.id} appears twice)` });
      seen.add(k.id);
      const ok = fe.kms.provider === "vault-transit" ? vaultCiphertext.test(k.wrapped) : base64.test(k.wrapped);
      if (!ok) {
        const form = fe.kms.provider === "vault-transit" ? "a Vault Transit ciphertext (vault:v<n>:<base64>)" : "the base64 ciphertext blob of AWS KMS";
        ctx.addIssue({ code: "custom", path: ["dataKeys", i, "wrapped"], message: `a wrapped key: ${form}` });
      }
    });
    const missing = FIELD_ENCRYPTION_PURPOSES.filter((p) => !fe.dataKeys.some((k) => k.purpose === p));
    if (missing.length) ctx.addIssue({ code: "custom", path: ["dataKeys"], message: `a data key for each purpose the app encrypts (missing: ${missing.join(", ")})` });
  });

export const kafkaTopicSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,127}$/, "a lower-case Kafka topic name"),
  partitions: positiveInt,
  replicas: positiveInt,
  /** Bounded retention in hours; never infinite. */
  retentionHours: positiveInt,
  cleanupPolicy: z.enum(["delete", "compact"]).default("delete"),
});

export const searchIndexSchema = z.strictObject({
  name: z.string().min(1),
  database: z.string().min(1),
  collection: z.string().min(1),
  /** Atlas Search field mappings; `dynamic: false` with explicit fields is the GDPR-friendly choice. */
  fields: z.record(z.string(), z.strictObject({ type: z.enum(["string", "number", "date", "token", "autocomplete"]) })),
});

export const environmentSpecSchema = z.strictObject({
  /** Short environment id: namespaces are `diaspomoney-<name>` and `diaspomoney-<name>-infra`. */
  name: z.string().regex(dnsLabel, "a lower-case DNS label such as dev"),
  tier: z.enum(["development", "acceptance", "production"]),
  domain: hostname,
  hosts: z.strictObject({
    app: hostname,
    grafana: hostname,
    prometheus: hostname,
    alertmanager: hostname,
  }),
  app: z.strictObject({
    replicas: positiveInt,
    maxReplicas: positiveInt,
    resources,
  }),
  namespaces: z.strictObject({ app: namespaceBudget, infra: namespaceBudget }),
  kafka: z.strictObject({
    /** Broker nodes. Below 3, replication factor 3 and min ISR 2 are impossible. */
    brokers: z.number().int().min(3, "at least 3 brokers (replication factor 3, min.insync.replicas 2)"),
    /** Dedicated KRaft controllers; 0 means the brokers also act as controllers. */
    dedicatedControllers: z.union([z.literal(0), z.literal(3), z.literal(5)]),
    storage: quantityMem,
    resources,
    /**
     * Volume and resources of the dedicated controllers (only with `dedicatedControllers` > 0): they
     * hold only the cluster metadata. Default: the brokers' `storage` and `resources`.
     */
    controllers: z.strictObject({ storage: quantityMem, resources }).optional(),
    topics: z.array(kafkaTopicSchema).min(1),
  }),
  mongodb: z.strictObject({
    /** Replica set members: 1 (single primary, dev/rct only) or an odd number >= 3. */
    members: positiveInt,
    storage: quantityMem,
    resources,
    backup: z.strictObject({
      schedule: cron,
      /** Number of daily backups kept. */
      keep: positiveInt,
      pointInTimeRecovery: z.boolean(),
    }),
    /**
     * A sharded cluster instead of one replica set: `shards` replica sets of `members` each, a
     * config-server replica set and `mongos` routers the app connects through. Absent: one replica
     * set (the seed's "Primary" and "Replica"). See docs/mongodb.md for when to shard.
     */
    sharding: z
      .strictObject({
        shards: positiveInt,
        /** Config-server replica set members: 1 (development) or an odd number, 3 or more in production. */
        configServers: positiveInt,
        /** mongos routers (stateless): 2 or more in production. */
        mongos: positiveInt,
        /** Volume of each config server. Default: `storage`. */
        configServerStorage: quantityMem.optional(),
        /** Resources of each config server and each mongos. Default: `resources`. */
        configServerResources: resources.optional(),
        mongosResources: resources.optional(),
      })
      .optional(),
  }),
  redis: z.strictObject({
    /** Cluster leaders (shards); each has `followersPerLeader` replicas. */
    leaders: z.number().int().min(3, "at least 3 leaders for a Redis Cluster"),
    followersPerLeader: z.number().int().min(1, "at least one follower per leader"),
    storage: quantityMem,
    resources,
  }),
  monitoring: z.strictObject({
    prometheusRetention: duration,
    /** Prometheus servers scraping the same targets: 2 keeps alerting up through a node loss. */
    prometheusReplicas: positiveInt,
    prometheusStorage: quantityMem,
    alertmanagerReplicas: positiveInt,
    grafanaReplicas: positiveInt,
  }),
  edge: z.strictObject({
    traefikReplicas: z.number().int().min(2, "at least 2 Traefik replicas"),
    /**
     * Let's Encrypt directory of the environment's cert-manager Issuer. Cloudflare's Full (strict) mode,
     * set zone-wide, rejects staging certificates (error 526): "staging" is only for debugging issuance.
     */
    acmeEnvironment: z.enum(["staging", "production"]),
    /**
     * Who signs the hosts' certificates: Let's Encrypt (DNS-01 on Cloudflare, the default), or the
     * environment's internal CA from the cluster stack (`cluster-ca`: a laptop cluster, not reachable
     * from the internet; browsers must trust that CA). Production always uses Let's Encrypt.
     */
    certificates: z.enum(["letsencrypt", "cluster-ca"]).default("letsencrypt"),
    /** Rate limit per client IP on the app route. */
    rateLimit: z.strictObject({ average: positiveInt, burst: positiveInt }),
    /**
     * Lowest TLS version Cloudflare accepts from visitors (zone setting, applied by the stack that
     * manages the zone). "1.3" locks out clients without TLS 1.3 (Android 9 and older, Windows 7/8.1,
     * old embedded browsers); "1.2" is the PCI DSS floor. See docs/edge.md.
     */
    minTlsVersion: z.enum(["1.2", "1.3"]).default("1.3"),
  }),
  atlas: z.strictObject({
    /** Atlas regions inside the EU (GDPR data residency): Zurich (EU_CENTRAL_2) and London are not. */
    region: z.enum(["EU_WEST_1", "EU_WEST_3", "EU_CENTRAL_1", "EU_NORTH_1", "EU_SOUTH_1", "EU_SOUTH_2"]),
    instanceSize: z.string().regex(/^M\d+$/, "an Atlas dedicated tier such as M30"),
    searchIndexes: z.array(searchIndexSchema),
  }),
  features: z.strictObject({
    /** MongoDB Atlas (Atlas Search) project and cluster. */
    atlas: z.boolean(),
    /** Cloudflare managed and OWASP rulesets on the zone. */
    waf: z.boolean(),
    /** Zone-wide Cloudflare settings, cache and WAF rules: owned by exactly one stack. */
    manageZone: z.boolean(),
    /** `protect` and `retainOnDelete` on stateful resources, operator delete guards. */
    protectStatefulResources: z.boolean(),
  }),
});

export type EnvironmentSpecInput = z.input<typeof environmentSpecSchema>;
export type EnvironmentSpec = z.output<typeof environmentSpecSchema>;

/**
 * A network in canonical CIDR notation, parsed by the address library (infra/net.ts): one spelling per
 * network, so that what the program emits and what reviewers read is the network it means.
 */
const cidr = z.string().superRefine((text, ctx) => {
  const parsed = parseNetwork(text);
  if (!parsed.ok) ctx.addIssue({ code: "custom", message: `an IPv4 or IPv6 network in CIDR notation such as 203.0.113.0/24 (${parsed.reason})` });
  else if (parsed.network.canonical !== text) {
    const { canonical, hostBitsSet, prefix } = parsed.network;
    const message = hostBitsSet ? `the network ${canonical}: the address has bits set beyond the /${prefix} prefix` : `the same network spelt canonically, ${canonical}`;
    ctx.addIssue({ code: "custom", message });
  }
});

/**
 * Networks that must be bounded: neither one entry nor the list as a whole may cover every IPv4 or
 * IPv6 address, in any spelling (`1.2.3.4/0`, `::ffff:0:0/96`, two halves).
 */
const boundedCidrs = (what: string) =>
  z
    .array(cidr)
    .min(1)
    .superRefine((list, ctx) => {
      const message = (family: string, together: string) => `${what}, never the whole internet (${together} every ${family} address)`;
      let alone = false;
      list.forEach((text, i) => {
        const family = wholeInternetIn(networksOf([text]));
        if (family) ctx.addIssue({ code: "custom", path: [i], message: message(family, "this network covers") });
        alone ||= family !== undefined;
      });
      const family = wholeInternetIn(networksOf(list));
      if (family && !alone) ctx.addIssue({ code: "custom", message: message(family, "these networks together cover") });
    });

const email = z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "an e-mail address");
const imageRef = z
  .string()
  .regex(
    /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/,
    "an image reference registry/repository[:tag][@sha256:digest]",
  );

/** Keys under `diaspomoney-platform:` in `Pulumi.<stack>.yaml`. Unknown keys are rejected (typos). */
/** The cluster a stack deploys to: the same keys for environment and cluster stacks. */
export const kubernetesTargetSchema = z.strictObject({
    /** kubeconfig context of the target cluster. */
    context: z.string().min(1),
    /**
     * Stable identity of the cluster: the provider is replaced (and with it every Kubernetes
     * resource) only when this changes, not when the context is renamed.
     */
    clusterIdentifier: z.string().min(1),
    /**
     * Wait for objects to become ready (Deployments rolled out, custom resources Ready) during
     * `pulumi up`. Turn off only where nothing can become ready: a control plane without nodes
     * (`npm run e2e`) or a dry run against an empty cluster. Default true.
     */
    awaitReadiness: z.boolean().default(true),
    /**
     * The cluster's network plugin. NetworkPolicy `ipBlock` rules match the API server and the nodes
     * on Calico, but not on Cilium (unless `policy-cidr-match-mode=nodes`): on Cilium, the rules that
     * reach them are CiliumNetworkPolicies with entities `kube-apiserver` and `remote-node`.
     */
    cni: z.enum(["calico", "cilium", "other"]),
    /**
     * Addresses of the Kubernetes API server's endpoints (`kubectl get endpoints kubernetes -n default`).
     * Operators' egress (443 and 6443) is limited to them; when unset, to any address on those ports
     * (refused in production). Never the whole internet: that is what leaving the key unset means.
     */
    apiServerCidrs: boundedCidrs("the API server's endpoint addresses").optional(),
  });

export const deploymentConfigSchema = z.strictObject({
  kubernetes: kubernetesTargetSchema,
  /**
   * The cluster stack of the cluster this environment runs on (`cluster-nonprod`, or
   * `<organization>/diaspomoney-platform/cluster-nonprod` with Pulumi Cloud): it owns the CRDs,
   * cert-manager, the internal CA issuers and cluster-scoped RBAC this environment uses.
   */
  cluster: z.strictObject({
    stack: z
      .string()
      .regex(/^([A-Za-z0-9_.-]+\/){0,2}cluster-[a-z0-9-]+$/, "the name of a cluster stack of this project, such as cluster-nonprod or acme/diaspomoney-platform/cluster-nonprod"),
  }),
  /**
   * External services this installation manages. Both default to on; `npm run e2e` turns them off
   * (a local control plane reaches neither Cloudflare nor Atlas). Atlas is managed only where the
   * environment spec also turns it on (`features.atlas`).
   */
  integrations: z
    .strictObject({ cloudflare: z.boolean().default(true), atlas: z.boolean().default(true) })
    .default({ cloudflare: true, atlas: true }),
  /** Required where Cloudflare fronts the environment (`integrations.cloudflare`, the default). */
  cloudflare: z
    .strictObject({
      zoneId: z.string().regex(/^[a-f0-9]{32}$/, "a 32-character hexadecimal Cloudflare zone id"),
      accountId: z.string().regex(/^[a-f0-9]{32}$/, "a 32-character hexadecimal Cloudflare account id"),
      /** Cloudflare's published edge ranges: the only sources allowed to reach the load balancer. */
      ipRanges: boundedCidrs("Cloudflare's published edge ranges (https://www.cloudflare.com/ips/)"),
    })
    .optional(),
  /**
   * Where nothing fronts the load balancer (`integrations.cloudflare` off and no `cloudflare` block):
   * the networks allowed to reach it (a laptop's own and its cluster's, for the local stack).
   */
  ingress: z.strictObject({ allowedSourceRanges: boundedCidrs("the networks allowed to reach the load balancer") }).optional(),
  atlas: z
    .strictObject({
      orgId: z.string().regex(/^[a-f0-9]{24}$/, "a 24-character hexadecimal Atlas organisation id"),
      /** Networks allowed to reach the Atlas cluster. Never the whole internet. */
      accessList: boundedCidrs("the networks allowed to reach the Atlas cluster"),
      /** Customer-managed key (AWS KMS) for Atlas encryption at rest. */
      encryptionKey: z.strictObject({
        awsKmsKeyId: z.string().min(1),
        region: z.string().regex(/^[A-Z]{2}_[A-Z]+_\d$/, "an Atlas AWS region such as EU_WEST_1"),
        /**
         * The AWS IAM role Atlas assumes to use the key. It is created outside this program, trusting
         * the Atlas AWS account and external id that the project's access setup generates: unset for
         * phase 1 of a new Atlas project, then set from that phase's `data.atlas.encryptionAtRest`
         * output (docs/atlas.md). Atlas' own role id is never configured: the program creates it.
         */
        iamRole: z
          .strictObject({
            arn: z.string().regex(/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/, "an IAM role ARN such as arn:aws:iam::123456789012:role/diaspomoney-prod-atlas-kms"),
            externalId: z.string().min(1),
          })
          .optional(),
      }),
    })
    .optional(),
  app: z.strictObject({
    image: imageRef,
    release: z
      .discriminatedUnion("strategy", [
        z.strictObject({ strategy: z.literal("rolling") }),
        z.strictObject({
          strategy: z.literal("canary"),
          canaryImage: imageRef,
          /** Percentage of traffic sent to the canary. */
          canaryWeight: z.number().int().min(0).max(100),
        }),
        z.strictObject({
          strategy: z.literal("blueGreen"),
          blueImage: imageRef,
          greenImage: imageRef,
          active: z.enum(["blue", "green"]),
        }),
      ])
      .default({ strategy: "rolling" }),
    fieldEncryption: fieldEncryptionSchema,
  }),
  alerting: z.strictObject({
    emailTo: email,
    emailFrom: email,
    smtpSmarthost: z.string().regex(/^[a-z0-9.-]+:\d+$/, "host:port of the SMTP relay"),
    slackChannel: z.string().regex(/^#[a-z0-9_-]+$/, "a Slack channel such as #alerts-prod"),
    securityEmail: email,
    paymentsEmail: email,
    /** Address of a dead man's switch (healthchecks.io and the like accept e-mail pings): Watchdog's heartbeat. */
    heartbeatEmail: email.optional(),
  }),
  backup: z.strictObject({
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name"),
    region: z.string().min(1),
    endpointUrl: z.string().regex(/^https:\/\/\S+$/, "an https:// S3 endpoint"),
  }),
});

export type DeploymentConfigInput = z.input<typeof deploymentConfigSchema>;
export type DeploymentConfig = z.output<typeof deploymentConfigSchema>;

/**
 * Secret keys: read with `requireSecret`, and required to be stored encrypted (`pulumi config set
 * --secret`). Which are required depends on the spec (Atlas keys only when Atlas is on).
 */
export const secretKeys = {
  cloudflareApiToken: "Cloudflare API token allowed to manage the zone's DNS, settings and API tokens",
  slackWebhookUrl: "Slack incoming webhook for alerts",
  pagerdutyRoutingKey: "PagerDuty Events v2 routing key for critical alerts",
  smtpPassword: "password of the SMTP relay used by Alertmanager",
  sentryDsn: "Sentry DSN of the app",
  backupAccessKeyId: "S3 access key id for MongoDB backups",
  backupSecretAccessKey: "S3 secret access key for MongoDB backups",
  atlasPublicKey: "MongoDB Atlas programmatic API public key (when Atlas is on)",
  atlasPrivateKey: "MongoDB Atlas programmatic API private key (when Atlas is on)",
} as const;

export type SecretKey = keyof typeof secretKeys;
export const atlasSecretKeys: readonly SecretKey[] = ["atlasPublicKey", "atlasPrivateKey"];
