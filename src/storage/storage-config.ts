// Where outputs and scene chunks are kept, resolved once at the edge from settings named as
// environment variables (the CLI lays its flags over the environment): no storage URL is the
// data folder on local disk, `s3://bucket/prefix` a bucket reached with the S3_* settings.
import { isStorageKey, STORAGE_KEY_RULE } from './storage.ts';
import { StorageConfigError } from './storage-errors.ts';

/** Every setting the storage reads, by its environment name. */
export const STORAGE_SETTINGS = [
  'STORAGE_URL',
  'S3_ENDPOINT',
  'S3_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'S3_FORCE_PATH_STYLE',
] as const;

export type StorageSettings = Readonly<Partial<Record<string, string>>>;

/** The region signed for when S3_REGION is not set (S3-compatible servers mostly accept any). */
export const DEFAULT_S3_REGION = 'us-east-1';

export interface S3Location {
  readonly bucket: string;
  /** "" (the whole bucket) or a path ending in "/". */
  readonly prefix: string;
}

export interface S3Config extends S3Location {
  readonly kind: 's3';
  /** An S3-compatible server's base URL; undefined is AWS itself. */
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly forcePathStyle: boolean;
  readonly credentials: Readonly<{ accessKeyId: string; secretAccessKey: string }>;
}

export type StorageConfig = Readonly<{ kind: 'local' }> | S3Config;

const EXPECTED = 'expected s3://bucket/prefix';
const CREDENTIALS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

/** `s3://bucket/prefix` as a bucket and a prefix ("" or ending in "/"). */
export function parseStorageUrl(url: string): S3Location {
  const shown = `--storage (STORAGE_URL) "${url}"`;
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(?:\/(.*))?$/i.exec(url);
  if (!match) throw new StorageConfigError(`${shown} is not a storage URL: ${EXPECTED}`);
  const [, scheme, bucket, path = ''] = match;
  if (scheme.toLowerCase() !== 's3') throw new StorageConfigError(`${shown}: unknown scheme "${scheme}", ${EXPECTED}`);
  if (bucket === '') throw new StorageConfigError(`${shown} names no bucket: ${EXPECTED}`);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new StorageConfigError(
      `${shown}: "${bucket}" is not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens)`,
    );
  const dirs = path.replace(/\/$/, '');
  if (dirs !== '' && !isStorageKey(dirs))
    throw new StorageConfigError(`${shown}: the prefix "${path}" is not a plain path (${STORAGE_KEY_RULE})`);
  return { bucket, prefix: dirs === '' ? '' : `${dirs}/` };
}

/** The storage to use, from settings such as `process.env`; throws a StorageConfigError naming what is wrong. */
export function resolveStorageConfig(settings: StorageSettings): StorageConfig {
  const url = setting(settings, 'STORAGE_URL');
  if (url === undefined) return Object.freeze({ kind: 'local' as const });
  const { bucket, prefix } = parseStorageUrl(url);
  const missing = CREDENTIALS.filter((name) => setting(settings, name) === undefined);
  if (missing.length > 0)
    throw new StorageConfigError(`--storage ${url} needs ${missing.join(' and ')} (the bucket's credentials)`);
  const endpoint = endpointOf(setting(settings, 'S3_ENDPOINT'));
  return Object.freeze({
    kind: 's3' as const,
    bucket,
    prefix,
    endpoint,
    region: setting(settings, 'S3_REGION') ?? DEFAULT_S3_REGION,
    // a server of one's own is mostly one host with no per-bucket DNS names; AWS prefers virtual hosts
    forcePathStyle: flag(settings, 'S3_FORCE_PATH_STYLE') ?? endpoint !== undefined,
    credentials: Object.freeze({
      accessKeyId: setting(settings, 'AWS_ACCESS_KEY_ID')!,
      secretAccessKey: setting(settings, 'AWS_SECRET_ACCESS_KEY')!,
    }),
  });
}

/** A setting's value; empty counts as not set. */
function setting(settings: StorageSettings, name: (typeof STORAGE_SETTINGS)[number]): string | undefined {
  const value = settings[name]?.trim();
  return value === '' ? undefined : value;
}

function endpointOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash)
    throw new StorageConfigError(`S3_ENDPOINT "${value}" is not an http(s) URL such as http://127.0.0.1:9000`);
  return value.replace(/\/+$/, '');
}

function flag(settings: StorageSettings, name: 'S3_FORCE_PATH_STYLE'): boolean | undefined {
  const value = setting(settings, name)?.toLowerCase();
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new StorageConfigError(`${name} "${settings[name]}": expected true or false`);
}
