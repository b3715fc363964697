import { environments } from "../../stacks";

/**
 * Where each branch deploys: the single statement of the branch → stack mapping. The workflows under
 * `.github/workflows/` spell it out in YAML (reviewers read the workflow, not this file);
 * `test/delivery/workflows.test.ts` proves both say the same thing.
 */
export interface DeployTarget {
  /** Git branch whose pushes deploy the stack. */
  branch: string;
  /** Pulumi stack (and `stacks/<stack>.ts`). */
  stack: string;
  /** GitHub environment of the deploy job: holds that stack's credentials and its protection rules. */
  environment: string;
  /**
   * GitHub environment of pull-request previews: the pull request's own code runs with its credentials,
   * so prod's has required reviewers too (docs/delivery.md).
   */
  previewEnvironment: string;
  /** GitHub environment of the scheduled drift check: restricted to the default branch, no reviewers. */
  driftEnvironment: string;
  /** Public URL of the app, where the smoke test runs after a deploy. */
  url: string;
}

const branchToStack = { develop: "dev", rct: "rct", main: "prod" } as const;

export const deployTargets: readonly DeployTarget[] = Object.entries(branchToStack).map(([branch, stack]) => ({
  branch,
  stack,
  environment: stack,
  previewEnvironment: `${stack}-preview`,
  driftEnvironment: `${stack}-drift`,
  url: `https://${environments[stack].hosts.app}`,
}));

/**
 * Stacks no branch deploys: `local` runs on a developer's own cluster and is brought up by hand
 * (README.md, "The local stack"). Every other stack of `stacks/` has exactly one deploy target.
 */
export const handDeployedStacks: readonly string[] = ["local"];

export function targetForBranch(branch: string): DeployTarget | undefined {
  return deployTargets.find((t) => t.branch === branch);
}

export function targetForStack(stack: string): DeployTarget | undefined {
  return deployTargets.find((t) => t.stack === stack);
}

/** Pulumi Cloud organisation owning the stacks: stack references are `<organisation>/<stack>`. */
export const PULUMI_ORGANIZATION = "diaspomoney";

/**
 * The Pulumi CLI the workflows install: the same release as the `@pulumi/pulumi` SDK in package.json
 * (both are released together), so CI runs the engine the offline plan was proven with.
 */
export const PULUMI_CLI_VERSION = "3.248.0";

/** Name of the app's package in the GitHub container registry. */
export const IMAGE_NAME = "diaspomoney-web";

/** `ghcr.io/<owner>/diaspomoney-web`: GHCR refuses upper-case repository names, GitHub owners may have them. */
export function imageRepository(owner: string): string {
  return `ghcr.io/${owner.toLowerCase()}/${IMAGE_NAME}`;
}

/**
 * Stack tag where each deploy records the image it rolled out. `Pulumi.<stack>.yaml` only holds the
 * bootstrap image; previews and drift checks put the recorded one back so that the image of the last
 * deploy does not show up as a pending change.
 */
export const DEPLOYED_IMAGE_TAG = "deployed-image";

/**
 * What a deploy or a rollback accepts: an image of our repository pinned by digest (prod's config
 * refuses anything else). POSIX ERE and JavaScript read it alike: the workflows test it with bash `=~`.
 */
export const DEPLOYABLE_IMAGE_PATTERN = `^ghcr\\.io/[a-z0-9][a-z0-9._-]*/${IMAGE_NAME}@sha256:[a-f0-9]{64}$`;

export function isDeployableImage(ref: string): boolean {
  return new RegExp(DEPLOYABLE_IMAGE_PATTERN).test(ref);
}
