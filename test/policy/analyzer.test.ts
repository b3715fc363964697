/**
 * The pack as the Pulumi CLI runs it: `policy/index.ts` in its own process, serving the analyzer
 * protocol on a loopback port, driven through Configure / GetAnalyzerInfo / Analyze / AnalyzeStack with
 * the stack's pack config. Its verdict must be the offline audit's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditPlan } from "../../infra/compliance";
import type { Plan } from "../../infra/plan/run";
import { controls } from "../../policy/policies";
import { cachedPlan } from "../harness";
import { deployment, planOf } from "./harness";

const POLICY_DIR = path.resolve(__dirname, "..", "..", "policy");
const LEVEL = { advisory: analyzerPb.EnforcementLevel.ADVISORY, mandatory: analyzerPb.EnforcementLevel.MANDATORY } as const;

let pack: ChildProcess;
let client: any;

function call<T>(method: string, req: unknown): Promise<T> {
  return new Promise((resolve, reject) => client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}

beforeAll(async () => {
  // Its own process group, so that the pack and whatever it starts all stop together.
  pack = spawn(process.execPath, ["--import", "tsx", "index.ts"], { cwd: POLICY_DIR, stdio: ["ignore", "pipe", "inherit"], detached: true });
  // The analyzer prints its port on stdout, as the CLI expects.
  const port = await new Promise<string>((resolve, reject) => {
    pack.stdout!.once("data", (d) => resolve(String(d).trim()));
    pack.once("exit", (code) => reject(new Error(`the policy pack exited with ${code}`)));
  });
  client = new (analyzerGrpc as any).AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(() => {
  client?.close();
  if (pack?.pid) process.kill(-pack.pid, "SIGTERM");
});

async function configure(stack: string): Promise<void> {
  const config = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "config", `${stack}.json`), "utf8"));
  const req = new analyzerPb.ConfigureAnalyzerRequest();
  for (const [name, { enforcementLevel, ...props }] of Object.entries<any>(config)) {
    if (name === "all") continue;
    const c = new analyzerPb.PolicyConfig();
    c.setEnforcementlevel(LEVEL[enforcementLevel as keyof typeof LEVEL]);
    c.setProperties(Struct.fromJavaScript(props));
    req.getPolicyconfigMap().set(name, c);
  }
  await call("configure", req);
}

/** Every diagnostic of the pack on `plan`: per resource (Analyze), then for the stack (AnalyzeStack). */
async function analyze(plan: Plan): Promise<{ policy: string; mandatory: boolean; message: string }[]> {
  const resources = plan.resources.map((r) => {
    const a = new analyzerPb.AnalyzerResource();
    a.setType(r.type);
    a.setUrn(r.urn);
    a.setName(r.name);
    a.setProperties(Struct.fromJavaScript((r.type === "pulumi:pulumi:Stack" ? plan.outputs : r.inputs) as any));
    const o = new analyzerPb.AnalyzerResourceOptions();
    o.setProtect(r.protect);
    if (r.parent) {
      o.setParent(r.parent);
      a.setParent(r.parent);
    }
    a.setOptions(o);
    a.setDependenciesList(r.dependsOn);
    return a;
  });
  const out: { policy: string; mandatory: boolean; message: string }[] = [];
  const collect = (res: any) =>
    res.getDiagnosticsList().forEach((d: any) => out.push({ policy: d.getPolicyname(), mandatory: d.getEnforcementlevel() === LEVEL.mandatory, message: d.getMessage() }));
  for (const a of resources) {
    const req = new analyzerPb.AnalyzeRequest();
    req.setType(a.getType());
    req.setUrn(a.getUrn());
    req.setName(a.getName());
    req.setProperties(a.getProperties());
    req.setOptions(a.getOptions());
    collect(await call("analyze", req));
  }
  const stackReq = new analyzerPb.AnalyzeStackRequest();
  stackReq.setResourcesList(resources);
  collect(await call("analyzeStack", stackReq));
  return out;
}

describe("the policy pack under the analyzer protocol", { timeout: 120_000 }, () => {
  it("describes itself with every control, its severity and framework", async () => {
    const info: any = await call("getAnalyzerInfo", new Empty());
    expect(info.getName()).toBe("diaspomoney-policies");
    expect(info.getPoliciesList().map((p: any) => p.getName())).toEqual(controls.map((c) => c.name));
  });

  it("reports a violating resource with the resource and the requirement, mandatory in prod and advisory in dev", async () => {
    const plan = planOf([deployment("web", (pod) => (pod.containers[0].securityContext.allowPrivilegeEscalation = true))]);
    await configure("prod");
    const prod = (await analyze(plan)).filter((d) => d.policy === "pod-security-restricted");
    expect(prod).toEqual([{ policy: "pod-security-restricted", mandatory: true, message: expect.stringContaining("Deployment diaspomoney-prod/web: spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation is true; allowPrivilegeEscalation must be false [PCI-DSS 2.2.6") }]);
    await configure("dev");
    expect((await analyze(plan)).find((d) => d.policy === "pod-security-restricted")?.mandatory).toBe(false);
  });

  it("finds on a real plan, with broken resources added, exactly what the offline audit finds", async () => {
    const rct = await cachedPlan("rct");
    const broken = planOf([
      deployment("web", (pod) => {
        pod.hostNetwork = true;
        pod.containers[0].image = "ghcr.io/diaspomoney/web:latest";
        pod.containers[0].env.push({ name: "SMTP_PASSWORD", value: "hunter2" });
      }),
    ]);
    const plan: Plan = { ...rct, resources: [...rct.resources, ...broken.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")] };
    await configure("rct");
    const online = (await analyze(plan)).map((d) => `${d.policy}: ${d.message.split("\n").slice(1).join("\n")}`).sort();
    const offline = (await auditPlan(plan)).controls.flatMap((c) => c.violations.map((v) => `${c.name}: ${v.message}`)).sort();
    for (const control of ["pod-security-restricted", "images-pinned", "no-secret-literals"]) expect(offline.some((v) => v.startsWith(`${control}:`)), control).toBe(true);
    expect(online).toEqual(offline);
  });
});
