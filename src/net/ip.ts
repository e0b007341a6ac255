import ipaddr from 'ipaddr.js';

/** A parsed IPv4 or IPv6 address (ipaddr.js). */
export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr<A> = [A, number];

function v4(cidr: string): Cidr<ipaddr.IPv4> {
  return ipaddr.IPv4.parseCIDR(cidr);
}
function v6(cidr: string): Cidr<ipaddr.IPv6> {
  return ipaddr.IPv6.parseCIDR(cidr);
}

/** IPv4 ranges that are not global unicast (RFC 6890 and friends). */
const BLOCKED_V4_CIDRS = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8', // private
  '100.64.0.0/10', // carrier-grade NAT
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata (169.254.169.254)
  '172.16.0.0/12', // private
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // TEST-NET-1
  '192.88.99.0/24', // 6to4 relay anycast
  '192.168.0.0/16', // private
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // TEST-NET-2
  '203.0.113.0/24', // TEST-NET-3
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and 255.255.255.255 broadcast
];

/** The same ranges as [network, mask] pairs of unsigned 32-bit integers, compared on the address bytes. */
const BLOCKED_V4: readonly [network: number, mask: number][] = BLOCKED_V4_CIDRS.map((cidr) => {
  const [address, bits] = v4(cidr);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return [(toUint32(address.octets) & mask) >>> 0, mask];
});

function toUint32(octets: readonly number[]): number {
  return (((octets[0] ?? 0) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)) >>> 0;
}

const DOTTED_QUAD = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Global unicast IPv6 space; everything outside it is refused unless it embeds an IPv4. */
const GLOBAL_UNICAST_V6 = v6('2000::/3');

/** Parts of 2000::/3 that are not globally reachable unicast. */
const BLOCKED_IN_GLOBAL_V6: readonly Cidr<ipaddr.IPv6>[] = [
  '2001::/23', // IETF protocol assignments, Teredo (2001::/32), ORCHID
  '2001:db8::/32', // documentation
  '3fff::/20', // documentation (RFC 9637)
].map(v6);

/** Prefixes that carry an IPv4 address in known bits: the IPv4 decides. */
const NAT64 = v6('64:ff9b::/96'); // IPv4 in the last 32 bits
const SIX_TO_FOUR = v6('2002::/16'); // IPv4 in bits 16-47

/**
 * Parses an IP address in canonical or usual notation (IPv4 dotted quad, any IPv6 form,
 * with or without brackets). A zone id (`%eth0`, `%25eth0`) is stripped first, so it cannot
 * change the verdict. Returns `undefined` when the text is not an IP address. IPv4 forms that
 * WHATWG URL parsing would normalise (`127.1`, `0x7f.1`, octal) are accepted here only in
 * the four-part decimal form: URLs are parsed by WHATWG first, which turns them into that.
 */
export function parseIp(text: string): IpAddress | undefined {
  let value = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = value.indexOf('%');
  if (zone >= 0) value = value.slice(0, zone);
  // ipaddr.js validates by parsing and catching, and parses IPv4 through several regular
  // expressions: the canonical dotted quad (what WHATWG URLs and DNS answers hold) is read here.
  if (DOTTED_QUAD.test(value)) return parseDottedQuad(value);
  if (value.includes(':') && ipaddr.IPv6.isValid(value)) return ipaddr.IPv6.parse(value);
  return undefined;
}

/** Four decimal octets without leading zeros (an octal-looking `010` is refused, not guessed). */
function parseDottedQuad(value: string): ipaddr.IPv4 | undefined {
  // The caller has matched DOTTED_QUAD: four runs of 1-3 digits separated by dots.
  const octets = [0, 0, 0, 0];
  let part = 0;
  let digits = 0;
  for (let i = 0; i <= value.length; i++) {
    const code = i === value.length ? 46 : value.charCodeAt(i);
    if (code === 46) {
      if ((digits > 1 && value.charCodeAt(i - digits) === 48) || (octets[part] ?? 0) > 255) return undefined;
      part += 1;
      digits = 0;
    } else {
      octets[part] = (octets[part] ?? 0) * 10 + (code - 48);
      digits += 1;
    }
  }
  return new ipaddr.IPv4(octets);
}

function blockedV4(address: ipaddr.IPv4): boolean {
  const value = toUint32(address.octets);
  for (const [network, mask] of BLOCKED_V4) if (((value & mask) >>> 0) === network) return true;
  return false;
}

/** The IPv4 address in bits `fromBit`..`fromBit + 31` of an IPv6 address. */
function embeddedV4(address: ipaddr.IPv6, fromBit: number): ipaddr.IPv4 {
  const bytes = address.toByteArray();
  const start = fromBit / 8;
  return new ipaddr.IPv4(bytes.slice(start, start + 4));
}

function blockedV6(address: ipaddr.IPv6): boolean {
  // ::ffff:0:0/96 (mapped, in either notation), ::/96 (IPv4-compatible, which ipaddr.js calls
  // unicast), ::1, ::, 64:ff9b:1::/48, 100::/64, fc00::/7, fe80::/10, fec0::/10, ff00::/8 all
  // lie outside 2000::/3 and are refused by the last line. NAT64 is the one exception that is
  // decided by the IPv4 address it carries.
  if (address.match(NAT64)) return blockedV4(embeddedV4(address, 96));
  if (address.match(SIX_TO_FOUR)) return blockedV4(embeddedV4(address, 16));
  if (address.match(GLOBAL_UNICAST_V6)) {
    for (const range of BLOCKED_IN_GLOBAL_V6) if (address.match(range)) return true;
    return false;
  }
  return true;
}

/** True for a parsed address that is not global unicast. */
export function isBlockedIp(address: IpAddress): boolean {
  return address.kind() === 'ipv4' ? blockedV4(address as ipaddr.IPv4) : blockedV6(address as ipaddr.IPv6);
}

/**
 * True for every address that is not global unicast: loopback, private, link-local, CGNAT,
 * multicast, reserved, documentation and benchmarking ranges, IPv4-mapped and -compatible
 * IPv6, Teredo, ULA, and NAT64/6to4 addresses whose embedded IPv4 is any of those. Text that
 * is not an IP address is blocked too. Classification is on the address bytes, never on
 * string patterns, and a zone id is stripped first.
 *
 * @example
 * ```ts
 * isBlockedAddress('169.254.169.254'); // true (cloud metadata)
 * isBlockedAddress('::ffff:7f00:1');   // true (127.0.0.1, mapped)
 * isBlockedAddress('8.8.8.8');         // false
 * ```
 */
export function isBlockedAddress(ip: string): boolean {
  const address = parseIp(ip);
  return address === undefined || isBlockedIp(address);
}

/** A compiled list of CIDR ranges (`allowNetworks`). */
export interface NetworkList {
  /** True when `address` lies in one of the ranges. An IPv4-mapped IPv6 address is matched as its IPv4. */
  contains(address: IpAddress): boolean;
  readonly size: number;
}

/**
 * Compiles CIDR strings such as `127.0.0.1/32` or `fd00::/8` (a bare address means a single
 * host).
 *
 * @throws Error naming the entry that is not a CIDR range.
 */
export function compileNetworks(cidrs: readonly string[]): NetworkList {
  const ranges = cidrs.map((cidr): Cidr<IpAddress> => {
    try {
      if (cidr.includes('/')) return ipaddr.parseCIDR(cidr);
      const address = parseIp(cidr);
      if (address !== undefined) return [address, address.kind() === 'ipv4' ? 32 : 128];
    } catch {
      // reported below
    }
    throw new Error(`"${cidr}" is not a CIDR range such as 127.0.0.1/32 or fd00::/8`);
  });
  return {
    size: ranges.length,
    contains(address) {
      const candidates: IpAddress[] = [address];
      if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
        candidates.push((address as ipaddr.IPv6).toIPv4Address());
      }
      for (const candidate of candidates) {
        for (const range of ranges) {
          if (range[0].kind() === candidate.kind() && candidate.match(range)) return true;
        }
      }
      return false;
    },
  };
}
