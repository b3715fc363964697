import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadCluster } from "../infra/cluster/load";
import { ConfigError, loadEnvironment } from "../infra/config/load";
import * as program from "../infra/net";
import * as pack from "../policy/lib/net";
import { clusters, environments } from "../stacks";
import { configObject, loaderInput } from "./harness";
import { BOUNDED, CLOUDFLARE, INVALID, WHOLE_INTERNET } from "./networks";

const dotted = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join(".");

describe.each([
  ["infra/net.ts", program],
  ["policy/lib/net.ts", pack],
] as const)("networks as ranges (%s)", (_, net) => {
  const whole = (list: string[]) => net.wholeInternetIn(net.networksOf(list));

  it.each(WHOLE_INTERNET)("recognises %j as every address of %s", (list, family) => {
    expect(whole(list)).toBe(family);
  });

  it.each(BOUNDED.map((list) => [list]))("finds %j bounded", (list) => {
    expect(whole(list)).toBeUndefined();
  });

  it.each(INVALID)("refuses %j, saying why without repeating it", (text, reason) => {
    const parsed = net.parseNetwork(text);
    expect(parsed).toEqual({ ok: false, reason: expect.stringMatching(reason) });
    if (text.length > 3 && !parsed.ok) expect(parsed.reason).not.toContain(text);
  });

  it("names the canonical network of every other spelling, and flags bits set beyond the prefix", () => {
    const canonical = (text: string) => {
      const parsed = net.parseNetwork(text);
      return parsed.ok ? [parsed.network.canonical, parsed.network.hostBitsSet] : parsed.reason;
    };
    expect(canonical("10.0.0.1/8")).toEqual(["10.0.0.0/8", true]);
    expect(canonical("1.2.3.4/0")).toEqual(["0.0.0.0/0", true]);
    expect(canonical("203.0.113.7")).toEqual(["203.0.113.7/32", false]);
    expect(canonical("2001:DB8:0:0::/32")).toEqual(["2001:db8::/32", false]);
    expect(canonical("2001:db8::1/32")).toEqual(["2001:db8::/32", true]);
    expect(canonical("::1")).toEqual(["::1/128", false]);
    expect(canonical("::ffff:10.0.0.0/104")).toEqual(["10.0.0.0/8", false]);
    expect(canonical("10.0.0.0/8")).toEqual(["10.0.0.0/8", false]);
  });

  it("recognises any tiling of the IPv4 space, in any spelling, and nothing less (property)", () => {
    const piece = fc.record({ spelling: fc.constantFrom("canonical", "host bits", "IPv4-mapped"), noise: fc.nat() });
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), fc.array(piece, { minLength: 41, maxLength: 41 }), fc.nat(), (splits, spellings, drop) => {
        // Split random pieces of 0.0.0.0/0 in halves: the pieces always tile the whole space.
        let pieces: [number, number][] = [[0, 0]];
        for (const k of splits) {
          const [first, prefix] = pieces[k % pieces.length];
          if (prefix === 32) continue;
          pieces = [...pieces.filter((p) => p[0] !== first || p[1] !== prefix), [first, prefix + 1], [first + 2 ** (31 - prefix), prefix + 1]];
        }
        const texts = pieces.map(([first, prefix], i) => {
          const { spelling, noise } = spellings[i];
          if (spelling === "IPv4-mapped") return `::ffff:${dotted(first)}/${prefix + 96}`;
          const host = spelling === "host bits" && prefix < 32 ? noise % 2 ** (32 - prefix) : 0;
          return `${dotted(first + host)}/${prefix}`;
        });
        expect(whole(texts)).toBe("IPv4");
        expect(whole(texts.filter((_, i) => i !== drop % texts.length))).toBeUndefined();
      }),
    );
  });

  it("reads every IPv6 network back from its canonical spelling (property)", () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 128 }), (address, prefix) => {
        const parsed = net.parseNetwork(`${address}/${prefix}`);
        if (!parsed.ok) return false;
        const again = net.parseNetwork(parsed.network.canonical);
        expect(again).toEqual({ ok: true, network: { ...parsed.network, hostBitsSet: false } });
      }),
    );
  });
});

describe("the pack's networks", () => {
  it("are the program's: one implementation, so the plan and the audit read networks alike", () => {
    expect(program.parseNetwork).toBe(pack.parseNetwork);
    expect(program.networksOf).toBe(pack.networksOf);
    expect(program.wholeInternetIn).toBe(pack.wholeInternetIn);
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV4Extended(), fc.ipV6(), fc.string()), fc.option(fc.integer({ min: -1, max: 130 })), (address, prefix) => {
        const text = prefix === null ? address : `${address}/${prefix}`;
        expect(pack.parseNetwork(text)).toEqual(program.parseNetwork(text));
      }),
    );
  });

  it("also treats a bare unspecified address (0.0.0.0, ::) as every address, and knows what is not a network", () => {
    expect(pack.wholeInternetOf(["0.0.0.0"])).toBe("IPv4");
    expect(pack.wholeInternetOf(["::"])).toBe("IPv6");
    expect(pack.wholeInternetOf(["0.0.0.0/32", "203.0.113.7", undefined, 42])).toBeUndefined();
    expect([undefined, 42, "sg-0123", "10.0.0.0/8", "203.0.113.7"].map(pack.isNetwork)).toEqual([false, false, false, true, true]);
  });
});

describe("networks in the configuration", () => {
  /** The fields that must stay bounded, each set to `list` in the checked-in config of a stack that has it. */
  const FIELDS: Record<string, (list: string[]) => () => unknown> = {
    "atlas.accessList": (accessList) => () => loadEnvironment("prod", environments.prod, loaderInput("prod", { atlas: { ...configObject("prod", "atlas"), accessList } })),
    "cloudflare.ipRanges": (ipRanges) => () => loadEnvironment("prod", environments.prod, loaderInput("prod", { cloudflare: { ...configObject("prod", "cloudflare"), ipRanges } })),
    "kubernetes.apiServerCidrs": (apiServerCidrs) => () => loadEnvironment("prod", environments.prod, loaderInput("prod", { kubernetes: { ...configObject("prod", "kubernetes"), apiServerCidrs } })),
    "ingress.allowedSourceRanges": (allowedSourceRanges) => () => loadEnvironment("local", environments.local, loaderInput("local", { ingress: { allowedSourceRanges } })),
  };
  const problems = (load: () => unknown): string[] => {
    try {
      load();
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.map((p) => `${p.key} = ${p.value}: ${p.expected}`);
      throw err;
    }
    return [];
  };

  it.each(WHOLE_INTERNET)("refuses %j (every %s address) in every field that must be bounded", (list, family) => {
    for (const [field, load] of Object.entries(FIELDS)) {
      expect(problems(load(list)).join("\n")).toMatch(new RegExp(`^diaspomoney-platform:${field.replace(".", "\\.")}(\\[\\d+\\])? = .*never the whole internet \\((this network covers|these networks together cover) every ${family} address\\)$`, "m"));
    }
  });

  it("accepts bounded lists in every such field: Cloudflare's ranges, 10.0.0.0/8, 2001:db8::/32", () => {
    for (const load of Object.values(FIELDS)) for (const list of [CLOUDFLARE, ["10.0.0.0/8"], ["2001:db8::/32", "198.51.100.0/28"]]) expect(problems(load(list))).toEqual([]);
  });

  it("refuses what is not a network, and names the canonical network of any other spelling", () => {
    expect(problems(FIELDS["cloudflare.ipRanges"](["300.1.1.1/8", "10.0.0.1/8", "2001:DB8::/32", "203.0.113.7", "10.0.0.0/33"]))).toEqual([
      'diaspomoney-platform:cloudflare.ipRanges[0] = "300.1.1.1/8": an IPv4 or IPv6 network in CIDR notation such as 203.0.113.0/24 (the address is neither four decimal octets from 0 to 255 nor an IPv6 address)',
      'diaspomoney-platform:cloudflare.ipRanges[1] = "10.0.0.1/8": the network 10.0.0.0/8: the address has bits set beyond the /8 prefix',
      'diaspomoney-platform:cloudflare.ipRanges[2] = "2001:DB8::/32": the same network spelt canonically, 2001:db8::/32',
      'diaspomoney-platform:cloudflare.ipRanges[3] = "203.0.113.7": the same network spelt canonically, 203.0.113.7/32',
      'diaspomoney-platform:cloudflare.ipRanges[4] = "10.0.0.0/33": an IPv4 or IPv6 network in CIDR notation such as 203.0.113.0/24 (a prefix length of 33 is longer than an IPv4 address (32 bits))',
    ]);
  });

  it("refuses the whole internet as a cluster stack's API server addresses too", () => {
    const kubernetes = { ...configObject("cluster-prod", "kubernetes"), apiServerCidrs: ["0.0.0.0/1", "128.0.0.0/1"] };
    expect(problems(() => loadCluster("cluster-prod", clusters["cluster-prod"], loaderInput("cluster-prod", { kubernetes })))).toEqual([
      'diaspomoney-platform:kubernetes.apiServerCidrs = ["0.0.0.0/1","128.0.0.0/1"]: the API server\'s endpoint addresses, never the whole internet (these networks together cover every IPv4 address)',
    ]);
  });
});
