import { ConfigError, parseRawValue, PROJECT, render, textProblems, zodProblems, type ConfigProblem, type RawStackConfig } from "../config/load";
import { clusterConfigSchema, clusterSpecSchema, type ClusterConfig, type ClusterSpec, type ClusterSpecInput } from "./schema";

export interface LoadedCluster {
  stack: string;
  spec: ClusterSpec;
  config: ClusterConfig;
}

/** Validates a cluster stack's spec and config together; throws a {@link ConfigError} with every problem. */
export function loadCluster(stack: string, specInput: ClusterSpecInput, raw: RawStackConfig): LoadedCluster {
  const specFile = `stacks/${stack}.ts`;
  const cfgFile = `Pulumi.${stack}.yaml`;
  const problems: ConfigProblem[] = [];
  const specResult = clusterSpecSchema.safeParse(specInput);
  if (!specResult.success) problems.push(...zodProblems(specResult.error, specInput, specFile, ""));
  problems.push(...textProblems(specInput, specFile, ""));
  const plain = Object.fromEntries(Object.entries(raw.values).map(([k, v]) => [k, parseRawValue(v)]));
  for (const k of raw.secret) {
    problems.push({ source: cfgFile, key: `${PROJECT}:${k}`, value: "[secret]", expected: "no secret: a cluster stack takes none (no such key)" });
    delete plain[k];
  }
  problems.push(...textProblems(plain, cfgFile, `${PROJECT}:`));
  const cfgResult = clusterConfigSchema.safeParse(plain);
  if (!cfgResult.success) problems.push(...zodProblems(cfgResult.error, plain, cfgFile, `${PROJECT}:`, raw.secret));
  if (specResult.success && cfgResult.success) {
    const spec = specResult.data;
    const config = cfgResult.data;
    if (spec.name !== stack) problems.push({ source: specFile, key: "name", value: render(spec.name), expected: `the stack name "${stack}"` });
    if (new Set(spec.environments).size !== spec.environments.length) {
      problems.push({ source: specFile, key: "environments", value: render(spec.environments), expected: "each environment once" });
    }
    if (spec.tier === "production") {
      if (!config.kubernetes.apiServerCidrs) {
        problems.push({
          source: cfgFile,
          key: `${PROJECT}:kubernetes.apiServerCidrs`,
          value: "(not set)",
          expected: "the API server's endpoint CIDRs in production (kubectl get endpoints kubernetes -n default): cluster services may call only them",
        });
      }
      if (!spec.protectSharedResources) {
        problems.push({ source: specFile, key: "protectSharedResources", value: "false", expected: "true in production" });
      }
    }
    const a = config.autoscaler;
    if (a.mode === "chart") {
      a.nodeGroups.forEach((g, i) => {
        if (g.maxSize < g.minSize) {
          problems.push({ source: cfgFile, key: `${PROJECT}:autoscaler.nodeGroups[${i}].maxSize`, value: render(g.maxSize), expected: `at least minSize (${g.minSize})` });
        }
      });
      if (config.services === "external") {
        problems.push({ source: cfgFile, key: `${PROJECT}:autoscaler.mode`, value: '"chart"', expected: '"platform" when services is "external" (no chart is installed then)' });
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(stack, problems);
  return { stack, spec: specResult.data!, config: cfgResult.data! };
}
