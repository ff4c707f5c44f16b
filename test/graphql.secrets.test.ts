// Secrets through the GraphQL API: nothing secret is in the schema (introspection), a secret is
// returned only by the mutation that made it, and rotation keeps the old secret verifying at
// the receiver for the grace period, then not (with the receiver's default config cache).
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { getIntrospectionQuery } from 'postgraphile/graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { failure, graphqlClient, ok, userWithKey, type GraphqlRequest } from './support/graphql.ts';
import { makeTenant, startTestServer, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
let admin: GraphqlRequest;
let viewer: GraphqlRequest;

const ROTATE = `mutation ($id: UUID!, $grace: Int, $secret: String) {
  rotateInboundWebhookSecret(input: {inboundWebhookId: $id, gracePeriodSeconds: $grace, secret: $secret}) {
    secret url previousSecretsExpireAt inboundWebhook { slug } } }`;

async function create(slug: string, auth: Record<string, unknown>) {
  const { createInboundWebhook } = await ok(admin, `mutation ($input: CreateInboundWebhookInput!) {
    createInboundWebhook(input: $input) { secret url inboundWebhook { inboundWebhookId } } }`, {
    input: { name: slug, slug, auth, rateLimitPerMinute: 0, handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } } },
  });
  return { id: createInboundWebhook.inboundWebhook.inboundWebhookId as string, secret: createInboundWebhook.secret as string };
}

async function signed(slug: string, secret: string): Promise<number> {
  const body = JSON.stringify({ title: `signed with ${secret.slice(0, 6)}` });
  const res = await fetch(`${server.url}/api/inbound/acme/${slug}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', secret).update(body).digest('hex') },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

async function bearer(slug: string, token: string): Promise<number> {
  const res = await fetch(`${server.url}/api/inbound/acme/${slug}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"title":"t"}',
  });
  await res.arrayBuffer();
  return res.status;
}

beforeAll(async () => {
  db = await createTestDatabase();
  // the worker is not needed: only the receiver's answer matters here
  server = await startTestServer(db.url, { worker: false });
  await makeTenant(db.pool, 'acme');
  admin = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'admin')).key);
  viewer = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'viewer')).key);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe('introspection', () => {
  it('shows no secret, ciphertext, digest or key hash anywhere but the two one-time answers', async () => {
    const answer = await admin(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, specifiedByUrl: true }));
    expect(answer.status).toBe(200);
    const schema = answer.data.__schema;
    const pattern = /secret|cipher|digest|key_?hash|api_?key|master_?key/i;
    const hits: string[] = [];
    const check = (where: string, name: string, description: string | null | undefined) => {
      if (pattern.test(name)) hits.push(where);
      if (description && pattern.test(description)) hits.push(`${where} (description)`);
    };
    for (const type of schema.types) {
      check(type.name, type.name, type.description);
      for (const field of [...(type.fields ?? []), ...(type.inputFields ?? [])]) {
        check(`${type.name}.${field.name}`, field.name, field.description);
        for (const arg of field.args ?? []) check(`${type.name}.${field.name}(${arg.name})`, arg.name, arg.description);
      }
      for (const value of type.enumValues ?? []) check(`${type.name}.${value.name}`, value.name, value.description);
    }
    // The whole result, names and descriptions, for anything the walk above might miss.
    const text = JSON.stringify(answer.body);
    // Exactly these: the secret that createInboundWebhook and rotateInboundWebhookSecret return
    // once (and accept, for senders that bring their own), and that mutation's own name; the
    // outbound signing secret that createOutboundSubscription and rotateOutboundSubscriptionSecret
    // return once, and when the rotated-out one stops signing (a time, never a secret).
    expect(hits.sort()).toEqual([
      'CreateInboundWebhookInput.secret',
      'CreateInboundWebhookPayload.secret',
      'Mutation.createInboundWebhook (description)',
      'Mutation.rotateInboundWebhookSecret',
      'Mutation.rotateInboundWebhookSecret (description)',
      'RotateInboundWebhookSecretInput',
      'RotateInboundWebhookSecretInput.gracePeriodSeconds (description)',
      'RotateInboundWebhookSecretInput.secret',
      'RotateInboundWebhookSecretInput.secret (description)',
      'RotateInboundWebhookSecretPayload',
      'RotateInboundWebhookSecretPayload.previousSecretsExpireAt',
      'RotateInboundWebhookSecretPayload.previousSecretsExpireAt (description)',
      'RotateInboundWebhookSecretPayload.secret',
      'RotateInboundWebhookSecretPayload.secret (description)',
      'CreateOutboundSubscriptionPayload.secret',
      'CreateOutboundSubscriptionPayload.secret (description)',
      'Mutation.createOutboundSubscription (description)',
      'Mutation.deleteOutboundSubscription (description)',
      'Mutation.rotateOutboundSubscriptionSecret',
      'Mutation.rotateOutboundSubscriptionSecret (description)',
      'OutboundSubscription (description)',
      'OutboundSubscription.secretExpiresAt',
      'OutboundSubscription.secretExpiresAt (description)',
      'RotateOutboundSubscriptionSecretInput',
      'RotateOutboundSubscriptionSecretInput.overlapSeconds (description)',
      'RotateOutboundSubscriptionSecretPayload',
      'RotateOutboundSubscriptionSecretPayload.previousSecretsExpireAt',
      'RotateOutboundSubscriptionSecretPayload.previousSecretsExpireAt (description)',
      'RotateOutboundSubscriptionSecretPayload.secret',
      'RotateOutboundSubscriptionSecretPayload.secret (description)',
    ].sort());
    for (const word of [/ciphertext/i, /digest/i, /key_?hash/i, /api_?keys?/i, /intake_private/, /aes256gcm/, /(?<!hmac_)sha256/]) {
      expect(word.test(text), String(word)).toBe(false);
    }
  });
});

describe('rotation', () => {
  it('keeps the old HMAC secret valid for the grace period (24 h by default), then only the new one', async () => {
    const hook = await create('hmac', { auth_type: 'hmac_sha256' });
    expect(await signed('hmac', hook.secret)).toBe(200);

    const first = (await ok(admin, ROTATE, { id: hook.id })).rotateInboundWebhookSecret;
    expect(first.secret).not.toBe(hook.secret);
    expect(first.inboundWebhook).toEqual({ slug: 'hmac' });
    const grace = Date.parse(first.previousSecretsExpireAt) - Date.now();
    expect(grace).toBeGreaterThan(86_400_000 - 60_000);
    expect(grace).toBeLessThanOrEqual(86_400_000);
    expect(await signed('hmac', hook.secret)).toBe(200); // old: still inside its grace period
    expect(await signed('hmac', first.secret)).toBe(200); // new

    // A second rotation with a 1 s grace period: both earlier secrets end then (never later
    // than they already would), the newest works throughout.
    const second = (await ok(admin, ROTATE, { id: hook.id, grace: 1 })).rotateInboundWebhookSecret;
    expect(await signed('hmac', hook.secret)).toBe(200);
    expect(await signed('hmac', first.secret)).toBe(200);
    await sleep(1200);
    expect(await signed('hmac', hook.secret)).toBe(401);
    expect(await signed('hmac', first.secret)).toBe(401);
    expect(await signed('hmac', second.secret)).toBe(200);
    const { rows } = await db.pool.query(
      `select count(*) filter (where expires_at is null)::int as live, count(*)::int as total
         from intake_private.inbound_webhook_secrets where inbound_webhook_id = $1`, [hook.id]);
    expect(rows[0]).toEqual({ live: 1, total: 3 });
  });

  it('rotates bearer tokens (stored as digests) the same way, and takes a brought secret', async () => {
    const hook = await create('tokens', { auth_type: 'bearer' });
    const brought = 'my-own-token-0123456789';
    const rotated = (await ok(admin, ROTATE, { id: hook.id, grace: 0, secret: brought })).rotateInboundWebhookSecret;
    expect(rotated.secret).toBe(brought);
    expect(await bearer('tokens', hook.secret)).toBe(401); // grace 0: the old one ends at once
    expect(await bearer('tokens', brought)).toBe(200);
    expect(await failure(admin, ROTATE, { id: hook.id, secret: 'short' })).toMatchObject({ code: 'VALIDATION' });
    expect(await failure(admin, ROTATE, { id: hook.id, grace: -5 })).toMatchObject({ code: 'VALIDATION' });
  });

  it('refuses a viewer, and ip-allowlist webhooks (which have no secret)', async () => {
    const hook = await create('viewer-rotate', { auth_type: 'hmac_sha256' });
    expect(await failure(viewer, ROTATE, { id: hook.id })).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('inbound_webhook:update') });
    expect(await signed('viewer-rotate', hook.secret)).toBe(200);
    const ips = await create('ips', { auth_type: 'ip_allowlist', cidrs: ['10.0.0.0/8'] });
    expect(await failure(admin, ROTATE, { id: ips.id })).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('no secret') });
  });
});
