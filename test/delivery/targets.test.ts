import { describe, expect, it } from "vitest";
import { environments } from "../../stacks";
import {
  deployTargets,
  handDeployedStacks,
  imageRepository,
  isDeployableImage,
  PULUMI_CLI_VERSION,
  targetForBranch,
  targetForStack,
} from "../../infra/delivery/targets";
import pkg from "../../package.json";

const digest = "sha256:" + "0123456789abcdef".repeat(4);

describe("branch → stack mapping", () => {
  it("deploys develop to dev, rct to rct and main to prod", () => {
    expect(deployTargets.map((t) => [t.branch, t.stack])).toEqual([
      ["develop", "dev"],
      ["rct", "rct"],
      ["main", "prod"],
    ]);
    expect(targetForBranch("develop")?.stack).toBe("dev");
    expect(targetForBranch("rct")?.stack).toBe("rct");
    expect(targetForBranch("main")?.stack).toBe("prod");
  });

  it("deploys nothing from any other branch", () => {
    for (const branch of ["feature/x", "master", "prod", "dev", "Main", ""]) expect(targetForBranch(branch)).toBeUndefined();
  });

  it("covers every stack of stacks/ exactly once, except those deployed by hand", () => {
    const deployed = deployTargets.map((t) => t.stack);
    expect(handDeployedStacks.filter((s) => deployed.includes(s))).toEqual([]);
    expect([...deployed, ...handDeployedStacks].sort()).toEqual(Object.keys(environments).sort());
    expect(new Set(deployTargets.map((t) => t.branch)).size).toBe(deployTargets.length);
  });

  it("names each GitHub environment after its stack, and smoke-tests the stack's app host", () => {
    expect(targetForStack("prod")).toEqual({
      branch: "main",
      stack: "prod",
      environment: "prod",
      previewEnvironment: "prod-preview",
      driftEnvironment: "prod-drift",
      url: "https://app.diaspomoney.fr",
    });
    for (const t of deployTargets) expect(t.url).toBe(`https://${environments[t.stack].hosts.app}`);
    expect(targetForStack("staging")).toBeUndefined();
  });
});

describe("images", () => {
  it("lower-cases the owner for GHCR", () => {
    expect(imageRepository("DiaspoMoney")).toBe("ghcr.io/diaspomoney/diaspomoney-web");
  });

  it("deploys only our image pinned by digest", () => {
    expect(isDeployableImage(`ghcr.io/diaspomoney/diaspomoney-web@${digest}`)).toBe(true);
    for (const ref of [
      "ghcr.io/diaspomoney/diaspomoney-web:1.0.0",
      `ghcr.io/diaspomoney/diaspomoney-web:1.0.0@${digest}`,
      `ghcr.io/diaspomoney/other@${digest}`,
      `docker.io/diaspomoney/diaspomoney-web@${digest}`,
      `ghcrxio/diaspomoney/diaspomoney-web@${digest}`,
      `ghcr.io/DiaspoMoney/diaspomoney-web@${digest}`,
      `ghcr.io/diaspomoney/diaspomoney-web@sha256:${"0".repeat(63)}`,
      `ghcr.io/diaspomoney/diaspomoney-web@${digest}\n`,
    ]) {
      expect(isDeployableImage(ref), ref).toBe(false);
    }
  });
});

it("installs the Pulumi CLI of the same release as the SDK the offline plan runs", () => {
  expect(PULUMI_CLI_VERSION).toBe(pkg.dependencies["@pulumi/pulumi"]);
});
