import * as pulumi from "@pulumi/pulumi";
import { environmentFor } from "../stacks";
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
 * Validates the stack name and the whole configuration, synchronously, and returns the program that
 * builds the environment. A mistake throws here, before any resource exists.
 */
export function prepare(): StackProgram {
  const stack = pulumi.getStack();
  const loaded = loadEnvironment(stack, environmentFor(stack), readStackConfig());
  return async () => {
    const config = new pulumi.Config(PROJECT);
    const secrets: Partial<Record<SecretKey, pulumi.Output<string>>> = {};
    for (const key of loaded.secretKeysPresent) {
      secrets[key] = config.requireSecret(key);
    }
    return new DiaspomoneyEnvironment(loaded, secrets).outputs;
  };
}

/** The stack program, as the Pulumi CLI runs it. */
export const program: StackProgram = () => prepare()();
