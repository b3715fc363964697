import * as pulumi from "@pulumi/pulumi";
import { clusterFor, environmentFor, isClusterStack } from "../stacks";
import { PlatformCluster } from "./cluster";
import { ClusterContractError, CONTRACT_OUTPUT, contractProblems, type ClusterContract } from "./cluster/contract";
import { loadCluster } from "./cluster/load";
import { loadEnvironment, PROJECT, type RawStackConfig } from "./config/load";
import type { SecretKey } from "./config/schema";
import { DiaspomoneyEnvironment } from "./environment";

// The public API cannot tell whether a key is stored encrypted, and a plain-text secret in
// Pulumi.<stack>.yaml is a finding in any audit: ask the SDK's (pinned) internals.
import { isConfigSecret } from "./sdk-internals";

/** The project's keys as the runtime received them, without the `diaspomoney-platform:` prefix. */
export function readStackConfig(): RawStackConfig {
  const prefix = `${PROJECT}:`;
  const values: Record<string, string> = {};
  const secret = new Set<string>();
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!key.startsWith(prefix)) continue;
    const short = key.slice(prefix.length);
    values[short] = value;
    if (isConfigSecret(key)) secret.add(short);
  }
  return { values, secret };
}

export type StackProgram = () => Promise<Record<string, unknown>>;

/**
 * Reads the cluster stack's contract and checks it fits environment `env`: the stack exists and is
 * deployed, manages the same cluster, hosts `env`, and serves the CRD releases this program needs.
 * Throws a {@link ClusterContractError} listing every problem; only the reference itself (a read)
 * has been registered then.
 */
export async function readClusterContract(env: string, clusterStack: string, clusterIdentifier: string): Promise<ClusterContract> {
  let contract: unknown;
  try {
    const ref = new pulumi.StackReference("cluster", { name: clusterStack });
    // A failed read rejects every output of the reference, not only the one awaited here: the error
    // is reported once, below, instead of as unhandled rejections.
    for (const o of Object.values(ref)) {
      if (pulumi.Output.isInstance(o)) (o as unknown as { promise(): Promise<unknown> }).promise().catch(() => undefined);
    }
    contract = (await ref.getOutputDetails(CONTRACT_OUTPUT)).value;
  } catch (err) {
    throw new ClusterContractError(env, clusterStack, [
      `the stack cannot be read (${(err as Error).message.split("\n")[0]}): create and deploy it first (pulumi up --stack ${clusterStack})`,
    ]);
  }
  const problems = contractProblems(env, clusterIdentifier, contract);
  if (problems.length > 0) throw new ClusterContractError(env, clusterStack, problems);
  return contract as ClusterContract;
}

/**
 * Validates the stack name and the whole configuration, synchronously, and returns the program that
 * builds the stack: a cluster's shared layer, or an environment on the cluster its config names. A
 * mistake throws here, before any resource exists.
 */
export function prepare(): StackProgram {
  const stack = pulumi.getStack();
  if (isClusterStack(stack)) {
    const loaded = loadCluster(stack, clusterFor(stack), readStackConfig());
    return async () => new PlatformCluster(loaded).outputs;
  }
  const loaded = loadEnvironment(stack, environmentFor(stack), readStackConfig());
  return async () => {
    const k = loaded.config.kubernetes;
    const cluster = await readClusterContract(stack, loaded.config.cluster.stack, k.clusterIdentifier);
    const config = new pulumi.Config(PROJECT);
    const secrets: Partial<Record<SecretKey, pulumi.Output<string>>> = {};
    for (const key of loaded.secretKeysPresent) {
      secrets[key] = config.requireSecret(key);
    }
    return new DiaspomoneyEnvironment(loaded, secrets, cluster).outputs;
  };
}

/** The stack program, as the Pulumi CLI runs it. */
export const program: StackProgram = () => prepare()();
