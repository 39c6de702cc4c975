// The one SSRF guard for every outbound request to a URL a client gave us (media
// sources, webhook receivers): a literal address is checked before connecting, a host
// name at connect time for every address it resolves to. Its sockets are contained
// (contained-socket.ts): a throw in the HTTP client's listeners fails that request only.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Agent } from 'undici';
import { isAddressAllowed, type NetworkPolicy } from './address-guard.ts';
import { containedConnector } from './contained-socket.ts';

/**
 * Said with every refusal of a private address: how the operator allows them (the flag of
 * `reelsmith render`/`frame`/`serve`, and the variable networkPolicyFromEnv reads).
 */
const PRIVATE_NETWORK =
  '(private network): allow private networks with --allow-private-networks or REELSMITH_ALLOW_PRIVATE_NETWORKS=1 (or a comma list of CIDRs)';

/** Why a URL may not be requested, or undefined when it may. */
export function urlRefusal(url: URL, policy: NetworkPolicy): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} is not allowed`;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !isAddressAllowed(host, policy)) return `address ${host} is not allowed ${PRIVATE_NETWORK}`;
  return undefined;
}

/** An undici agent whose DNS lookup refuses any name that resolves to a forbidden address. */
export function guardedAgent(policy: NetworkPolicy): Agent {
  return new Agent({
    connect: containedConnector({
      lookup(hostname, options, callback) {
        dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
          if (err) return callback(err, '', 0);
          const list = addresses as LookupAddress[];
          let bad: LookupAddress | undefined;
          try {
            bad = list.find((a) => !isAddressAllowed(a.address, policy));
          } catch (error) {
            return callback(error as Error, '', 0);
          }
          // the address itself stays out of the message: it would tell a tenant what internal names resolve to
          if (bad)
            return callback(
              new Error(`${hostname} resolves to an address that is not allowed ${PRIVATE_NETWORK}`),
              '',
              0,
            );
          if ((options as { all?: boolean }).all)
            return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
          callback(null, list[0].address, list[0].family);
        });
      },
    }),
  });
}
