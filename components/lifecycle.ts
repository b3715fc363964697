import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * How `pulumi up` waits for Kubernetes objects, and what makes pods roll, in one place for every
 * component. The Kubernetes provider waits for Deployments, StatefulSets and Services on its own (10
 * minutes by default) but for a custom resource only when `pulumi.com/waitFor` says what "ready"
 * means; `pulumi.com/skipAwait` turns waiting off. A switch (`awaitReadiness`, from the
 * `kubernetes.awaitReadiness` config key) chooses between the two for a whole stack: off only where
 * nothing can become ready, such as a control plane without nodes.
 */

export const AWAIT_ANNOTATION = {
  waitFor: "pulumi.com/waitFor",
  timeoutSeconds: "pulumi.com/timeoutSeconds",
  skipAwait: "pulumi.com/skipAwait",
} as const;

interface Readiness {
  /** The provider's `waitFor` expression; absent where its built-in await applies. */
  waitFor?: string;
  /** Upper bound on a cold cluster: nodes added by the autoscaler, first image pulls, new volumes. */
  timeoutSeconds: number;
}

/**
 * What "ready" means for each kind the platform waits for, and how long it may take the first time.
 * The data stores get half an hour: the autoscaler adds nodes (minutes), every image is pulled for
 * the first time, volumes are provisioned, and the members start one after the other before the
 * operator forms the cluster and reports it. Topics, users and certificates come after their
 * controller is up and take seconds; ten minutes covers a slow reconciliation loop.
 */
export const READINESS = {
  /** Strimzi sets the Ready condition once every node pool runs and the entity operator is up. */
  Kafka: { waitFor: "condition=Ready", timeoutSeconds: 1800 },
  /** Ready once the Topic Operator has created or updated the topic in Kafka. */
  KafkaTopic: { waitFor: "condition=Ready", timeoutSeconds: 600 },
  /** Ready once the User Operator has written the SCRAM credentials and the ACLs. */
  KafkaUser: { waitFor: "condition=Ready", timeoutSeconds: 600 },
  /** Percona's `status.state`: `initializing`, then `ready` (lower case; also `error`, `stopping`, `paused`). */
  PerconaServerMongoDB: { waitFor: "jsonpath={.status.state}=ready", timeoutSeconds: 1800 },
  /**
   * OT redis-operator 0.26's `status.state` (`RedisClusterState`): `Initializing`, `Bootstrap`, then
   * `Ready` once every leader and follower is ready and the cluster check passes (else `Failed`).
   * The CRD declares the field as a free string: the values come from the operator's API package.
   */
  RedisCluster: { waitFor: "jsonpath={.status.state}=Ready", timeoutSeconds: 1800 },
  /** cert-manager's Ready condition: the Secret holds a valid certificate. */
  Certificate: { waitFor: "condition=Ready", timeoutSeconds: 600 },
  /** Built-in await: the rollout completes (new pods ready, old ones gone). */
  Deployment: { timeoutSeconds: 900 },
  /** Built-in await: endpoints for a selector, an address for a LoadBalancer. */
  Service: { timeoutSeconds: 900 },
} as const satisfies Record<string, Readiness>;

export type AwaitedKind = keyof typeof READINESS;

/**
 * The annotations that make `pulumi up` wait for an object of `kind` to be ready (with a timeout that
 * fits a cold cluster), or, when `awaitReadiness` is off, explicitly not wait at all.
 */
export function awaitAnnotations(kind: AwaitedKind, awaitReadiness = true): Record<string, string> {
  if (!awaitReadiness) return { [AWAIT_ANNOTATION.skipAwait]: "true" };
  const r: Readiness = READINESS[kind];
  return {
    ...(r.waitFor ? { [AWAIT_ANNOTATION.waitFor]: r.waitFor } : {}),
    [AWAIT_ANNOTATION.timeoutSeconds]: String(r.timeoutSeconds),
  };
}

/**
 * How long a `helm.v3.Release` may take to get every object of the chart ready. Helm's default, 300
 * s, is shorter than a node scale-up plus the first pull of an operator image: an atomic release
 * then rolls itself back on every first install on a cold cluster.
 */
export const HELM_RELEASE_TIMEOUT_SECONDS = 900;

/**
 * Await options of a `helm.v3.Release`. Waiting, the release is atomic (a failed install or upgrade
 * rolls back) within {@link HELM_RELEASE_TIMEOUT_SECONDS}; not waiting, it cannot be atomic (Helm's
 * atomic implies waiting, and the provider turns `skipAwait` off when `atomic` is set).
 */
export function helmReleaseAwait(awaitReadiness = true): { atomic: boolean; skipAwait: boolean; timeout: number } {
  return { atomic: awaitReadiness, skipAwait: !awaitReadiness, timeout: HELM_RELEASE_TIMEOUT_SECONDS };
}

/**
 * Await options of a `helm.v4.Chart`. A v4 Chart has no chart-wide timeout: the provider awaits each
 * rendered object as if declared alone (a Deployment up to 10 minutes from its own creation), which
 * fits a cold cluster; only waiting itself can be switched.
 */
export function helmChartAwait(awaitReadiness = true): { skipAwait: boolean } {
  return { skipAwait: !awaitReadiness };
}

/** Prefix of the pod-template annotations that roll pods when what they read changes. */
export const CHECKSUM_ANNOTATION_PREFIX = "checksum/";

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** SHA-256 of `entries` with sorted keys: the same data gives the same checksum, whatever the order. */
export function checksumOfEntries(entries: Record<string, string>): string {
  const sorted = Object.keys(entries)
    .sort()
    .map((k) => [k, entries[k]]);
  return sha256Hex(JSON.stringify(sorted));
}

/**
 * The checksum of a Secret's or ConfigMap's entries, as a plain (non-secret) Output, for a pod-template
 * annotation: a change of the data changes the template, and the pods roll.
 *
 * Why `unsecret`: the checksum of a Secret is not the Secret. All entries are hashed together, and
 * every Secret this is used for holds generated high-entropy material (random passwords, 256-bit
 * keys, tokens), so the digest reveals nothing a brute force could recover. Left secret, it would
 * make the whole pod template secret, and previews could no longer show that, and why, pods roll.
 */
export function checksum(data: pulumi.Input<Record<string, pulumi.Input<string>>>): pulumi.Output<string> {
  return pulumi.unsecret(pulumi.output(data).apply((entries) => checksumOfEntries(entries as Record<string, string>)));
}

/** Pod-template annotations `checksum/<object name>` for the Secrets and ConfigMaps pods read. */
export function checksumAnnotations(checksums: Record<string, pulumi.Input<string>>): Record<string, pulumi.Input<string>> {
  return Object.fromEntries(Object.entries(checksums).map(([name, sum]) => [`${CHECKSUM_ANNOTATION_PREFIX}${name}`, sum]));
}
