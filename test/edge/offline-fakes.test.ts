import { describe, expect, it } from "vitest";
import { computedState } from "../../infra/plan/recorder";

// The offline engine fakes the few provider outputs the edge reads back; these tests pin their shape.
describe("offline fakes the edge relies on", () => {
  it("give a LoadBalancer Service a deterministic documentation address, and other Services none", () => {
    const lb = computedState("kubernetes:core/v1:Service", "traefik-lb", { spec: { type: "LoadBalancer" } }) as any;
    expect(lb.status.loadBalancer.ingress[0].ip).toMatch(/^192\.0\.2\.([1-9]\d?|1\d\d|2[0-4]\d|25[0-4])$/);
    expect(computedState("kubernetes:core/v1:Service", "traefik-lb", { spec: { type: "LoadBalancer" } })).toEqual(lb);
    expect(computedState("kubernetes:core/v1:Service", "metrics", { spec: { type: "ClusterIP" } })).not.toHaveProperty("status");
  });

  it("give a RandomPassword a bcrypt-shaped hash that is not the password itself", () => {
    const state = computedState("random:index/randomPassword:RandomPassword", "routes-basic-auth", { length: 32 }) as any;
    expect(state.bcryptHash).toMatch(/^\$2a\$10\$[A-Za-z0-9]{53}$/);
    expect(state.bcryptHash).not.toContain(state.result);
    expect(computedState("random:index/randomString:RandomString", "s", { length: 8 })).not.toHaveProperty("bcryptHash");
  });

  it("give a Cloudflare API token an obviously fake value", () => {
    const state = computedState("cloudflare:index/apiToken:ApiToken", "dns01-token", { name: "t" }) as any;
    expect(state.value).toMatch(/^fake-cloudflare-token-[0-9a-f]{24}$/);
  });
});
