import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileNetworks, isBlockedAddress, parseIp } from './ip.js';

// First and last address of every range that must be refused.
const BLOCKED = [
  ['0.0.0.0', '0.255.255.255'],
  ['10.0.0.0', '10.255.255.255'],
  ['100.64.0.0', '100.127.255.255'],
  ['127.0.0.1', '127.255.255.255'],
  ['169.254.0.0', '169.254.169.254'],
  ['172.16.0.0', '172.31.255.255'],
  ['192.0.0.0', '192.0.0.255'],
  ['192.0.2.0', '192.0.2.255'],
  ['192.88.99.0', '192.88.99.255'],
  ['192.168.0.0', '192.168.255.255'],
  ['198.18.0.0', '198.19.255.255'],
  ['198.51.100.0', '198.51.100.255'],
  ['203.0.113.0', '203.0.113.255'],
  ['224.0.0.0', '239.255.255.255'],
  ['240.0.0.0', '255.255.255.255'],
  ['::', '::1'],
  ['::7f00:1', '::a00:1'], // IPv4-compatible ::/96
  ['::ffff:127.0.0.1', '::ffff:7f00:1'], // mapped, both notations
  ['::ffff:8.8.8.8', '::ffff:0808:0808'], // mapped public: still not global IPv6 unicast
  ['64:ff9b::127.0.0.1', '64:ff9b::a9fe:a9fe'], // NAT64 of loopback and metadata
  ['64:ff9b:1::', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff'], // local-use NAT64
  ['100::', '100::ffff:ffff:ffff:ffff'], // discard
  ['2001::', '2001:0:ffff:ffff:ffff:ffff:ffff:ffff'], // Teredo
  ['2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'], // documentation
  ['2002:7f00:1::', '2002:0a00:0001::1'], // 6to4 of 127.0.0.1 and 10.0.0.1
  ['fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'], // ULA
  ['fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff'], // link-local
  ['fec0::', 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'], // site-local
  ['ff00::', 'ff02::1'], // multicast
];

describe('isBlockedAddress', () => {
  it.each(BLOCKED)('refuses %s and %s', (first, last) => {
    expect(isBlockedAddress(first)).toBe(true);
    expect(isBlockedAddress(last)).toBe(true);
  });

  it('allows global unicast, including the addresses just outside blocked ranges', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '9.255.255.255', '11.0.0.0', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '192.169.0.0', '198.17.255.255', '198.20.0.0', '223.255.255.255']) {
      expect(isBlockedAddress(ip), ip).toBe(false);
    }
    for (const ip of ['2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '64:ff9b::808:808', '2002:808:808::1']) {
      expect(isBlockedAddress(ip), ip).toBe(false);
    }
  });

  it('strips a zone id before deciding, in raw and URL-encoded form', () => {
    expect(isBlockedAddress('fe80::1%eth0')).toBe(true);
    expect(isBlockedAddress('fe80::1%25eth0')).toBe(true);
    expect(isBlockedAddress('2606:4700:4700::1111%eth0')).toBe(false);
  });

  it('treats anything that is not an address as blocked', () => {
    for (const text of ['', 'localhost', 'example.com', '1.2.3', '::ffff:1.2.3.256', '1.2.3.4.5', '[::1', 'fe80::1%', '256.1.1.1', '1.2.3.04', '010.0.0.1']) {
      expect(isBlockedAddress(text), text).toBe(true);
    }
  });

  it('parses every dotted quad to the same address ipaddr.js reads (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(parseIp(ip)?.toString()).toBe(ip);
      }),
    );
  });

  it('classifies every IPv4-mapped address exactly as blocked, whatever its notation (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const hex = parseIp(`::ffff:${ip}`)?.toString() ?? '';
        expect(isBlockedAddress(`::ffff:${ip}`)).toBe(true);
        expect(isBlockedAddress(hex)).toBe(true);
      }),
    );
  });

  it('decides NAT64 addresses by the IPv4 address they carry (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(isBlockedAddress(`64:ff9b::${ip}`)).toBe(isBlockedAddress(ip));
      }),
    );
  });
});

describe('compileNetworks', () => {
  it('matches addresses in the listed ranges only, mapped IPv4 included', () => {
    const networks = compileNetworks(['127.0.0.1/32', 'fd00::/8', '::1']);
    const has = (ip: string): boolean => networks.contains(parseIp(ip) ?? expect.fail(ip));
    expect(has('127.0.0.1')).toBe(true);
    expect(has('::ffff:127.0.0.1')).toBe(true);
    expect(has('127.0.0.2')).toBe(false);
    expect(has('fd12::1')).toBe(true);
    expect(has('::1')).toBe(true);
    expect(has('fe80::1')).toBe(false);
  });

  it('refuses an entry that is not a range', () => {
    expect(() => compileNetworks(['127.0.0.1/33'])).toThrow(/not a CIDR range/);
    expect(() => compileNetworks(['localhost'])).toThrow(/not a CIDR range/);
  });
});
