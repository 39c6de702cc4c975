// Which network addresses untrusted URLs may reach. Only public unicast addresses,
// unless the operator allows private networks (all of them, or listed CIDRs).
import ipaddr from 'ipaddr.js';

export interface NetworkPolicy {
  /** true: any address; a list: these CIDRs as well as public ones. */
  allowPrivateNetworks?: boolean | string[];
}

export function isAddressAllowed(address: string, policy: NetworkPolicy): boolean {
  if (policy.allowPrivateNetworks === true) return true;
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  // ::ffff:127.0.0.1 and friends are judged as the IPv4 address they carry
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  if (Array.isArray(policy.allowPrivateNetworks)) {
    for (const cidr of policy.allowPrivateNetworks) {
      const [range, bits] = parseRange(cidr);
      if (range.kind() === ip.kind() && ip.match(range, bits)) return true;
    }
  }
  // the deprecated IPv4-compatible form (::127.0.0.1) carries an IPv4 address as well
  if (ip.kind() === 'ipv6' && ip.match(ipaddr.parseCIDR('::/96'))) return false;
  return ip.range() === 'unicast';
}

/** A CIDR, or a bare address as a range of one. Throws a readable error for anything else. */
export function parseRange(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  if (text.includes('/')) {
    try {
      return ipaddr.parseCIDR(text);
    } catch {
      throw new Error(`"${text}" is not a CIDR range such as 10.0.0.0/8`);
    }
  }
  if (!ipaddr.isValid(text)) throw new Error(`"${text}" is not an IP address or CIDR range`);
  const ip = ipaddr.parse(text);
  return [ip, ip.kind() === 'ipv4' ? 32 : 128];
}

/** Reads REELSMITH_ALLOW_PRIVATE_NETWORKS: "1"/"true" for all, or a comma list of CIDRs. */
export function networkPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): NetworkPolicy {
  const value = env.REELSMITH_ALLOW_PRIVATE_NETWORKS?.trim();
  if (!value || value === '0' || value === 'false') return {};
  if (value === '1' || value === 'true') return { allowPrivateNetworks: true };
  const ranges = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // checked once here, so a typo stops the start with its name instead of failing a fetch later
  for (const range of ranges) parseRange(range);
  return { allowPrivateNetworks: ranges };
}
