/**
 * Every third-party action the workflows may use, pinned by full commit SHA. A tag can be moved by
 * whoever controls the action's repository (tj-actions/changed-files, March 2025); a commit cannot.
 * `test/delivery/workflows.test.ts` fails on any `uses:` that is not in this table at exactly this
 * commit, and on a `# vX.Y.Z` comment that disagrees with `version`.
 *
 * How each SHA was checked (November 2026, no network on the build machines): a code search over public
 * repositories for `<action>@<sha>` found it pinned with the same version comment in several
 * independent workflow files. It was not checked against the upstream tag object itself: when bumping,
 * resolve the tag with `gh api repos/<action>/commits/<tag> --jq .sha` and update this table.
 */
export interface PinnedAction {
  sha: string;
  version: string;
  /** What confirmed the SHA ↔ version pair. */
  source: string;
}

export const pinnedActions: Readonly<Record<string, PinnedAction>> = {
  "actions/checkout": {
    sha: "11bd71901bbe5b1630ceea73d27597364c9af683",
    version: "v4.2.2",
    source: "pinned as `# v4.2.2` in 6 independent public workflows and security guides",
  },
  "actions/setup-node": {
    sha: "49933ea5288caeca8642d1e84afbd3f7d6820020",
    version: "v4.4.0",
    source: "pinned as `# v4.4.0` in 2 public files (one the output of a tag-to-SHA resolver) and as `# v4` in 3 more",
  },
  "actions/github-script": {
    sha: "60a0d83039c74a4aee543508d2ffcb1c3799cdea",
    version: "v7.0.1",
    source: "pinned as `# v7.0.1` in 6 independent public workflows and pin tables",
  },
  "docker/setup-buildx-action": {
    sha: "c47758b77c9736f4b2ef4073d4d51994fabfe349",
    version: "v3.7.1",
    source: "pinned as `# v3.7.1` in 7 public workflows (1 other document labels it v3.8.0)",
  },
  "docker/login-action": {
    sha: "9780b0c442fbb1117ed29e0efdff1e18412f7567",
    version: "v3.3.0",
    source: "pinned as `# v3.3.0` in 6 public workflows (1 other labels it v3.0.0)",
  },
  "docker/build-push-action": {
    sha: "4f58ea79222b3b9dc2c8bbdd6debcef730109a75",
    version: "v6.9.0",
    source: "pinned as `# v6.9.0` in 7 public workflows (3 others label it v6.10.0 or v5.4.0)",
  },
  "pulumi/actions": {
    sha: "8e5e406f4007fca908480587cb9893c07090f58d",
    version: "v7.0.0",
    source:
      "pinned as `# v7.0.0` or `# v7` in 7 public files from at least 5 repositories, one of which read the action's source " +
      "at this commit (1 other labels it v6); " +
      "v7 keeps v6's inputs and moves the runtime to Node 24 (pulumi/actions v6.6.1 was found at one source only)",
  },
};
