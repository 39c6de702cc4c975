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
      const [range, bits] = ipaddr.parseCIDR(cidr);
      if (range.kind() === ip.kind() && ip.match(range, bits)) return true;
    }
  }
  return ip.range() === 'unicast';
}

/** Reads REELSMITH_ALLOW_PRIVATE_NETWORKS: "1"/"true" for all, or a comma list of CIDRs. */
export function networkPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): NetworkPolicy {
  const value = env.REELSMITH_ALLOW_PRIVATE_NETWORKS?.trim();
  if (!value || value === '0' || value === 'false') return {};
  if (value === '1' || value === 'true') return { allowPrivateNetworks: true };
  return { allowPrivateNetworks: value.split(',').map((s) => s.trim()).filter(Boolean) };
}
