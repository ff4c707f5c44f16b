// Outbound subscriptions through GraphQL: create returns the whsec_ secret once and it is never
// readable after; the URL, event types and headers are checked with clear errors naming the
// field (a private or metadata address refused at save time); viewers read but cannot write;
// rotation keeps the old secret signing for an overlap of at most 7 days; another tenant sees
// nothing; the event-type catalogue is there for the picker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOUND_EVENT_TYPES } from '../core/outboundEvents.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { failure, graphqlClient, ok, userWithKey, type GraphqlRequest } from './support/graphql.ts';
import { makeTenant, startTestServer, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
let admin: GraphqlRequest;
let viewer: GraphqlRequest;
let stranger: GraphqlRequest;

const CREATE = `mutation ($input: CreateOutboundSubscriptionInput!) {
  createOutboundSubscription(input: $input) { secret outboundSubscription { subscriptionId url eventTypes headers isActive secretExpiresAt } } }`;
const ROTATE = `mutation ($id: UUID!, $overlap: Int) {
  rotateOutboundSubscriptionSecret(input: {subscriptionId: $id, overlapSeconds: $overlap}) {
    secret previousSecretsExpireAt outboundSubscription { secretExpiresAt } } }`;

async function create(input: Record<string, unknown>) {
  const { createOutboundSubscription } = await ok(admin, CREATE, { input });
  return createOutboundSubscription as { secret: string; outboundSubscription: Record<string, any> };
}

beforeAll(async () => {
  db = await createTestDatabase();
  // loopback is allowed here (as an operator would allow an internal range), nothing else private
  server = await startTestServer(db.url, { worker: false, env: { INTAKE_OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8', INTAKE_OUTBOUND_ALLOW_HTTP: 'true' } });
  await makeTenant(db.pool, 'acme');
  await makeTenant(db.pool, 'other');
  admin = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'admin')).key);
  viewer = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'viewer')).key);
  stranger = graphqlClient(server.url, (await userWithKey(db.pool, 'other', 'admin')).key);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe('createOutboundSubscription', () => {
  it('returns a whsec_ secret once, stores it sealed, and the subscription as asked', async () => {
    const created = await create({ url: 'http://127.0.0.1:9/hook', eventTypes: ['ticket.*', 'invoice.paid'], headers: { 'X-Team': 'ops' } });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.outboundSubscription).toMatchObject({ url: 'http://127.0.0.1:9/hook', eventTypes: ['ticket.*', 'invoice.paid'], headers: { 'X-Team': 'ops' }, isActive: true, secretExpiresAt: null });
    const { rows } = await db.pool.query(`select secret from intake_private.outbound_subscription_secrets where subscription_id = $1`, [created.outboundSubscription.subscriptionId]);
    expect(rows).toHaveLength(1);
    expect(rows[0].secret.toString('latin1')).not.toContain(created.secret.slice(6));
    // the viewer reads it, without any secret field to ask for
    const { outboundSubscription } = await ok(viewer, `query ($id: UUID!) { outboundSubscription(subscriptionId: $id) { url } }`, { id: created.outboundSubscription.subscriptionId });
    expect(outboundSubscription.url).toBe('http://127.0.0.1:9/hook');
    const asked = await failure(viewer, `query ($id: UUID!) { outboundSubscription(subscriptionId: $id) { secret } }`, { id: created.outboundSubscription.subscriptionId });
    expect(asked.message).toMatch(/Cannot query field "secret"/);
  });

  it.each([
    [{ url: 'https://169.254.169.254/latest/meta-data' }, 'url', /169\.254\.169\.254 is a link-local address/],
    [{ url: 'https://[::ffff:10.0.0.1]/hook' }, 'url', /10\.0\.0\.1 is a private address/],
    [{ url: 'https://10.1.2.3/hook' }, 'url', /private address/],
    [{ url: 'ftp://example.com/hook' }, 'url', /must be https/],
    [{ url: 'not a url' }, 'url', /not a URL/],
    [{ eventTypes: ['tickt.created'] }, 'eventTypes', /unknown event type "tickt.created"/],
    [{ eventTypes: ['nothing.*'] }, 'eventTypes', /unknown entity "nothing"/],
    [{ eventTypes: [] }, 'eventTypes', /at least one event type/],
    [{ headers: { 'webhook-id': 'x' } }, 'headers', /webhook-id is reserved/],
    [{ headers: { 'Bad Header': 'x' } }, 'headers', /not a valid header name/],
    [{ rateLimitPerMinute: 0 }, 'rateLimitPerMinute', /./],
  ])('refuses %j with VALIDATION naming %s', async (change, field, message) => {
    const answer = await failure(admin, CREATE, { input: { url: 'http://127.0.0.1:9/hook', eventTypes: ['*'], ...change } });
    expect(answer.code).toBe('VALIDATION');
    expect(answer.message.startsWith(`${field}: `)).toBe(true);
    expect(answer.message).toMatch(message);
  });

  it('lets a viewer read but not create', async () => {
    const answer = await failure(viewer, CREATE, { input: { url: 'http://127.0.0.1:9/hook', eventTypes: ['*'] } });
    expect(answer.code).toBe('FORBIDDEN');
    expect(answer.message).toMatch(/outbound_webhook:create/);
  });
});

describe('updateOutboundSubscription, rotate, delete', () => {
  it('changes what the patch names and checks the result as a whole', async () => {
    const { outboundSubscription: s } = await create({ url: 'http://127.0.0.1:9/a', eventTypes: ['*'], description: 'first' });
    const { updateOutboundSubscription } = await ok(admin, `mutation ($id: UUID!, $patch: OutboundSubscriptionSettingsPatch!) {
      updateOutboundSubscription(input: {subscriptionId: $id, patch: $patch}) { outboundSubscription { url description eventTypes rateLimitPerMinute } } }`,
    { id: s.subscriptionId, patch: { eventTypes: ['client.created'], rateLimitPerMinute: 60 } });
    expect(updateOutboundSubscription.outboundSubscription).toEqual({ url: 'http://127.0.0.1:9/a', description: 'first', eventTypes: ['client.created'], rateLimitPerMinute: 60 });
    const refused = await failure(admin, `mutation ($id: UUID!) { updateOutboundSubscription(input: {subscriptionId: $id, patch: {url: "https://192.168.1.1/"}}) { outboundSubscription { url } } }`, { id: s.subscriptionId });
    expect(refused).toMatchObject({ code: 'VALIDATION' });
    expect(refused.message).toMatch(/^url: refused: 192\.168\.1\.1 is a private address/);
  });

  it('rotates with a default 24 h overlap, at most 7 days', async () => {
    const { outboundSubscription: s, secret: first } = await create({ url: 'http://127.0.0.1:9/r', eventTypes: ['*'] });
    const before = Date.now();
    const { rotateOutboundSubscriptionSecret: r } = await ok(admin, ROTATE, { id: s.subscriptionId });
    expect(r.secret).toMatch(/^whsec_/);
    expect(r.secret).not.toBe(first);
    const until = Date.parse(r.previousSecretsExpireAt);
    expect(until - before).toBeGreaterThan(86_400_000 - 60_000);
    expect(until - before).toBeLessThan(86_400_000 + 60_000);
    expect(Date.parse(r.outboundSubscription.secretExpiresAt)).toBe(until);
    const tooLong = await failure(admin, ROTATE, { id: s.subscriptionId, overlap: 7 * 86_400 + 1 });
    expect(tooLong.code).toBe('VALIDATION');
    expect(tooLong.message).toMatch(/^overlapSeconds: must be a whole number from 0 to 604800/);
    const { rows } = await db.pool.query(`select count(*)::int as n from intake_private.outbound_subscription_secrets where subscription_id = $1`, [s.subscriptionId]);
    expect(rows[0].n).toBe(2);
  });

  it('deletes; another tenant neither sees nor deletes it', async () => {
    const { outboundSubscription: s } = await create({ url: 'http://127.0.0.1:9/d', eventTypes: ['*'] });
    const { outboundSubscription: seen } = await ok(stranger, `query ($id: UUID!) { outboundSubscription(subscriptionId: $id) { url } }`, { id: s.subscriptionId });
    expect(seen).toBeNull();
    const theirs = await failure(stranger, `mutation ($id: UUID!) { deleteOutboundSubscription(input: {subscriptionId: $id}) { outboundSubscription { url } } }`, { id: s.subscriptionId });
    expect(theirs.code).toBe('NOT_FOUND');
    const { deleteOutboundSubscription } = await ok(admin, `mutation ($id: UUID!) { deleteOutboundSubscription(input: {subscriptionId: $id}) { outboundSubscription { url } } }`, { id: s.subscriptionId });
    expect(deleteOutboundSubscription.outboundSubscription.url).toBe('http://127.0.0.1:9/d');
  });
});

it('lists every event type for the picker, grouped by entity', async () => {
  const { outboundEventTypes } = await ok(viewer, `{ outboundEventTypes { name entity description } }`);
  expect(outboundEventTypes).toEqual(OUTBOUND_EVENT_TYPES);
  expect(outboundEventTypes.map((t: { name: string }) => t.name)).toContain('inbound.delivery.failed');
});
