/**
 * Networks for the tests of infra/net.ts, the config schema and the policy pack: every spelling of
 * "the whole internet", bounded lists that must pass, and texts that are not networks.
 */

/** Cloudflare's published edge ranges (https://www.cloudflare.com/ips/), as the stacks configure them. */
export const CLOUDFLARE = [
  "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18", "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20",
  "197.234.240.0/22", "198.41.128.0/17", "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
  "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32", "2a06:98c0::/29", "2c0f:f248::/32",
];

/** Every spelling of "the whole internet" a reviewer could miss, and the family it covers. */
export const WHOLE_INTERNET: [string[], "IPv4" | "IPv6"][] = [
  [["0.0.0.0/0"], "IPv4"],
  [["1.2.3.4/0"], "IPv4"],
  [["0.0.0.0/00"], "IPv4"],
  [["10.0.0.0/8", "0.0.0.0/1", "128.0.0.0/1"], "IPv4"],
  [["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/3"], "IPv4"],
  [["::ffff:0:0/96"], "IPv4"],
  [["::ffff:0.0.0.0/96"], "IPv4"],
  [["::ffff:0:0/97", "128.0.0.0/1"], "IPv4"],
  [["::/0"], "IPv6"],
  [["0::/0"], "IPv6"],
  [["0:0:0:0:0:0:0:0/0"], "IPv6"],
  [["2001:db8::/0"], "IPv6"],
  [["::/1", "8000::/1"], "IPv6"],
];

/** Lists that leave part of each family out, however large (half the IPv4 space is not all of it). */
export const BOUNDED: string[][] = [CLOUDFLARE, ["10.0.0.0/8"], ["2001:db8::/32"], ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], ["0.0.0.0/1"], ["::ffff:0:0/97"], ["::/1", "0.0.0.0/1"]];

/** Texts that are not networks, and what the reason says (Kubernetes refuses the library's lenient IPv4 forms too). */
export const INVALID: [string, RegExp][] = [
  ["300.1.1.1/8", /four decimal octets/],
  ["1.2.3/24", /four decimal octets/],
  ["010.0.0.0/8", /four decimal octets/],
  ["0x0a.0.0.0/8", /four decimal octets/],
  ["fe80::1%eth0/64", /IPv6 address/],
  ["1::2::3/64", /IPv6 address/],
  ["everything", /four decimal octets/],
  ["", /four decimal octets/],
  ["10.0.0.0/33", /prefix length of 33 is longer than an IPv4 address \(32 bits\)/],
  ["::/129", /prefix length of 129 is longer than an IPv6 address \(128 bits\)/],
  ["10.0.0.0/", /prefix length .* is not a number/],
  ["10.0.0.0/-1", /prefix length .* is not a number/],
  ["10.0.0.0/8/8", /prefix length .* is not a number/],
];
