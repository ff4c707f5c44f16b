// The OpenAPI document itself: valid per an independent OpenAPI 3.1 validator, registering every
// endpoint and component the PRD names, served at /api/v1/openapi.{json,yaml} with an offline
// docs page at /api/docs, and the generated types (api/openapi.d.ts, sdk/openapi.d.ts) fresh.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Validator } from '@seriousme/openapi-schema-validator';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument, openApiYaml } from '../api/openapiDocument.ts';
import { generateTypes, TARGETS } from '../sdk/scripts/generate.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { startTestServer, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { worker: false });
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe('the document', () => {
  it('is valid OpenAPI 3.1 for an independent validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(openApiDocument));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('registers every management endpoint and the receiver', () => {
    const operations = Object.entries<any>(openApiDocument.paths).flatMap(([path, item]) =>
      ['get', 'post', 'put', 'delete'].filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(expect.arrayContaining([
      'GET /api/v1/inbound-webhooks',
      'POST /api/v1/inbound-webhooks',
      'GET /api/v1/inbound-webhooks/{id}',
      'PUT /api/v1/inbound-webhooks/{id}',
      'DELETE /api/v1/inbound-webhooks/{id}',
      'POST /api/v1/inbound-webhooks/{id}/rotate-secret',
      'POST /api/v1/inbound-webhooks/{id}/test',
      'POST /api/v1/inbound-webhooks/{id}/capture-sample',
      'DELETE /api/v1/inbound-webhooks/{id}/capture-sample',
      'GET /api/v1/inbound-webhooks/{id}/deliveries',
      'GET /api/v1/inbound-webhooks/{id}/deliveries/{deliveryId}',
      'POST /api/v1/inbound-webhooks/{id}/deliveries/{deliveryId}/replay',
      'GET /api/v1/inbound-webhooks/actions',
      'POST /api/inbound/{tenantSlug}/{webhookSlug}',
    ]));
    const receiver = openApiDocument.paths['/api/inbound/{tenantSlug}/{webhookSlug}'].post;
    expect(Object.keys(receiver.responses)).toEqual(expect.arrayContaining(['200', '401', '409', '413', '415', '429', '5XX']));
    expect(receiver.responses['409'].description).toMatch(/Not used/);
    expect(receiver.parameters.map((p: any) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(['header:X-Signature', 'header:Idempotency-Key', 'header:Content-Type']),
    );
    const deliveries = openApiDocument.paths['/api/v1/inbound-webhooks/{id}/deliveries'].get;
    expect(deliveries.parameters.map((p: any) => p.name)).toEqual(['status', 'from', 'to', 'limit', 'cursor']);
  });

  it('registers the components, with auth and handler discriminated by their type', () => {
    const schemas = openApiDocument.components.schemas;
    for (const name of [
      'InboundWebhookConfig', 'InboundWebhookCreateInput', 'InboundWebhookUpdateInput', 'InboundWebhookAuthConfig',
      'InboundWebhookHandlerConfig', 'InboundWebhookDelivery', 'InboundActionDefinition', 'InboundActionTargetField',
      'WorkflowWebhookEnvelope',
    ]) expect(schemas, name).toHaveProperty(name);
    expect(schemas.InboundWebhookAuthConfig.discriminator.propertyName).toBe('auth_type');
    expect(Object.keys(schemas.InboundWebhookAuthConfig.discriminator.mapping)).toEqual(['hmac_sha256', 'bearer', 'ip_allowlist', 'path_token']);
    expect(schemas.InboundWebhookHandlerConfig.discriminator.propertyName).toBe('handler_type');
    expect(Object.keys(schemas.InboundWebhookHandlerConfig.discriminator.mapping)).toEqual(['direct_action', 'workflow']);
  });
});

describe('serving it', () => {
  it('serves the document as JSON and YAML without a key', async () => {
    const json = await fetch(`${server.url}/api/v1/openapi.json`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.json()).toEqual(openApiDocument);
    const yaml = await fetch(`${server.url}/api/v1/openapi.yaml`);
    expect(yaml.status).toBe(200);
    expect(yaml.headers.get('content-type')).toMatch(/^application\/yaml/);
    const text = await yaml.text();
    expect(text).toBe(openApiYaml);
    expect(parse(text)).toEqual(openApiDocument);
  });

  it('renders the docs page from assets it serves itself (no CDN)', async () => {
    const page = await fetch(`${server.url}/api/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('id="swagger-ui"');
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThanOrEqual(4);
    for (const source of sources) {
      expect(source, 'served from this server').toMatch(/^\/api\/docs\//);
      const asset = await fetch(server.url + source);
      expect(asset.status, source).toBe(200);
      expect((await asset.text()).length, source).toBeGreaterThan(10);
    }
    const init = await (await fetch(`${server.url}/api/docs/init.js`)).text();
    expect(init).toContain("url: '/api/v1/openapi.json'");
  });
});

describe('generated types', () => {
  it('api/openapi.d.ts and sdk/openapi.d.ts are what openapi-typescript generates now (run npm run openapi:types / sdk:generate)', async () => {
    const fresh = await generateTypes();
    expect(readFileSync(TARGETS.api, 'utf8')).toBe(fresh);
    expect(readFileSync(TARGETS.sdk, 'utf8')).toBe(fresh);
  });

  it("the handlers' types come from the generated file (tsc on test/types/rest.handlers.ts)", async () => {
    const tsc = new URL('../node_modules/.bin/tsc', import.meta.url).pathname;
    const project = new URL('./types/tsconfig.json', import.meta.url).pathname;
    await expect(promisify(execFile)(tsc, ['--noEmit', '-p', project], { timeout: 120_000 })).resolves.toBeDefined();
  }, 130_000);
});
