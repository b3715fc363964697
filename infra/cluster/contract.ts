import { crdVersions, type CrdRelease } from "../crds";

/**
 * What a cluster stack promises the environments it hosts, published as its `contract` output and
 * read by each environment through a StackReference before it registers anything.
 */
export interface ClusterContract {
  /** Bumped when the shape changes; an environment refuses a contract it does not know. */
  schema: 1;
  stack: string;
  clusterIdentifier: string;
  /** Environment stacks the cluster hosts. */
  environments: string[];
  services: "managed" | "external";
  cni: "calico" | "cilium" | "other";
  /** Release of each CRD set the cluster serves. */
  crds: Record<CrdRelease, string>;
  certManager: { namespace: string };
  /** Per environment: the ClusterIssuer of its internal CA, and where the CA's Secret lives. */
  internalCa: Record<string, { issuer: string; caSecret: { namespace: string; name: string } }>;
}

export const CONTRACT_SCHEMA = 1;
/** The cluster stack output an environment reads. */
export const CONTRACT_OUTPUT = "contract";

export class ClusterContractError extends Error {
  constructor(
    readonly stackName: string,
    readonly clusterStack: string,
    readonly problems: string[],
  ) {
    super(
      `Stack "${stackName}" cannot deploy on cluster stack "${clusterStack}" (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was created:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ClusterContractError";
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Every reason `contract` (a cluster stack's output, unknown shape) does not fit environment `env`
 * deployed with `clusterIdentifier`: the stack missing, another cluster, the environment not hosted,
 * CRDs at other releases than this program is written for.
 */
export function contractProblems(env: string, clusterIdentifier: string, contract: unknown, expectedCrds = crdVersions()): string[] {
  if (contract === undefined || contract === null) {
    return [
      `the cluster stack has no "${CONTRACT_OUTPUT}" output: deploy it first (pulumi up --stack <cluster stack>), ` +
        "or set diaspomoney-platform:cluster.stack to the stack of this environment's cluster",
    ];
  }
  if (!isRecord(contract) || contract.schema !== CONTRACT_SCHEMA) {
    return [`its "${CONTRACT_OUTPUT}" output is not a contract of schema ${CONTRACT_SCHEMA}: update the cluster stack first`];
  }
  const c = contract as unknown as ClusterContract;
  const problems: string[] = [];
  if (c.clusterIdentifier !== clusterIdentifier) {
    problems.push(
      `it manages cluster "${c.clusterIdentifier}", but diaspomoney-platform:kubernetes.clusterIdentifier is "${clusterIdentifier}": expected the same cluster`,
    );
  }
  if (!Array.isArray(c.environments) || !c.environments.includes(env)) {
    problems.push(`it does not host environment "${env}" (it hosts ${JSON.stringify(c.environments)}): add "${env}" to its spec's environments and update it first`);
  }
  if (!isRecord(c.internalCa) || !isRecord(c.internalCa[env])) {
    problems.push(`it publishes no internal CA issuer for "${env}"`);
  }
  for (const [release, version] of Object.entries(expectedCrds)) {
    const served = isRecord(c.crds) ? (c.crds as Record<string, unknown>)[release] : undefined;
    if (served !== version) {
      problems.push(
        `CRDs of ${release}: the cluster serves ${served === undefined ? "none" : `"${served}"`}, this program needs "${version}" (infra/versions.ts): update the cluster stack first`,
      );
    }
  }
  return problems;
}
