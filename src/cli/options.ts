// Parsing of numeric command-line options, with the range in the error.
import { InvalidArgumentError } from 'commander';

export const integer = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
  return n;
};
