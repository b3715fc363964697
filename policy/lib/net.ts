import * as ipaddr from "ipaddr.js";

/**
 * Networks parsed and compared as ranges of addresses, never as strings: "the whole internet" has many
 * spellings (`1.2.3.4/0`, `0::/0`, two halves, `::ffff:0:0/96`), and each must be recognised.
 * The one implementation: the program's config checks and components use it too (through
 * `infra/net.ts`), since the pack may import nothing from outside `policy/`. After the shared part,
 * what the controls add: source lists as resources carry them.
 */

export type Family = "IPv4" | "IPv6";

export interface Network {
  /** IPv4-mapped IPv6 networks (`::ffff:a.b.c.d/96+n`) are IPv4, as Kubernetes (Go's `net`) reads them. */
  family: Family;
  prefix: number;
  /** First and last address of the range, as integers. */
  first: bigint;
  last: bigint;
  /** Network address (host bits cleared), dotted decimal or RFC 5952 IPv6, and the prefix: `10.0.0.0/8`. */
  canonical: string;
  /** The address had bits set beyond the prefix (`10.0.0.1/8`). */
  hostBitsSet: boolean;
}

export type Parsed = { ok: true; network: Network } | { ok: false; reason: string };

const BITS: Record<Family, number> = { IPv4: 32, IPv6: 128 };

const toInteger = (bytes: number[]) => bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
const toBytes = (n: bigint, bits: number) => Array.from({ length: bits / 8 }, (_, i) => Number((n >> BigInt(bits - 8 * (i + 1))) & 255n));

/**
 * A network in CIDR notation, or a bare address (a /32 or /128). IPv4 must be four decimal octets:
 * the library's other forms (`10.1`, `0x0a.0.0.0`, `010.0.0.0` read as octal) are refused, as
 * Kubernetes refuses them. Reasons never repeat the text, which the caller shows masked if at all.
 */
export function parseNetwork(text: string): Parsed {
  const [address, prefixText, ...extra] = text.split("/");
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) ip = ipaddr.IPv4.parse(address);
  else if (ipaddr.IPv6.isValid(address) && !address.includes("%")) ip = ipaddr.IPv6.parse(address);
  else return { ok: false, reason: "the address is neither four decimal octets from 0 to 255 nor an IPv6 address" };
  let family: Family = ip.kind() === "ipv4" ? "IPv4" : "IPv6";
  if (extra.length > 0 || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) {
    return { ok: false, reason: "the prefix length after the / is not a number from 0 to 32 (IPv4) or 128 (IPv6)" };
  }
  let prefix = prefixText === undefined ? BITS[family] : Number(prefixText);
  if (prefix > BITS[family]) return { ok: false, reason: `a prefix length of ${prefix} is longer than an ${family} address (${BITS[family]} bits)` };
  if (ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress() && prefix >= 96) {
    [ip, family, prefix] = [ip.toIPv4Address(), "IPv4", prefix - 96];
  }
  const bits = BITS[family];
  const value = toInteger(ip.toByteArray());
  const hostBits = BigInt(bits - prefix);
  const first = (value >> hostBits) << hostBits;
  const base = ipaddr.fromByteArray(toBytes(first, bits));
  const spelled = base instanceof ipaddr.IPv6 ? base.toRFC5952String() : base.toString();
  return {
    ok: true,
    network: { family, prefix, first, last: first + (1n << hostBits) - 1n, canonical: `${spelled}/${prefix}`, hostBitsSet: value !== first },
  };
}

/** The valid networks of a list; entries that do not parse are left out (the caller reports them). */
export function networksOf(texts: readonly string[]): Network[] {
  return texts.map(parseNetwork).flatMap((p) => (p.ok ? [p.network] : []));
}

/**
 * The family whose every address the networks cover together, if any: their union is computed by
 * sorting the ranges and merging them, so two halves or any tiling of the space count.
 */
export function wholeInternetIn(networks: readonly Network[]): Family | undefined {
  return (["IPv4", "IPv6"] as const).find((family) => {
    const ranges = networks.filter((n) => n.family === family).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    let uncovered = 0n;
    for (const r of ranges) {
      if (r.first > uncovered) return false;
      if (r.last >= uncovered) uncovered = r.last + 1n;
    }
    return uncovered === 1n << BigInt(BITS[family]);
  });
}

/** Whether a value, as a resource carries it, is a network (CIDR notation) or one address. */
export function isNetwork(value: unknown): boolean {
  return typeof value === "string" && parseNetwork(value).ok;
}

/**
 * The family whose every address the entries admit together, if any. A bare unspecified address
 * (`0.0.0.0`, `::`) counts as every address: that is what it means to many systems (a bind address).
 */
export function wholeInternetOf(values: readonly unknown[]): Family | undefined {
  const networks = values.flatMap((v) => {
    const parsed = typeof v === "string" ? parseNetwork(v) : undefined;
    if (!parsed?.ok) return [];
    const unspecified = !(v as string).includes("/") && parsed.network.last === 0n;
    return networksOf([unspecified ? `${v}/0` : (v as string)]);
  });
  return wholeInternetIn(networks);
}
