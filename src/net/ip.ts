import { createRequire } from 'node:module';
import type * as IpaddrModule from 'ipaddr.js';

type Ipaddr = typeof IpaddrModule;
type IPv6 = IpaddrModule.IPv6;
type Cidr<A> = [A, number];

// ipaddr.js is loaded on first need (an IPv6 address, a CIDR list, the name of a refused
// range): importing the package, or checking an IPv4 address, does not pay for it.
let ipaddrModule: Ipaddr | undefined;
function ipaddr(): Ipaddr {
  return (ipaddrModule ??= createRequire(import.meta.url)('ipaddr.js') as Ipaddr);
}

/** Range names of recently refused addresses: the same few (metadata, loopback) come back. */
const rangeNames = new Map<number, string>();

/**
 * An IPv4 address as one unsigned 32-bit integer: what the range checks compare, made without
 * ipaddr.js on the hot path (DNS answers and URL hosts are dotted quads).
 */
export class IPv4Address {
  constructor(readonly value: number) {}
  kind(): 'ipv4' {
    return 'ipv4';
  }
  toString(): string {
    const v = this.value;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  /** The ipaddr.js name of its range (`private`, `loopback`…), for messages. */
  range(): string {
    const v = this.value;
    let name = rangeNames.get(v);
    if (name === undefined) {
      name = new (ipaddr().IPv4)([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]).range();
      if (rangeNames.size >= 256) rangeNames.clear();
      rangeNames.set(v, name);
    }
    return name;
  }
}

/** A parsed IPv4 or IPv6 address. */
export type IpAddress = IPv4Address | IPv6;

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
const BLOCKED_V4: readonly V4Range[] = BLOCKED_V4_CIDRS.map((cidr) => {
  const [address, bits] = cidr.split('/') as [string, string];
  return v4Range((parseDottedQuad(address) as IPv4Address).value, Number(bits));
});

type V4Range = [network: number, mask: number];

function v4Range(value: number, bits: number): V4Range {
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return [(value & mask) >>> 0, mask];
}

function inV4Ranges(value: number, ranges: readonly V4Range[]): boolean {
  for (const [network, mask] of ranges) if (((value & mask) >>> 0) === network) return true;
  return false;
}

function toUint32(octets: readonly number[]): number {
  return (((octets[0] ?? 0) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)) >>> 0;
}

const DOTTED_QUAD = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

interface V6Ranges {
  /** Global unicast IPv6 space; everything outside it is refused unless it embeds an IPv4. */
  globalUnicast: Cidr<IPv6>;
  /** Parts of 2000::/3 that are not globally reachable unicast. */
  blockedInGlobal: readonly Cidr<IPv6>[];
  /** Prefixes that carry an IPv4 address in known bits: the IPv4 decides. */
  nat64: Cidr<IPv6>; // IPv4 in the last 32 bits
  sixToFour: Cidr<IPv6>; // IPv4 in bits 16-47
}

let v6RangesCompiled: V6Ranges | undefined;
function v6Ranges(): V6Ranges {
  if (v6RangesCompiled !== undefined) return v6RangesCompiled;
  const v6 = (cidr: string): Cidr<IPv6> => ipaddr().IPv6.parseCIDR(cidr);
  v6RangesCompiled = {
    globalUnicast: v6('2000::/3'),
    blockedInGlobal: [
      '2001::/23', // IETF protocol assignments, Teredo (2001::/32), ORCHID
      '2001:db8::/32', // documentation
      '3fff::/20', // documentation (RFC 9637)
    ].map(v6),
    nat64: v6('64:ff9b::/96'),
    sixToFour: v6('2002::/16'),
  };
  return v6RangesCompiled;
}

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
  if (value.includes(':')) {
    const { IPv6 } = ipaddr();
    if (IPv6.isValid(value)) return IPv6.parse(value);
  }
  return undefined;
}

/** Four decimal octets without leading zeros (an octal-looking `010` is refused, not guessed). */
export function parseDottedQuad(value: string): IPv4Address | undefined {
  // The caller has matched DOTTED_QUAD (four runs of 1-3 digits separated by dots), or the
  // fast path of checkUrl an equivalent pattern.
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
  return new IPv4Address(toUint32(octets));
}

/** True for an IPv4 address (as an unsigned 32-bit integer) that is not global unicast. */
function isBlockedV4(value: number): boolean {
  return inV4Ranges(value, BLOCKED_V4);
}

/** The IPv4 address in bits `fromBit`..`fromBit + 31` of an IPv6 address. */
function embeddedV4(address: IPv6, fromBit: number): number {
  const bytes = address.toByteArray();
  const start = fromBit / 8;
  return toUint32(bytes.slice(start, start + 4));
}

function blockedV6(address: IPv6): boolean {
  const { nat64, sixToFour, globalUnicast, blockedInGlobal } = v6Ranges();
  // ::ffff:0:0/96 (mapped, in either notation), ::/96 (IPv4-compatible, which ipaddr.js calls
  // unicast), ::1, ::, 64:ff9b:1::/48, 100::/64, fc00::/7, fe80::/10, fec0::/10, ff00::/8 all
  // lie outside 2000::/3 and are refused by the last line. NAT64 is the one exception that is
  // decided by the IPv4 address it carries.
  if (address.match(nat64)) return isBlockedV4(embeddedV4(address, 96));
  if (address.match(sixToFour)) return isBlockedV4(embeddedV4(address, 16));
  if (address.match(globalUnicast)) {
    for (const range of blockedInGlobal) if (address.match(range)) return true;
    return false;
  }
  return true;
}

/** True for a parsed address that is not global unicast. */
export function isBlockedIp(address: IpAddress): boolean {
  return address instanceof IPv4Address ? isBlockedV4(address.value) : blockedV6(address);
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
  const v4: V4Range[] = [];
  const v6: Cidr<IPv6>[] = [];
  for (const cidr of cidrs) {
    let range: Cidr<IpAddress | IpaddrModule.IPv4> | undefined;
    try {
      if (cidr.includes('/')) range = ipaddr().parseCIDR(cidr);
      else {
        const address = parseIp(cidr);
        if (address !== undefined) range = [address, address.kind() === 'ipv4' ? 32 : 128];
      }
    } catch {
      // reported below
    }
    if (range === undefined) throw new Error(`"${cidr}" is not a CIDR range such as 127.0.0.1/32 or fd00::/8`);
    const [address, bits] = range;
    if (address instanceof IPv4Address) v4.push(v4Range(address.value, bits));
    else if (address.kind() === 'ipv4') v4.push(v4Range(toUint32((address as IpaddrModule.IPv4).octets), bits));
    else v6.push(range as Cidr<IPv6>);
  }
  return {
    size: cidrs.length,
    contains(address) {
      if (address instanceof IPv4Address) return inV4Ranges(address.value, v4);
      for (const range of v6) if (address.match(range)) return true;
      if (v4.length > 0 && address.isIPv4MappedAddress()) return inV4Ranges(toUint32(address.toIPv4Address().octets), v4);
      return false;
    },
  };
}
