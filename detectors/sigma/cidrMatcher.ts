/** The `cidr` modifier: IPv4 and IPv6 networks, matched with Node's built-in net.BlockList. */
import { BlockList, isIP } from 'node:net';
import type { StringTest } from './wildcardMatcher.js';

/** Compiles CIDR values (`10.0.0.0/8`, `fd00::/8`, or a plain address) to one test; throws on an invalid value. */
export function compileCidr(values: readonly string[]): StringTest {
  const networks = new BlockList();
  for (const value of values) {
    const [address = '', prefixText, extra] = value.trim().split('/');
    const family = isIP(address);
    const maxPrefix = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? maxPrefix : /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (family === 0 || extra !== undefined || !(prefix >= 0 && prefix <= maxPrefix)) throw new Error(`'${value}' is not an IPv4 or IPv6 CIDR network`);
    networks.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return (candidate) => {
    const family = isIP(candidate);
    return family !== 0 && networks.check(candidate, family === 4 ? 'ipv4' : 'ipv6');
  };
}
