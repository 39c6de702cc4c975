// What a distributed deployment talks to, run on this machine for `bench:scale`: a fresh
// schema in the local Postgres (127.0.0.1:5432, database `test`, trust auth), an S3 server
// (s3rver, in this process) with one bucket, and a host for the movies' media. Each is
// undone by its stop(). The test suite makes its schemas here too (test/helpers.ts, which
// stops them when the test ends); its S3 server and media host are its own.
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { basename } from 'node:path';
import pg from 'pg';

const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';

export interface Service<T> {
  value: T;
  stop(): Promise<void>;
}

/** A new, empty schema; its URL puts every connection in it and names it after the schema (so they can be found). */
export async function postgresSchema(prefix = 'reelsmith_scale'): Promise<Service<{ url: string; schema: string }>> {
  const schema = `${prefix}_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await asAdmin((client) => client.query(`create schema ${schema}`));
  const options = encodeURIComponent(`-c search_path=${schema}`);
  return {
    value: { url: `${POSTGRES}?application_name=${schema}&options=${options}`, schema },
    stop: () =>
      asAdmin(async (client) => {
        // a process that could not be stopped would hold locks on the schema: its connections go first
        await client.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [
          schema,
        ]);
        await client.query(`drop schema if exists ${schema} cascade`);
      }),
  };
}

/** The server process ids of the connections to `schema` (every node's pool), for their CPU time. */
export function postgresBackends(schema: string): Promise<number[]> {
  return asAdmin(async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      'select pid from pg_stat_activity where application_name = $1',
      [schema],
    );
    return rows.map((row) => row.pid);
  });
}

async function asAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface S3Settings {
  bucket: string;
  /** What reaches the bucket, as the environment gives it to `serve` and `worker`. */
  env: Record<string, string>;
}

/** s3rver on 127.0.0.1 with one empty bucket, its objects in `directory` (removed by stop). */
export async function s3Server(directory: string, bucket = 'reelsmith-scale'): Promise<Service<S3Settings>> {
  const { default: S3rver } = await import('s3rver');
  const s3 = new S3rver({ directory, silent: true, configureBuckets: [{ name: bucket }] });
  await s3.configureBuckets();
  const server = await listen(createServer(s3.callback()));
  // s3rver knows one account and does not check SigV4 signatures
  const env = { S3_ENDPOINT: server.url, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
  return {
    value: { bucket, env },
    stop: async () => {
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Serves `files` at /<their name> on 127.0.0.1, as a tenant's media host does. */
export async function mediaHost(files: string[]): Promise<Service<{ urlOf(file: string): string }>> {
  const byName = new Map(files.map((file) => [`/${basename(file)}`, file]));
  const server = await listen(
    createServer((req, res) => {
      const file = byName.get(req.url ?? '');
      if (!file) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      createReadStream(file).pipe(res);
    }),
  );
  return { value: { urlOf: (file) => `${server.url}/${basename(file)}` }, stop: server.stop };
}

async function listen(server: Server): Promise<{ url: string; stop(): Promise<void> }> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
