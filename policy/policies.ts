/**
 * The pack's controls and their configuration per environment. Importable anywhere (tests, the
 * offline audit, the stack's `compliance` output): it constructs no PolicyPack, which only
 * `policy/index.ts` does for the Pulumi CLI.
 */
import type { EnforcementLevel, PolicyPackConfig } from "@pulumi/policy";
import packageJson from "./package.json";
import { dataControls } from "./controls/data";
import { governanceControls } from "./controls/governance";
import { layeringControls } from "./controls/layering";
import { lifecycleControls } from "./controls/lifecycle";
import { networkControls } from "./controls/network";
import { postureControls } from "./controls/posture";
import { secretControls } from "./controls/secrets";
import { transportControls } from "./controls/transport";
import { workloadControls } from "./controls/workloads";
import type { Control, PackSettings } from "./lib/control";

export const PACK_NAME: string = packageJson.name;
export const PACK_VERSION: string = packageJson.version;

export const controls: Control[] = [
  ...workloadControls,
  ...networkControls,
  ...transportControls,
  ...dataControls,
  ...secretControls,
  ...governanceControls,
  ...layeringControls,
  ...postureControls,
  ...lifecycleControls,
];

export type Tier = "development" | "acceptance" | "production";

/** What the pack needs to know of an environment: its tier and the features it must carry. */
export interface EnvironmentProfile {
  tier: Tier;
  features: { atlas: boolean; waf: boolean; manageZone: boolean };
  /** A cluster stack rather than an environment. */
  clusterLayer?: boolean;
}

/** Acceptance holds the same bar as production (it is where releases are proven); dev only advises. */
export function enforcementFor(tier: Tier): EnforcementLevel {
  return tier === "development" ? "advisory" : "mandatory";
}

export function settingsFor(env: EnvironmentProfile): PackSettings {
  return { production: env.tier === "production", managesZone: env.features.manageZone, atlas: env.features.atlas, waf: env.features.waf, clusterLayer: env.clusterLayer === true };
}

/**
 * The pack config of an environment, as `pulumi preview --policy-pack-config` reads it: every control
 * listed with its enforcement level and the settings it reads. `policy/config/<stack>.json` holds this
 * for each stack (a test keeps the files equal to it).
 */
export function packConfigFor(env: EnvironmentProfile): PolicyPackConfig {
  const enforcementLevel = enforcementFor(env.tier);
  const settings = settingsFor(env);
  const config: PolicyPackConfig = { all: { enforcementLevel } };
  for (const c of controls) {
    config[c.name] = { enforcementLevel, ...Object.fromEntries(c.settings.map((k) => [k, settings[k]])) };
  }
  return config;
}
