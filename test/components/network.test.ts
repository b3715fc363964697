import { describe, expect, it } from "vitest";
import { apiServerEgress, NON_PUBLIC_IPV4, PUBLIC_INTERNET } from "../../components/network";

describe("shared NetworkPolicy blocks", () => {
  it("reach the API server on its known addresses, or on any address when they are unknown", () => {
    expect(apiServerEgress({ cidrs: ["10.0.0.1/32"], ports: [6443] })).toEqual({ to: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ protocol: "TCP", port: 6443 }] });
    expect(apiServerEgress(undefined)).toEqual({
      to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
      ports: [
        { protocol: "TCP", port: 443 },
        { protocol: "TCP", port: 6443 },
      ],
    });
  });

  it("define the internet without the cluster's networks or the cloud metadata service", () => {
    expect(NON_PUBLIC_IPV4).toEqual(expect.arrayContaining(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]));
    expect(PUBLIC_INTERNET.map((p: any) => p.ipBlock.cidr)).toEqual(["0.0.0.0/0", "::/0"]);
    expect((PUBLIC_INTERNET[1] as any).ipBlock.except).toEqual(expect.arrayContaining(["fc00::/7", "fe80::/10"]));
  });
});
