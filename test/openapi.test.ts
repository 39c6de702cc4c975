// The API document as a client meets it: fetched over HTTP from a running server, linted with
// Redocly's recommended rules, complete (an operationId on every operation, named schemas, every
// error code), shown by /docs, and its own request example accepted by the API it describes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createConfig, lintFromString, type NormalizedProblem } from '@redocly/openapi-core';
import { API_ERRORS } from '../src/api/errors.ts';
import { api, seedMinimalBody, startService } from './service-helpers.ts';

type Json = Record<string, any>;

const svc = await startService();
const res = await fetch(`${svc.url}/v1/openapi.json`);
assert.equal(res.status, 200);
const text = await res.text();
const doc = JSON.parse(text) as Json;

/** Redocly's recommended rules over a document's text. */
async function lint(source: string): Promise<NormalizedProblem[]> {
  const config = await createConfig({ extends: ['recommended'] });
  return lintFromString({ source, absoluteRef: `${svc.url}/v1/openapi.json`, config });
}

const described = (p: NormalizedProblem) =>
  `${p.ruleId}: ${p.message} (${p.location.map((l) => l.pointer).join(', ')})`;

/** Every operation of the document: [method, path, operation]. */
const operations = () =>
  Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => [method, path, operation as Json] as const),
  );

/** A component schema by name, and what a `$ref` to one names. */
const schema = (name: string): Json => doc.components.schemas[name];
const refName = (value: Json) => String(value.$ref).replace('#/components/schemas/', '');

describe('GET /v1/openapi.json', () => {
  test('passes Redocly lint (recommended rules) with no errors; warnings are printed', async () => {
    const problems = await lint(text);
    for (const p of problems.filter((p) => p.severity !== 'error')) console.log(`warning ${described(p)}`);
    assert.deepEqual(problems.filter((p) => p.severity === 'error').map(described), []);

    // the linter does catch what this document avoids: the same document without servers fails
    const broken = await lint(JSON.stringify({ ...doc, servers: undefined }));
    assert.ok(
      broken.some((p) => p.severity === 'error' && p.ruleId === 'no-empty-servers'),
      broken.map(described).join('\n'),
    );
  });

  test('every operation has a stable operationId, a success answer and its errors', () => {
    const ids = Object.fromEntries(
      operations().map(([method, path, op]) => [`${method.toUpperCase()} ${path}`, op.operationId]),
    );
    assert.deepEqual(ids, {
      'POST /v1/render/jobs': 'createRenderJob',
      'GET /v1/jobs': 'listRenderJobs',
      'GET /v1/jobs/{jobId}': 'getRenderJob',
      'DELETE /v1/jobs/{jobId}': 'deleteRenderJob',
      'POST /v1/jobs/{jobId}/cancel': 'cancelRenderJob',
      'GET /v1/jobs/{jobId}/progress': 'getJobEvents',
      'GET /v1/jobs/{jobId}/webhooks': 'listJobWebhookDeliveries',
      'GET /v1/usage': 'getUsage',
      'GET /v1/files/{key}': 'getOutputFile',
    });
    for (const [method, path, op] of operations()) {
      const statuses = Object.keys(op.responses);
      const success = statuses.find((s) => s.startsWith('2'));
      assert.ok(success && op.responses[success].content, `${method} ${path} documents what it answers`);
      assert.ok(
        statuses.some((s) => s.startsWith('4')),
        `${method} ${path} documents its errors`,
      );
      for (const status of statuses.filter((s) => s.startsWith('4')))
        assert.equal(
          refName(op.responses[status].content['application/json'].schema),
          'Error',
          `${method} ${path} ${status}`,
        );
    }
  });

  test('names the package version, its servers and its schemas, with every error code enumerated', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8')) as Json;
    assert.equal(doc.info.version, pkg.version);
    assert.ok(doc.servers.length > 0);
    for (const name of [
      'Movie',
      'Scene',
      'Layer',
      'TextLayer',
      'ImageLayer',
      'VideoLayer',
      'AudioLayer',
      'Job',
      'Error',
    ])
      assert.ok(schema(name), `components.schemas.${name}`);
    assert.ok(!Object.keys(doc.components.schemas).some((name) => name.startsWith('def-')));

    assert.deepEqual(schema('Error').properties.error.properties.code.enum, Object.keys(API_ERRORS));

    // Movie -> Scene -> Layer, a choice of one schema per layer type told apart by `type`
    assert.equal(refName(schema('Movie').properties.scenes.items), 'Scene');
    assert.equal(refName(schema('Scene').properties.layers.items), 'Layer');
    assert.deepEqual(schema('Layer').oneOf.map(refName), ['TextLayer', 'ImageLayer', 'VideoLayer', 'AudioLayer']);
    assert.equal(schema('Layer').discriminator.propertyName, 'type');
    for (const [name, type, needs] of [
      ['TextLayer', 'text', 'text'],
      ['ImageLayer', 'image', 'source'],
      ['VideoLayer', 'video', 'source'],
      ['AudioLayer', 'audio', 'source'],
    ]) {
      assert.deepEqual(schema(name).properties.type.enum, [type]);
      assert.deepEqual(schema(name).required, ['id', 'type', needs]);
      assert.equal(schema(name).additionalProperties, false);
    }
    // the bounds the server checks are published as they are (a 3.1 document: JSON Schema's numeric form)
    assert.equal(schema('Scene').properties.duration.exclusiveMinimum, 0);
    assert.equal(refName(doc.paths['/v1/jobs/{jobId}'].get.responses['200'].content['application/json'].schema), 'Job');
  });

  test('documents the files route as signed-URL access: no x-api-key, the signature in the query', () => {
    const op = doc.paths['/v1/files/{key}'].get;
    assert.deepEqual(op.security, []);
    const params = Object.fromEntries((op.parameters as Json[]).map((p) => [p.name, [p.in, p.required]]));
    assert.deepEqual(params, { key: ['path', true], expires: ['query', true], signature: ['query', true] });
    assert.ok(op.responses['206'], 'byte ranges');
  });

  test("documents what a callbackUrl receives: a JobEvent (the progress stream's events too), signed", () => {
    const op = doc.webhooks.jobEvent.post;
    assert.equal(refName(op.requestBody.content['application/json'].schema), 'JobEvent');
    assert.deepEqual(
      (op.parameters as Json[]).map((p) => [p.name, p.in]),
      [
        ['webhook-id', 'header'],
        ['webhook-timestamp', 'header'],
        ['webhook-signature', 'header'],
      ],
    );
    const literals = (s: Json): unknown[] =>
      s.enum ?? (s.const === undefined ? (s.anyOf ?? []).flatMap(literals) : [s.const]);
    const events = (schema('JobEvent').anyOf as Json[]).flatMap((variant) => literals(variant.properties.event));
    assert.deepEqual(events.sort(), ['cancelled', 'done', 'failed', 'phase', 'progress']);
  });

  test("its request example is the seed's minimal request, and the API accepts it (202)", async () => {
    const example = doc.paths['/v1/render/jobs'].post.requestBody.content['application/json'].example;
    assert.deepEqual(example, seedMinimalBody);
    const t = await svc.tenant('pro', example.projectId);
    const res = await api(svc.url, t.key, '/v1/render/jobs', { method: 'POST', json: example });
    const body = (await res.json()) as Json;
    assert.equal(res.status, 202, JSON.stringify(body));
    assert.equal(body.status, 'queued');
    await api(svc.url, t.key, `/v1/jobs/${body.jobId}`, { method: 'DELETE' });
  });
});

test('/docs shows this document, by its title and from /v1/openapi.json', async () => {
  const page = await fetch(`${svc.url}/docs`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>Reelsmith Render API<\/title>/);
  const init = await (await fetch(`${svc.url}/docs/static/swagger-initializer.js`)).text();
  assert.match(init, /"urls":\[\{"url":"\/v1\/openapi\.json"/);
});
