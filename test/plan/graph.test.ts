import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { renderGraph } from "../../infra/plan/graph";
import { cachedPlan, planProgram, STACKS } from "../harness";
import { sampleProgram } from "./sample";

/** Node id by the first line of its label, and edges as "from label -> to label". */
function read(mmd: string) {
  const labels = new Map<string, string>();
  for (const m of mmd.matchAll(/^\s*(n\d+)\["([^"<]+)/gm)) labels.set(m[1], m[2]);
  const edges = [...mmd.matchAll(/^\s*(n\d+) --> (n\d+)$/gm)].map((m) => {
    expect(labels.has(m[1]) && labels.has(m[2])).toBe(true);
    return `${labels.get(m[1])} -> ${labels.get(m[2])}`;
  });
  const subgraphs = [...mmd.matchAll(/^\s*subgraph \w+\["([^"]+)"\]$/gm)].map((m) => m[1]);
  return { labels: [...labels.values()], edges, subgraphs };
}

/** The labels drawn inside the subgraph titled `title`. */
function inside(mmd: string, title: string): string[] {
  const block = mmd.split(`["${title}"]\n`)[1]?.split("\n  end")[0] ?? "";
  return [...block.matchAll(/n\d+\["([^"<]+)/g)].map((m) => m[1]);
}

describe("the environment graph", () => {
  const sample = planProgram("dev", sampleProgram()).then(renderGraph);

  it("is a Mermaid flowchart with one box per namespace", async () => {
    const mmd = await sample;
    expect(mmd.split("\n").find((l) => !l.startsWith("%%"))).toBe("flowchart LR");
    expect(read(mmd).subgraphs).toEqual(["namespace shop", "namespace shop-infra"]);
  });

  it("draws components where their workloads and custom resources live, and Helm charts in their namespace", async () => {
    const mmd = await sample;
    expect(inside(mmd, "namespace shop")).toEqual(["Edge", "Namespaces", "traefik 41.3.0", "Web"]);
    // The Kafka component owns a Secret in the app namespace, but its node pool is in the infra one.
    expect(inside(mmd, "namespace shop-infra")).toEqual(["Kafka", "strimzi-kafka-operator 1.2.0"]);
    expect(mmd).toContain("Web<br/>web<br/>5 resources");
  });

  it("links a component to what it depends on, without arrows into namespaces", async () => {
    const { edges } = read(await sample);
    expect(edges.sort()).toEqual(["Edge -> Web", "Kafka -> strimzi-kafka-operator 1.2.0", "Web -> Kafka"]);
  });

  it("boxes resources outside the cluster by cloud", async () => {
    const mmd = renderGraph(
      await planProgram("dev", async () => {
        const dns = new pulumi.ComponentResource("diaspomoney:edge:Dns", "dns");
        new cloudflare.DnsRecord("app", { zoneId: "z", name: "app", type: "A", content: "192.0.2.1", ttl: 1 }, { parent: dns });
        return {};
      }),
    );
    expect(inside(mmd, "Cloudflare")).toEqual(["Dns"]);
  });

  it("keeps labels free of characters that would break Mermaid", async () => {
    const mmd = renderGraph(
      await planProgram("dev", async () => {
        const odd = new pulumi.ComponentResource("diaspomoney:test:Odd", 'a "quoted" [name]');
        new cloudflare.DnsRecord("r", { zoneId: "z", name: "x", type: "A", content: "192.0.2.1", ttl: 1 }, { parent: odd });
        return {};
      }),
    );
    expect(mmd).toContain('["Odd<br/>a #quot;quoted#quot;  name<br/>1 resource"]');
  });
});

describe.each(STACKS)("the graph of %s", (stack) => {
  it("shows both namespaces, stays small and refers only to declared nodes", async () => {
    const mmd = renderGraph(await cachedPlan(stack));
    const { labels, subgraphs } = read(mmd);
    expect(subgraphs).toEqual(expect.arrayContaining([`namespace diaspomoney-${stack}`, `namespace diaspomoney-${stack}-infra`]));
    expect(labels.length).toBeGreaterThan(0);
    expect(labels.length).toBeLessThanOrEqual(60);
  });
});
