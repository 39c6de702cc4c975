// Parsing command-line options (and the environment variables that stand in for them),
// with what was wrong in the error.
import { InvalidArgumentError } from 'commander';
import { CliError } from './cli-error.ts';
import type { NetworkPolicy } from '../media/index.ts';

export const integer = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
  return n;
};

/** The networks URLs may reach: all with --allow-private-networks, else what REELSMITH_ALLOW_PRIVATE_NETWORKS says. */
export async function networkPolicy(opts: { allowPrivateNetworks?: boolean }): Promise<NetworkPolicy> {
  if (opts.allowPrivateNetworks) return { allowPrivateNetworks: true };
  const { networkPolicyFromEnv } = await import('../media/index.ts');
  try {
    return networkPolicyFromEnv();
  } catch (err) {
    throw new CliError(`REELSMITH_ALLOW_PRIVATE_NETWORKS: ${(err as Error).message}`);
  }
}
