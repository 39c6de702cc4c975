// The API document: OpenAPI 3.1 generated from the route schemas, which are the TypeBox
// schemas the routes validate with; served at /v1/openapi.json and shown by Swagger UI at /docs.
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { LAYER_NEEDS, Movie } from '../movie/index.ts';
import { PACKAGE } from '../package-info.ts';
import { ErrorBody } from './errors.ts';
import { JobEventBody } from './job-event.ts';
import { JobView } from './job-view.ts';
import { JobList, WebhookDeliveries } from './routes/jobs.ts';
import { RenderJobAccepted } from './routes/render-jobs.ts';
import { Usage } from './routes/usage.ts';

export const OPENAPI_PATH = '/v1/openapi.json';
const TITLE = 'Reelsmith Render API';

/** The little of the generated document that withLayerTypes reads. */
interface Document {
  components: { schemas: Record<string, SchemaObject> };
}
interface SchemaObject {
  properties?: Record<string, object>;
  required?: string[];
  [keyword: string]: unknown;
}

export async function installApiDocs(app: FastifyInstance): Promise<void> {
  // what routes answer with as a whole is shared and referenced (Type.Ref), so the document names it
  // (a route's own schema is written out in place)
  for (const schema of [ErrorBody, JobView, JobList, JobEventBody, RenderJobAccepted, Usage, WebhookDeliveries])
    app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema, so TypeBox's (numeric exclusiveMinimum, null types) go in as they are
      openapi: '3.1.0',
      info: {
        title: TITLE,
        version: PACKAGE.version,
        description: `Submit a Movie, follow its job, fetch the MP4. This document: \`${OPENAPI_PATH}\`.`,
        license: { name: PACKAGE.license, identifier: PACKAGE.license },
      },
      servers: [{ url: '/', description: 'the server that serves this document' }],
      tags: [
        { name: 'render', description: 'Submit a render job' },
        { name: 'jobs', description: 'Follow, list and cancel jobs' },
        { name: 'account', description: 'Usage and limits' },
        { name: 'files', description: 'Rendered outputs behind signed, expiring URLs' },
      ],
      components: { securitySchemes: { apiKey: { type: 'apiKey', name: 'x-api-key', in: 'header' } } },
      security: [{ apiKey: [] }],
      webhooks: { jobEvent: JOB_EVENT_WEBHOOK },
    },
    refResolver: {
      // schemas with an $id become components under their own name (Movie, Scene, Layer, Job, Error, ...)
      buildLocalReference: (json, _baseUri, _fragment, i) => componentName(json) ?? `def-${i}`,
    },
    transformObject: (document) => withLayerTypes((document as { openapiObject: Document }).openapiObject),
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // the page loads the document from where clients get it, and names it
    uiConfig: { urls: [{ url: OPENAPI_PATH, name: `${TITLE} ${PACKAGE.version}` }] },
    theme: { title: TITLE },
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}

/** What a job's callbackUrl receives: each event, signed per Standard Webhooks. */
const JOB_EVENT_WEBHOOK = {
  post: {
    operationId: 'jobEventWebhook',
    summary: "A job event, POSTed to the job's callbackUrl",
    description:
      "`phase` on every phase change, `progress` at most every 2 s, and the final `done`, `failed` or `cancelled`. Signed with the project's `whsec_` secret (Standard Webhooks: HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>`); retried until a 2xx, for more than a day.",
    security: [],
    parameters: ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => ({
      name,
      in: 'header' as const,
      required: true,
      schema: { type: 'string' as const },
    })),
    requestBody: {
      required: true,
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${JobEventBody.$id}` } } },
    },
    responses: { '200': { description: 'Received (any 2xx); any other answer is retried' } },
  },
};

/** Movie keeps its JSON Schema URL as $id; the others are named by theirs. */
function componentName(schema: { $id?: unknown }): string | undefined {
  if (schema.$id === Movie.$id) return 'Movie';
  return typeof schema.$id === 'string' && /^[A-Z]\w*$/.test(schema.$id) ? schema.$id : undefined;
}

/**
 * Each layer type as its own schema (the Layer's fields, its type fixed and the field it needs
 * required) and Layer as the choice of them, told apart by `type`: exactly what the server
 * accepts (one Layer schema plus the rule that each type needs its field), typed per layer type
 * for generated clients.
 */
function withLayerTypes(doc: Document): Document {
  const { schemas } = doc.components;
  const layer = schemas.Layer as Required<SchemaObject>;
  const mapping: Record<string, string> = {};
  for (const [type, needs] of Object.entries(LAYER_NEEDS)) {
    const name = `${type[0].toUpperCase()}${type.slice(1)}Layer`;
    schemas[name] = {
      ...layer,
      description: `A ${type} layer`,
      properties: { ...layer.properties, type: { type: 'string', enum: [type] } },
      required: [...layer.required, needs],
    };
    mapping[type] = `#/components/schemas/${name}`;
  }
  schemas.Layer = {
    description: 'A layer: text, image, video or audio, told apart by `type`',
    oneOf: Object.values(mapping).map(($ref) => ({ $ref })),
    discriminator: { propertyName: 'type', mapping },
  };
  return doc;
}
