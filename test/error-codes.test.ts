// One catalogue of error codes (src/jobs/errors.ts): the README's two tables say what it
// says (each answer's code and HTTP status, each failure code), the API answers each code at
// its status, and every error a run can throw maps to one of its failure codes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiError } from '../src/api/errors.ts';
import { ANSWERS, FAILURES } from '../src/jobs/errors.ts';
import { isDatabaseUnavailable } from '../src/jobs/database.ts';
import { failureOf } from '../src/jobs/job-failure.ts';
import { StorageError, StorageUnavailableError } from '../src/storage/index.ts';
import {
  BinaryUnavailableError,
  FfmpegTimeoutError,
  LayerSourceError,
  SourceTooLarge,
  WorkBudgetError,
} from '../src/render/index.ts';

const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');

/** The rows of the first Markdown table after `heading`, as cells. */
function tableAfter(heading: string): string[][] {
  const start = readme.indexOf(heading);
  assert.ok(start >= 0, `the README has "${heading}"`);
  const lines = readme.slice(start).split('\n').slice(1);
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows = lines.slice(first, first + lines.slice(first).findIndex((line) => !line.startsWith('|')));
  return rows.slice(2).map((row) =>
    row
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim()),
  );
}
const code = (cell: string) => /^`([A-Z_]+)`$/.exec(cell)?.[1] ?? assert.fail(`not a code: ${cell}`);

test("the README's error table lists every answer of the catalogue, each at its status, and nothing else", () => {
  const documented = tableAfter('**Errors** all have the shape').map(([status, cell]) => [code(cell), Number(status)]);
  const catalogue = Object.entries(ANSWERS).map(([c, { status }]) => [c, status]);
  const sorted = (rows: Array<Array<string | number>>) =>
    rows.toSorted((a, b) => String(a[0]).localeCompare(String(b[0])));
  assert.deepEqual(sorted(documented), sorted(catalogue));
  assert.equal(new Set(documented.map(([c]) => c)).size, documented.length, 'each code once');
});

test("the README's failed-job table lists every failure code of the catalogue, and nothing else", () => {
  const documented = tableAfter("A failed job's `error.code` is one of").map(([cell]) => code(cell));
  assert.deepEqual(documented.toSorted(), Object.keys(FAILURES).toSorted());
});

test('ApiError answers each code at its catalogue status; a framework 4xx keeps its own as BAD_REQUEST', () => {
  for (const [c, { status }] of Object.entries(ANSWERS))
    assert.equal(new ApiError(c as keyof typeof ANSWERS, 'm').statusCode, status, c);
  assert.equal(new ApiError('BAD_REQUEST', 'm', undefined, 405).statusCode, 405);
});

test('failureOf: every error a run throws maps to a failure code of the catalogue', () => {
  const enospc = Object.assign(new Error('write failed'), { code: 'ENOSPC' });
  const cases: Array<[unknown, string]> = [
    [new LayerSourceError(0, 1, 'pic', 'https://x/p.png', 'HTTP 404'), 'SOURCE_UNAVAILABLE'],
    [new FfmpegTimeoutError('scene "a" stalled for 60 s', 'stalled', 60), 'RENDER_TIMEOUT'],
    [enospc, 'INSUFFICIENT_STORAGE'],
    // a full disk is told as such even where a source reader met it
    [new LayerSourceError(0, 1, 'pic', 'https://x/p.png', 'No space left on device'), 'INSUFFICIENT_STORAGE'],
    [new Error('wrapped', { cause: enospc }), 'INSUFFICIENT_STORAGE'],
    [
      new BinaryUnavailableError('ffmpeg', '/opt/ours/ffmpeg', 'ENOENT', 'cannot run /opt/ours/ffmpeg'),
      'RENDER_FAILED',
    ],
    [new Error('scene "a": ffmpeg said no'), 'RENDER_FAILED'],
    [new StorageUnavailableError('s3 put: refused', 's3://b/p/ at http://s3', 4, undefined), 'STORAGE_UNAVAILABLE'],
    [new StorageError('s3 put: 403 AccessDenied', 's3://b/p/ at http://s3', undefined), 'RENDER_FAILED'],
    // a source whose reader reached its memory limit: the layer's failure, told as too large
    [
      new LayerSourceError(0, 2, 'clip', 'https://x/c.mp4', 'needs more than the 1024 MiB', {
        cause: new SourceTooLarge('needs more than the 1024 MiB'),
      }),
      'SOURCE_TOO_LARGE',
    ],
    // a movie whose pictures would pass the job's work budget
    [new WorkBudgetError('layer "bg" (movie.scenes[0].layers[0])', 16 * 2 ** 20), 'SOURCE_TOO_LARGE'],
  ];
  for (const [err, expected] of cases) {
    const failure = failureOf(err);
    assert.equal(failure.code, expected, String(err));
    assert.ok(failure.code in FAILURES);
  }
  assert.equal(failureOf(cases[0][0]).message, (cases[0][0] as Error).message);
  assert.match(failureOf(enospc).message, /ran out of disk space/);
  // a binary that does not run: the tenant hears what happened, the log gets our path
  const binary = failureOf(cases[5][0]);
  assert.equal(binary.message, 'The server cannot run ffmpeg (its log says why)');
  assert.equal(binary.log, 'cannot run /opt/ours/ffmpeg');
  assert.equal(failureOf(cases[6][0]).log, undefined);
  // the bucket and endpoint are the operator's: the tenant hears that storage was away
  const storage = failureOf(cases[7][0]);
  assert.equal(storage.message, 'Object storage could not be reached (4 tries); submit the job again later');
  assert.equal(storage.log, 's3 put: refused');
});

test('isDatabaseUnavailable: a database that is away, not a query that failed', () => {
  const away = [
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    Object.assign(new Error('connection failure'), { code: '08006' }),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
  ];
  for (const err of away) assert.ok(isDatabaseUnavailable(err), err.message);
  const failed = [
    Object.assign(new Error('duplicate key value'), { code: '23505' }),
    Object.assign(new Error('relation "x" does not exist'), { code: '42P01' }),
    new Error('something else'),
    undefined,
  ];
  for (const err of failed) assert.ok(!isDatabaseUnavailable(err), String(err?.message));
});
