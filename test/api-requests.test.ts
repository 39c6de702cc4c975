// Requests can never hurt the server: any body gets a 202 or a 4xx in the one error shape, in
// a bounded answer, and the server keeps answering; a client that stalls is cut off by the
// server's timeouts, while a progress stream stays open; bodiless routes take an empty body
// sent with a JSON content type, as curl examples and many HTTP clients send it.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { mediaServer, tempDir } from './helpers.ts';
import { api, assertErrorShape, startService, waitForJob, type TestService } from './service-helpers.ts';

type Json = Record<string, any>;

/** The most a refusal may weigh, whatever the body held. */
const MAX_ANSWER_BYTES = 64 * 1024;

const files = await mediaServer(await tempDir('reelsmith-requests-'));
const svc = await startService();

const post = (service: TestService, key: string, text: string) =>
  api(service.url, key, '/v1/render/jobs', {
    method: 'POST',
    body: text,
    headers: { 'content-type': 'application/json' },
  });

/** Reads an answer that must be 202 or a 4xx in the error shape, small, with at most 100 problems listed. */
async function boundedAnswer(res: Response): Promise<Json> {
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  assert.ok(
    res.status === 202 || (res.status >= 400 && res.status < 500),
    `status ${res.status}: ${text.slice(0, 300)}`,
  );
  assert.ok(bytes.length < MAX_ANSWER_BYTES, `an answer of ${bytes.length} bytes`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const json = JSON.parse(text) as Json;
  if (res.status === 202) {
    assert.match(json.jobId, /^job_[0-9a-f]{12}$/);
    return json;
  }
  const error = assertErrorShape(json);
  if (error.details !== undefined) {
    assert.ok(
      Array.isArray(error.details) && error.details.length > 0 && error.details.length <= 100,
      `${error.details.length} problems listed`,
    );
    for (const p of error.details as Json[]) {
      assert.deepEqual(Object.keys(p).sort(), ['message', 'path']);
      assert.ok(typeof p.path === 'string' && typeof p.message === 'string', JSON.stringify(p));
    }
  }
  return json;
}

/** `levels` arrays (or objects) inside each other, as JSON text: deeper than JSON.stringify can go. */
const nestedText = (levels: number, asObjects = false) =>
  asObjects ? `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}` : `${'['.repeat(levels)}${']'.repeat(levels)}`;

/** A body of `count` empty scenes, as the report of issue 6 sent it. */
const emptyScenesText = (count: number, projectId = 'P') =>
  `{"kind":"movie","projectId":${JSON.stringify(projectId)},"movie":{"scenes":[${Array(count).fill('{}').join(',')}]}}`;

/** A movie whose only layer's source never answers: its job waits in planning until cancelled. */
const hangingMovie = () => ({
  width: 320,
  height: 180,
  fps: 30,
  scenes: [{ id: 'waiting', duration: 1, layers: [{ id: 'picture', type: 'image', source: `${files.url}/hang` }] }],
});

async function submitHanging(service: TestService, key: string, projectId: string): Promise<string> {
  const res = await api(service.url, key, '/v1/render/jobs', {
    method: 'POST',
    json: { kind: 'movie', projectId, movie: hangingMovie() },
  });
  const json = (await res.json()) as Json;
  assert.equal(res.status, 202, JSON.stringify(json));
  return json.jobId as string;
}

async function assertHealthy(service: TestService): Promise<void> {
  const health = await fetch(`${service.url}/healthz`);
  assert.equal(health.status, 200, 'the server still answers');
  assert.deepEqual(await health.json(), { ok: true });
}

// ---------------------------------------------------------------------------------------

describe('any body: a 202 or a 4xx in the error shape, small, and the server answers on', () => {
  test('62,500 empty scenes: 400 naming the scene limit, in one problem', async () => {
    const t = await svc.tenant('fuzz');
    const json = await boundedAnswer(await post(svc, t.key, emptyScenesText(62_500)));
    assert.deepEqual(json, {
      error: {
        code: 'INVALID_MOVIE_JSON',
        message: 'The request failed validation: 1 problem',
        details: [{ path: 'movie.scenes', message: 'must have at most 1,000 scenes (it has 62,500)' }],
      },
    });
  });

  test('300 empty scenes: the first 100 problems listed, the rest counted in the message', async () => {
    const t = await svc.tenant('fuzz');
    const res = await post(svc, t.key, emptyScenesText(300, t.projectId));
    assert.equal(res.status, 400);
    const { error } = await boundedAnswer(res);
    assert.equal(error.message, 'The request failed validation: 600 problems; the first 100 are listed, and 500 more');
    assert.equal(error.details.length, 100);
    assert.deepEqual(error.details.slice(0, 2), [
      { path: 'movie.scenes[0].id', message: 'is required' },
      { path: 'movie.scenes[0].duration', message: 'is required' },
    ]);
    assert.deepEqual(error.details.at(-1), { path: 'movie.scenes[49].duration', message: 'is required' });
  });

  test('a movie nested 100,000 levels deep: 400 naming where it stops matching', async () => {
    const t = await svc.tenant('fuzz');
    const prefix = `{"kind":"movie","projectId":${JSON.stringify(t.projectId)},"movie":`;
    for (const [text, path, message] of [
      [`${prefix}${nestedText(100_000)}}`, 'movie', 'must be an object'],
      [`${prefix}{"scenes":${nestedText(100_000)}}}`, 'movie.scenes[0]', 'must be an object'],
      [
        `${prefix}{"title":${nestedText(100_000)},"scenes":[{"id":"a","duration":1}]}}`,
        'movie.title',
        'must be a string',
      ],
    ]) {
      const res = await post(svc, t.key, text);
      assert.equal(res.status, 400);
      assert.deepEqual((await boundedAnswer(res)).error.details, [{ path, message }]);
    }
    await assertHealthy(svc);
  });

  test('four bodies of 1 MiB of empty scenes at once: each refused, and /healthz answers meanwhile', async () => {
    const t = await svc.tenant('fuzz');
    const count = Math.floor((1024 * 1024 - 100) / 3);
    const answers = Array.from({ length: 4 }, () => post(svc, t.key, emptyScenesText(count, t.projectId)));
    await assertHealthy(svc);
    for (const res of await Promise.all(answers)) {
      assert.equal(res.status, 400);
      assert.deepEqual((await boundedAnswer(res)).error.details, [
        { path: 'movie.scenes', message: `must have at most 1,000 scenes (it has ${count.toLocaleString('en-US')})` },
      ]);
    }
  });

  test('an empty body to POST /v1/render/jobs is refused naming the body; prototype keys are still refused', async () => {
    const t = await svc.tenant('fuzz');
    const empty = await post(svc, t.key, '');
    assert.equal(empty.status, 400);
    assert.deepEqual((await boundedAnswer(empty)).error.details, [
      { path: '(body)', message: 'is empty: send the render request as a JSON object' },
    ]);

    for (const text of ['{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}']) {
      const res = await post(svc, t.key, text);
      assert.equal(res.status, 400);
      const { error } = await boundedAnswer(res);
      assert.equal(error.code, 'INVALID_MOVIE_JSON');
      assert.match(error.message, /not valid JSON/, 'refused by the parser, as its JSON is well-formed');
    }
    assert.equal(({} as Json).polluted, undefined);
  });

  test('the scene and layer limits are published in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${svc.url}/v1/openapi.json`)).json()) as Json;
    const { Movie: movie, Scene: scene } = doc.components.schemas as Record<string, Json>;
    assert.equal(movie.title, 'Reelsmith Movie', 'the Movie schema is published');
    assert.equal(movie.properties.scenes.maxItems, 1000);
    assert.equal(movie.properties.scenes.items.$ref, '#/components/schemas/Scene');
    assert.equal(scene.properties.layers.maxItems, 200);
  });

  test('random bodies: random values, deep nesting, huge arrays, wrong types at every path, every script, prototype keys', async () => {
    const t = await svc.tenant('fuzz'); // no minutes: a body that passes every check gets 402, nothing renders
    const hostileKey = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'valueOf',
        'x'.repeat(5000),
      ),
    );
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom(
        '',
        '\u0000',
        '\ud800',
        '\udc00x',
        '\u202e',
        '😀',
        'ﷺ',
        'ᄀᄀᄀ각ᆨᆨ',
        'x'.repeat(20_000),
        '\u001b[2J',
      ),
    );
    // deep values stand in as markers, replaced by nestedText once the body is text
    const nested = fc
      .tuple(fc.integer({ min: 1, max: 100_000 }), fc.boolean())
      .map(([levels, asObjects]) => `\u0000nested:${levels}:${asObjects}`);
    const toText = (doc: unknown) =>
      (JSON.stringify(doc) ?? 'null').replace(
        /"\\u0000nested:(\d+):(true|false)"/g,
        (_, levels: string, asObjects: string) => nestedText(Number(levels), asObjects === 'true'),
      );
    const hugeArray = fc.tuple(
      fc.integer({ min: 0, max: 50_000 }),
      fc.constantFrom<unknown>({}, [], 0, null, 'x', { id: 'a' }, { id: 'a', duration: 1 }),
    );
    const value: fc.Arbitrary<unknown> = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      text,
      nested,
      hugeArray.map(([n, item]) => Array(n).fill(item)),
      fc.dictionary(hostileKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
      fc.constantFrom(null, true, 0, -0, -1, 1e308, 5e-324, Number.MAX_SAFE_INTEGER, 2 ** 53 + 1, 0.1, [], {}),
    );
    /** A valid value most of the time, anything at all otherwise: a wrong type can turn up at every path. */
    const either = (plausible: fc.Arbitrary<unknown>) =>
      fc.oneof({ weight: 9, arbitrary: plausible }, { weight: 1, arbitrary: value });
    /** Known fields (the optional ones may be missing) plus, sometimes, unknown and prototype keys as own properties. */
    const shape = (fields: Record<string, fc.Arbitrary<unknown>>, requiredKeys: string[]) =>
      fc
        .tuple(
          fc.record(fields, { requiredKeys }),
          fc.dictionary(hostileKey, value, { maxKeys: 2 }),
          fc.integer({ min: 0, max: 3 }),
        )
        .map(([known, extra, dice]) => {
          if (dice === 0)
            for (const [k, v] of Object.entries(extra))
              Object.defineProperty(known, k, { value: v, enumerable: true, writable: true, configurable: true });
          return known;
        });
    const layer = shape(
      {
        id: either(fc.string({ minLength: 1, maxLength: 6 })),
        type: either(fc.constantFrom('text', 'image', 'video', 'audio')),
        text: either(text),
        source: either(fc.constant('https://cdn.example.com/a.png')),
        startTime: either(fc.double({ min: 0, max: 0.1, noNaN: true })),
        duration: either(fc.double({ min: 0.1, max: 5, noNaN: true })),
        position: either(fc.record({ x: fc.integer({ min: -100, max: 400 }), y: fc.integer({ min: -100, max: 400 }) })),
        color: either(fc.constantFrom('#fff', '#1a1a2e80')),
        fontFamily: either(fc.constant('Inter')),
      },
      ['id', 'type'],
    );
    const scene = shape(
      {
        id: either(fc.string({ minLength: 1, maxLength: 6 })),
        duration: either(fc.double({ min: 0.2, max: 3, noNaN: true })),
        bgColor: either(fc.constantFrom('#000', '#1a1a2e')),
        layers: either(fc.array(layer, { maxLength: 4 })),
      },
      ['id', 'duration'],
    );
    const movie = shape(
      {
        width: either(fc.constantFrom(320, 1920)),
        height: either(fc.constantFrom(180, 1080)),
        fps: either(fc.constantFrom(1, 30)),
        scenes: either(fc.array(scene, { minLength: 1, maxLength: 4 })),
      },
      ['scenes'],
    );
    const body = shape(
      {
        kind: either(fc.constant('movie')),
        projectId: either(fc.constant(t.projectId)),
        movie: either(movie),
        renderOptions: either(
          fc.record({ qualityPreset: fc.constantFrom('stable', 'balanced', 'fast') }, { requiredKeys: [] }),
        ),
        callbackUrl: either(fc.constant('https://example.com/hook')),
      },
      ['kind', 'projectId', 'movie'],
    );

    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: body }, { weight: 1, arbitrary: value }), async (doc) => {
        await boundedAnswer(await post(svc, t.key, toText(doc)));
      }),
      { numRuns: 200 },
    );
    assert.equal(({} as Json).polluted, undefined, 'no prototype pollution');
    await assertHealthy(svc);
  });
});

describe('bodiless routes take an empty body sent with a JSON content type', () => {
  test('DELETE /v1/jobs/{id} and POST /v1/jobs/{id}/cancel with Content-Type: application/json and no body: 200, and the job ends cancelled', async () => {
    const t = await svc.tenant('pro');
    for (const [method, path] of [
      ['DELETE', ''],
      ['POST', '/cancel'],
    ]) {
      const jobId = await submitHanging(svc, t.key, t.projectId);
      const job = await api(svc.url, t.key, `/v1/jobs/${jobId}`, { headers: { 'content-type': 'application/json' } });
      assert.equal(job.status, 200, await job.text());
      const res = await api(svc.url, t.key, `/v1/jobs/${jobId}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 200, `${method} ${path}: ${await res.clone().text()}`);
      assert.equal(((await res.json()) as Json).jobId, jobId);
      assert.equal((await waitForJob(svc.url, t.key, jobId)).status, 'cancelled', `${method} /v1/jobs/{id}${path}`);
    }
  });
});

// ---------------------------------------------------------------------------------------
// Timeouts, on a service with short ones, over raw sockets

describe('a client that stalls is cut off; a progress stream is not', async () => {
  const timeouts = { requestMs: 1000, headersMs: 1000, keepAliveMs: 500, idleMs: 3000 };
  const quick = await startService({ timeouts, heartbeatMs: 200 });
  const { port } = new URL(quick.url);

  /** A raw connection to the service that sends `text` and records what comes back and whether it closed. */
  function rawConnection(text: string): { socket: Socket; received: () => string; closed: Promise<string> } {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => {}); // a reset is also a disconnection; 'close' follows
    if (text) socket.write(text);
    return {
      socket,
      received: () => received,
      closed: new Promise((resolve) => socket.on('close', () => resolve(received))),
    };
  }

  /** An answer sent before the connection was closed: this status, in the error shape; returns `error`. */
  function assertRefused(answer: string, status: string, code: string): Json {
    assert.ok(answer.startsWith(`HTTP/1.1 ${status}\r\n`), answer);
    return assertErrorShape(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), code);
  }

  function assertTimedOut(answer: string) {
    const error = assertRefused(answer, '408 Request Timeout', 'REQUEST_TIMEOUT');
    assert.equal(error.message, 'The request did not arrive in time: headers within 1 s, the whole request within 1 s');
  }

  test('headers and half a body, then nothing: 408 REQUEST_TIMEOUT and the connection is closed', {
    timeout: 60_000,
  }, async () => {
    const t = await quick.tenant('fuzz');
    const head = `POST /v1/render/jobs HTTP/1.1\r\nHost: localhost\r\nx-api-key: ${t.key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    assertTimedOut(await rawConnection(`${head}{"kind":"movie","projectId":"${t.projectId}",`).closed);
  });

  test('half the headers, or nothing at all: 408 and the connection is closed', { timeout: 60_000 }, async () => {
    assertTimedOut(await rawConnection('POST /v1/render/jobs HTTP/1.1\r\nHost: localhost\r\n').closed);
    assertTimedOut(await rawConnection('').closed);
  });

  test('headers over the size limit, or bytes that are not HTTP: 431 or 400 in the error shape, and the connection is closed', {
    timeout: 60_000,
  }, async () => {
    assertRefused(
      await rawConnection(`GET /healthz HTTP/1.1\r\nHost: localhost\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`).closed,
      '431 Request Header Fields Too Large',
      'HEADERS_TOO_LARGE',
    );
    assertRefused(await rawConnection('not http at all\r\n\r\n').closed, '400 Bad Request', 'BAD_REQUEST');
  });

  test('an idle keep-alive connection is closed after its answer', { timeout: 60_000 }, async () => {
    const answer = await rawConnection('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n').closed;
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answer, /\{"ok":true\}$/);
  });

  test('a progress stream stays open longer than every timeout, then ends with the job', {
    timeout: 60_000,
  }, async () => {
    const t = await quick.tenant('pro');
    const jobId = await submitHanging(quick, t.key, t.projectId);
    const stream = rawConnection(
      `GET /v1/jobs/${jobId}/progress HTTP/1.1\r\nHost: localhost\r\nx-api-key: ${t.key}\r\n\r\n`,
    );
    let open = true;
    void stream.closed.then(() => (open = false));
    await sleep(Math.max(...Object.values(timeouts)) + 1000);
    assert.ok(open, `the stream was closed: ${stream.received()}`);
    assert.match(stream.received(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*: connected\n\n[\s\S]*: heartbeat\n\n/);

    const cancel = await api(quick.url, t.key, `/v1/jobs/${jobId}`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(cancel.status, 200, await cancel.text());
    assert.match(await stream.closed, /event: cancelled\n/);
    assert.equal((await waitForJob(quick.url, t.key, jobId)).status, 'cancelled');
  });
});
