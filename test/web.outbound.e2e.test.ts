// The Outbound tab in a real Chromium against the real server, worker and database, sending to a
// real HTTP receiver on loopback that verifies every request with the `standardwebhooks` library
// (loopback and http allowed as an operator would: INTAKE_OUTBOUND_ALLOW_CIDRS/ALLOW_HTTP). An
// admin creates a subscription in the dialog (event types picked by group and by name, a custom
// header), copies the secret shown once, sends a test event and sees it delivered with its
// attempt; the receiver fails, Intake retries on schedule, the admin retries by hand (same
// webhook-id); the receiver answers 410 and the subscription is turned off with its reason shown;
// turned back on, the delivery that failed is recovered with progress; the secret is
// rotated with an overlap during which both secrets verify; a server refusal lands under the URL;
// a viewer sees the list and logs but no write control, and a forged mutation is refused; deep
// links, the pseudo-locale, ids, axe and 1024 px. Screens go to test-results/screens/outbound-*.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../core/access.ts';
import { ensureWebBuild } from '../web/build.ts';
import { axeProblems, choose, graphqlInPage, launchChromium, newContext, newPage, screen, untranslated, withoutId } from './support/browser.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { startReceiver, type TestReceiver } from './support/outbound.ts';
import { makeTenant, startTestServer, waitFor, type TestServer } from './support/server.ts';

const WORKSPACE = 'acme';
const ADMIN = { email: 'admin@acme.example', password: 'correct horse battery staple' };
const VIEWER = { email: 'viewer@acme.example', password: 'viewer password 1234' };
const OUTBOUND_ENV = { INTAKE_OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8', INTAKE_OUTBOUND_ALLOW_HTTP: 'true', INTAKE_OUTBOUND_SWEEP_MS: '50' };
/** the clock every page sees: past the end of the run (about 2.5 minutes), so what happens during it reads "n minutes ago" */
const FIXED_NOW = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 4 * 60_000);

let db: TestDatabase;
let server: TestServer;
let receiver: TestReceiver;
let browser: Browser;
let admin: BrowserContext;
let page: Page;
let tenant = '';
let subscriptionId = '';
let ticketId = '';

async function signIn(p: Page, user: { email: string; password: string }): Promise<void> {
  await p.goto(`${server.url}/sign-in?next=${encodeURIComponent('/settings/webhooks/outbound')}`);
  await p.fill('#sign-in-workspace', WORKSPACE);
  await p.fill('#sign-in-email', user.email);
  await p.fill('#sign-in-password', user.password);
  await p.click('#sign-in-submit');
  await p.waitForURL('**/settings/webhooks/outbound');
}

/** Ticks or unticks a React Aria checkbox by a click on its label, as a user does (its input is visually hidden). */
async function tick(p: Page, id: string): Promise<void> {
  await p.locator('label', { has: p.locator(`#${id}`) }).click();
}

async function deliveryRows(eventType?: string) {
  const { rows } = await db.pool.query(
    `select delivery_id, event_id, status, attempt_count, last_error from intake.outbound_deliveries
      where subscription_id = $1 and ($2::text is null or event_type = $2) order by created_at`,
    [subscriptionId, eventType ?? null],
  );
  return rows as { delivery_id: string; event_id: string; status: string; attempt_count: number; last_error: string | null }[];
}

async function subscriptionRow() {
  const { rows } = await db.pool.query(`select is_active, auto_disabled_at, disabled_reason, failing_since from intake.outbound_subscriptions where subscription_id = $1`, [subscriptionId]);
  return rows[0] as { is_active: boolean; auto_disabled_at: Date | null; disabled_reason: string | null; failing_since: Date | null };
}

async function openDrawer(deliveryId: string): Promise<void> {
  await page.click(`#outbound-delivery-open-${deliveryId}`);
  await page.waitForSelector('#outbound-delivery-drawer');
  await page.waitForFunction((id) => new URL(window.location.href).searchParams.get('delivery') === id, deliveryId);
}

beforeAll(async () => {
  await ensureWebBuild({ quiet: true });
  db = await createTestDatabase();
  server = await startTestServer(db.url, { worker: true, env: OUTBOUND_ENV });
  receiver = await startReceiver();
  tenant = await makeTenant(db.pool, WORKSPACE);
  const client = await db.pool.connect();
  try {
    await createUser(client, WORKSPACE, { email: ADMIN.email, role: 'admin', password: ADMIN.password });
    await createUser(client, WORKSPACE, { email: VIEWER.email, role: 'viewer', password: VIEWER.password });
  } finally {
    client.release();
  }
  browser = await launchChromium();
  admin = await newContext(browser);
  await admin.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  page = await newPage(admin, FIXED_NOW);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await receiver?.close();
  await db?.drop();
});

describe('Settings → Webhooks → Outbound in a browser', () => {
  it('the tab opens on an empty list that says how to start; /settings/webhooks/outbound is its deep link', async () => {
    await signIn(page, ADMIN);
    await page.waitForSelector('text=No subscriptions yet');
    expect(await page.getAttribute('[role=tab]:has(#tab-outbound)', 'aria-selected')).toBe('true');
    await page.goto(`${server.url}/settings/webhooks`);
    await page.click('#tab-outbound');
    await page.waitForSelector('#outbound-create');
    expect(new URL(page.url()).pathname).toBe('/settings/webhooks/outbound');
    await screen(page, 'outbound-01-empty');
    expect(await axeProblems(page)).toEqual([]);
  }, 60_000);

  let secret = '';

  it('creates a subscription: URL, event types by group and by name, a header; the secret is shown once and copies', async () => {
    await page.click('#outbound-create');
    await page.waitForSelector('#outbound-dialog #outbound-events');
    // nothing chosen yet: Save says what is missing, under each field
    await page.click('#outbound-save');
    await page.waitForSelector('#outbound-events-error');
    expect(await page.textContent('#outbound-events-error')).toBe('Choose at least one event type.');
    expect(await page.getAttribute('#outbound-url', 'aria-invalid')).toBe('true');
    await page.fill('#outbound-url', `${receiver.url}/psa`);
    await page.fill('#outbound-description', 'Ops dashboard');
    await tick(page, 'outbound-event-group-ticket');
    // the group covers its types: they show ticked and cannot be unticked one by one
    expect(await page.isChecked('#outbound-event-ticket-created')).toBe(true);
    expect(await page.isDisabled('#outbound-event-ticket-created')).toBe(true);
    await tick(page, 'outbound-event-invoice-paid');
    await page.click('#outbound-header-add');
    await page.fill('#outbound-header-name-0', 'webhook-id');
    await page.waitForSelector('text=webhook-* headers are Intake\'s signature.');
    await page.fill('#outbound-header-name-0', 'X-Team');
    await page.fill('#outbound-header-value-0', 'ops');
    await page.evaluate(() => document.querySelector('.overlay')?.scrollTo(0, 0));
    await screen(page, 'outbound-02-dialog');
    expect(await axeProblems(page)).toEqual([]);
    expect(await withoutId(page)).toEqual([]);
    await page.click('#outbound-save');

    await page.waitForSelector('#outbound-secret');
    secret = (await page.textContent('#outbound-secret'))!.trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await page.click('#outbound-secret-copy');
    await page.waitForSelector('#outbound-secret-copy >> text=Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await screen(page, 'outbound-03-secret');
    expect(await axeProblems(page)).toEqual([]);
    await page.click('#outbound-secret-done');

    const { rows } = await db.pool.query(`select subscription_id, url, event_types, headers, description from intake.outbound_subscriptions where tenant = $1`, [tenant]);
    expect(rows).toEqual([{ subscription_id: expect.any(String), url: `${receiver.url}/psa`, event_types: ['ticket.*', 'invoice.paid'], headers: { 'X-Team': 'ops' }, description: 'Ops dashboard' }]);
    subscriptionId = rows[0].subscription_id;
    await page.waitForSelector(`#outbound-row-${subscriptionId}`);
    // shown once: it is nowhere on the page any more
    expect(await page.evaluate(() => document.body.innerText)).not.toContain('whsec_');
    expect(await page.textContent(`#outbound-row-${subscriptionId}`)).toContain('ticket.*');
    await screen(page, 'outbound-04-list');
    expect(await axeProblems(page)).toEqual([]);
    receiver.secrets = [secret];
  }, 60_000);

  it('sends a test event: the drawer follows it to Delivered, with its attempt, and the receiver verified it', async () => {
    await page.click(`#outbound-open-${subscriptionId}`);
    await page.waitForSelector('#outbound-test');
    expect(new URL(page.url()).pathname).toBe(`/settings/webhooks/outbound/${subscriptionId}`);
    await page.waitForSelector('text=No deliveries yet');
    await screen(page, 'outbound-05-subscription-empty');
    await page.click('#outbound-test');
    await page.waitForSelector('#outbound-test-dialog');
    await choose(page, 'outbound-test-type', 'invoice.paid');
    await page.click('#outbound-test-send');
    await page.waitForSelector('#outbound-delivery-drawer');
    await page.waitForSelector('#outbound-delivery-status >> text=Delivered', { timeout: 10_000 });
    const request = receiver.requests.find((r) => r.path === '/psa')!;
    expect(request.verifiedBy).toEqual([0]);
    expect(request.headers['x-team']).toBe('ops');
    expect(JSON.parse(request.body)).toMatchObject({ type: 'invoice.paid', data: { test: true } });
    expect((await page.textContent('#outbound-delivery-webhook-id'))!.trim()).toBe(request.headers['webhook-id']);
    await page.waitForSelector('#outbound-attempt-1 >> text=HTTP 200');
    expect(await page.textContent('#outbound-attempt-1')).toContain('Test');
    expect(await page.textContent('#outbound-delivery-body')).toContain('"invoice.paid"');
    await screen(page, 'outbound-06-test-delivered');
    expect(await axeProblems(page)).toEqual([]);
    expect(await withoutId(page)).toEqual([]);
    await page.click('#outbound-delivery-tab-response');
    await page.waitForSelector('#outbound-response-body >> text=ok');
    await page.click('#outbound-delivery-close');
    await page.waitForSelector('#outbound-delivery-log');
    expect(await page.locator('#outbound-delivery-log tbody tr').count()).toBe(1);
  }, 60_000);

  it('a failing receiver: Intake retries on schedule and says so; "Retry now" re-sends with the same webhook-id', async () => {
    receiver.answer = () => ({ status: 500, body: 'database is down' });
    const { rows: [t] } = await db.pool.query(
      `insert into psa.tickets (tenant, ticket_number, title, board_id, status_id, priority_id)
       select $1, 'T-1', 'Printer down', b.board_id, s.status_id, p.priority_id
         from psa.boards b, psa.statuses s, psa.priorities p
        where b.tenant = $1 and b.is_default and s.tenant = $1 and s.status_type = 'ticket' and s.is_default and p.tenant = $1 and p.is_default
       returning ticket_id`, [tenant]);
    ticketId = t.ticket_id;
    // the first attempt at once, the second about 5 s later (Svix's schedule), the third minutes away
    const [failing] = await waitFor(async () => {
      const rows = await deliveryRows('ticket.created');
      return rows[0]?.attempt_count === 2 ? rows : undefined;
    }, 20_000, 'two failed attempts');
    expect(failing!.status).toBe('pending');
    await page.waitForSelector('#outbound-failing-notice', { timeout: 10_000 });
    await page.waitForSelector(`#outbound-delivery-row-${failing!.delivery_id} >> text=HTTP 500`);
    await openDrawer(failing!.delivery_id);
    await page.waitForSelector('#outbound-attempt-2 >> text=HTTP 500');
    await page.waitForSelector('#outbound-attempt-next');
    await screen(page, 'outbound-07-failing');
    await page.click('#outbound-delivery-tab-response');
    await page.waitForSelector('#outbound-response-body >> text=database is down');

    receiver.answer = () => ({ status: 200, body: 'ok' });
    await page.click('#outbound-retry');
    await page.waitForSelector('#outbound-retry-dialog');
    await screen(page, 'outbound-08-retry-confirm');
    await page.click('#outbound-retry-confirm');
    await page.waitForSelector('#outbound-delivery-status >> text=Delivered', { timeout: 10_000 });
    await page.waitForSelector('#outbound-attempt-3 >> text=HTTP 200');
    expect(await page.textContent('#outbound-attempt-3')).toContain('Retry');
    await screen(page, 'outbound-09-retried');
    const { rows: attempts } = await db.pool.query(`select trigger, response_status from intake.outbound_attempts where delivery_id = $1 order by attempt_number`, [failing!.delivery_id]);
    expect(attempts).toEqual([{ trigger: 'scheduled', response_status: 500 }, { trigger: 'scheduled', response_status: 500 }, { trigger: 'manual', response_status: 200 }]);
    const ids = receiver.requests.filter((r) => JSON.parse(r.body).type === 'ticket.created').map((r) => r.headers['webhook-id']);
    expect(ids).toEqual([failing!.event_id, failing!.event_id, failing!.event_id]);
    await page.click('#outbound-delivery-close');
    // a success ends the failing streak, and its notice
    await page.waitForSelector('#outbound-failing-notice', { state: 'detached', timeout: 10_000 });
  }, 90_000);

  it('a 410 turns the subscription off; the page and the list say so, with the reason', async () => {
    receiver.answer = () => ({ status: 410, body: 'gone' });
    await db.pool.query(`update psa.tickets set title = 'Printer on fire' where ticket_id = $1`, [ticketId]);
    await waitFor(async () => ((await subscriptionRow()).auto_disabled_at ? true : undefined), 15_000, 'the subscription to be turned off');
    expect((await subscriptionRow()).disabled_reason).toBe('the receiver answered 410 Gone');
    await page.waitForSelector('#outbound-disabled-notice', { timeout: 10_000 });
    expect(await page.textContent('#outbound-disabled-reason')).toBe('the receiver answered 410 Gone');
    // while off, Intake makes no delivery to it: the next change's event is fanned out past it
    const before = receiver.requests.length;
    await db.pool.query(`update psa.tickets set title = 'Printer replaced' where ticket_id = $1`, [ticketId]);
    await waitFor(async () => {
      const { rows } = await db.pool.query(
        `select 1 from intake.outbound_events where tenant = $1 and payload->'data'->'changes'->'title'->>'to' = 'Printer replaced' and fanned_out_at is not null`, [tenant]);
      return rows.length === 1 ? true : undefined;
    }, 15_000, 'the change made while off to be fanned out');
    expect((await deliveryRows('ticket.updated')).map((d) => d.status)).toEqual(['failed']);
    expect(receiver.requests.length).toBe(before);
    await page.waitForFunction(() => document.querySelectorAll('#outbound-delivery-log tbody tr').length === 3);
    await screen(page, 'outbound-10-auto-disabled');
    expect(await axeProblems(page)).toEqual([]);

    await page.click('#outbound-back');
    await page.waitForSelector('#outbound-disabled-banner');
    expect(await page.textContent('#outbound-disabled-banner')).toContain('the receiver answered 410 Gone');
    expect(await page.textContent(`#outbound-row-${subscriptionId}`)).toContain('Turned off by Intake');
    await screen(page, 'outbound-11-list-disabled');
    await page.click(`#outbound-disabled-link-${subscriptionId}`);
    await page.waitForSelector('#outbound-disabled-notice');
  }, 60_000);

  it('recover: not while off; turned back on, the failed delivery is counted, re-sent with progress, and arrives', async () => {
    receiver.answer = () => ({ status: 200, body: 'ok' });
    await page.click('#outbound-recover');
    await page.waitForSelector('#outbound-recover-count');
    expect(await page.textContent('#outbound-recover-dialog')).toContain('Turn the subscription back on first');
    expect(await page.isDisabled('#outbound-recover-start')).toBe(true);
    await page.click('#outbound-recover-close');

    await page.click('#outbound-reenable');
    await page.waitForSelector('#outbound-disabled-notice', { state: 'detached' });
    expect(await subscriptionRow()).toMatchObject({ is_active: true, auto_disabled_at: null, disabled_reason: null });
    await page.click('#outbound-recover');
    await page.waitForSelector('#outbound-recover-count');
    expect(await page.textContent('#outbound-recover-count')).toBe('1 failed delivery will be sent again.');
    await screen(page, 'outbound-12-recover');
    expect(await axeProblems(page)).toEqual([]);
    await page.click('#outbound-recover-start');
    await page.waitForSelector('#outbound-recover-dialog >> text=Done.', { timeout: 15_000 });
    expect(await page.textContent('#outbound-recover-progress')).toBe('1 of 1 sent again.');
    await screen(page, 'outbound-13-recovered');
    await page.click('#outbound-recover-close');
    const updated = await waitFor(async () => {
      const rows = await deliveryRows('ticket.updated');
      return rows.every((d) => d.status === 'succeeded') ? rows : undefined;
    }, 15_000, 'the recovered deliveries to succeed');
    const received = receiver.requests.filter((r) => r.verifiedBy.length > 0 && JSON.parse(r.body).type === 'ticket.updated').map((r) => r.headers['webhook-id']);
    for (const d of updated) expect(received).toContain(d.event_id);
  }, 60_000);

  it('rotates the secret with an overlap: the new one is shown once, and both verify meanwhile', async () => {
    await page.click('#outbound-rotate');
    await page.waitForSelector('#outbound-rotate-dialog');
    await screen(page, 'outbound-14-rotate');
    expect(await axeProblems(page)).toEqual([]);
    await page.click('#outbound-rotate-confirm');
    await page.waitForSelector('#outbound-secret-dialog >> text=New signing secret');
    const rotated = (await page.textContent('#outbound-secret'))!.trim();
    expect(rotated).not.toBe(secret);
    expect(await page.textContent('#outbound-secret-dialog')).toContain('The previous secret keeps signing beside the new one until');
    await screen(page, 'outbound-15-rotated');
    await page.click('#outbound-secret-done');
    await page.waitForSelector('#outbound-secret-state >> text=Rotating');
    receiver.secrets = [secret, rotated];
    const before = receiver.requests.length;
    await page.click('#outbound-test');
    await page.click('#outbound-test-send');
    await page.waitForSelector('#outbound-delivery-status >> text=Delivered', { timeout: 10_000 });
    const request = receiver.requests.slice(before).find((r) => JSON.parse(r.body).data?.test === true)!;
    expect(request.verifiedBy).toEqual([0, 1]);
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
    await page.click('#outbound-delivery-close');
  }, 60_000);

  it('edits: the form holds what was saved, and a refused URL is explained under the URL', async () => {
    await page.click('#outbound-edit');
    await page.waitForSelector('#outbound-dialog');
    expect(await page.inputValue('#outbound-url')).toBe(`${receiver.url}/psa`);
    expect(await page.inputValue('#outbound-header-value-0')).toBe('ops');
    expect(await page.isChecked('#outbound-event-invoice-paid')).toBe(true);
    await page.fill('#outbound-url', 'https://10.0.0.1/hook');
    await page.click('#outbound-save');
    const message = await page.waitForFunction(() => {
      const input = document.querySelector('#outbound-url');
      const ids = input?.getAttribute('aria-describedby')?.split(' ') ?? [];
      const text = ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
      return input?.getAttribute('aria-invalid') === 'true' && /private address/.test(text) ? text : false;
    });
    expect(String(await message.jsonValue())).not.toMatch(/^url: /);
    await page.evaluate(() => document.querySelector('#outbound-url')?.scrollIntoView({ block: 'center' }));
    await screen(page, 'outbound-16-dialog-server-error');
    await page.click('#outbound-cancel');
    expect((await db.pool.query(`select url from intake.outbound_subscriptions where subscription_id = $1`, [subscriptionId])).rows[0].url).toBe(`${receiver.url}/psa`);
  }, 60_000);

  it('a deep link to a delivery opens its drawer on the Outbound tab; the pages fit 1024 px', async () => {
    const [delivery] = await deliveryRows('ticket.created');
    await page.goto(`${server.url}/settings/webhooks/outbound/${subscriptionId}?delivery=${delivery!.delivery_id}`);
    await page.waitForSelector('#outbound-attempt-3');
    expect(await page.getAttribute('[role=tab]:has(#tab-outbound)', 'aria-selected')).toBe('true');
    await page.click('#outbound-delivery-close');
    await page.setViewportSize({ width: 1024, height: 768 });
    try {
      for (const url of ['/settings/webhooks/outbound', `/settings/webhooks/outbound/${subscriptionId}`]) {
        await page.goto(`${server.url}${url}`);
        await page.waitForSelector('#outbound-list, #outbound-delivery-log');
        expect(await page.evaluate(() => document.documentElement.scrollWidth), url).toBeLessThanOrEqual(1024);
      }
      await screen(page, 'outbound-17-subscription-1024');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  }, 60_000);

  it('shows no untranslated text in the pseudo-locale, and every control has an id', async () => {
    const [delivery] = await deliveryRows('ticket.created');
    const screens: [string, string][] = [
      ['/settings/webhooks/outbound?lng=pseudo', `#outbound-row-${subscriptionId}`],
      [`/settings/webhooks/outbound/${subscriptionId}`, '#outbound-delivery-log'],
      [`/settings/webhooks/outbound/${subscriptionId}?delivery=${delivery!.delivery_id}`, '#outbound-attempt-3'],
    ];
    for (const [url, ready] of screens) {
      await page.goto(`${server.url}${url}`);
      await page.waitForSelector(ready);
      await page.waitForTimeout(200);
      expect(await untranslated(page), url).toEqual([]);
      expect(await withoutId(page), url).toEqual([]);
    }
    await page.goto(`${server.url}/settings/webhooks/outbound`);
    await page.click(`#outbound-menu-${subscriptionId}`);
    await page.waitForSelector(`#outbound-edit-${subscriptionId}`);
    expect(await untranslated(page), 'row menu').toEqual([]);
    expect(await withoutId(page), 'row menu').toEqual([]);
    await page.click(`#outbound-edit-${subscriptionId}`);
    await page.waitForSelector('#outbound-events');
    expect(await untranslated(page), 'dialog').toEqual([]);
    await screen(page, 'outbound-18-pseudo-dialog');
    await page.click('#outbound-cancel');
    for (const [button, dialog] of [['outbound-rotate', 'outbound-rotate-dialog'], ['outbound-recover', 'outbound-recover-count'], ['outbound-test', 'outbound-test-dialog']] as const) {
      await page.goto(`${server.url}/settings/webhooks/outbound/${subscriptionId}`);
      await page.click(`#${button}`);
      await page.waitForSelector(`#${dialog}`);
      expect(await untranslated(page), button).toEqual([]);
      expect(await withoutId(page), button).toEqual([]);
    }
    await page.goto(`${server.url}/settings/webhooks/outbound?lng=en`);
    await page.waitForSelector('text=Outbound webhooks');
  }, 60_000);

  it('a viewer sees the list, the log and the drawer, but no control that changes anything; a forged mutation is refused', async () => {
    const context = await newContext(browser);
    const viewer = await newPage(context, FIXED_NOW);
    try {
      await signIn(viewer, VIEWER);
      await viewer.waitForSelector(`#outbound-row-${subscriptionId}`);
      expect(await viewer.$('#outbound-create')).toBeNull();
      expect(await viewer.$eval(`#outbound-active-${subscriptionId}`, (el) => (el instanceof HTMLInputElement ? el : el.querySelector('input'))!.disabled)).toBe(true);
      await viewer.click(`#outbound-menu-${subscriptionId}`);
      await viewer.waitForSelector(`#outbound-deliveries-${subscriptionId}`);
      for (const id of ['edit', 'test', 'rotate', 'delete']) expect(await viewer.$(`#outbound-${id}-${subscriptionId}`), id).toBeNull();
      await screen(viewer, 'outbound-19-viewer-menu');
      await viewer.click(`#outbound-deliveries-${subscriptionId}`);
      await viewer.waitForSelector('#outbound-delivery-log');
      for (const id of ['outbound-test', 'outbound-recover', 'outbound-rotate', 'outbound-edit', 'outbound-delete', 'outbound-reenable']) expect(await viewer.$(`#${id}`), id).toBeNull();
      const [delivery] = await deliveryRows('ticket.created');
      await viewer.click(`#outbound-delivery-open-${delivery!.delivery_id}`);
      await viewer.waitForSelector('#outbound-attempt-3');
      expect(await viewer.$('#outbound-retry')).toBeNull();
      await screen(viewer, 'outbound-20-viewer-drawer');
      const forged = await graphqlInPage(viewer, `mutation($id: UUID!) { sendOutboundTestEvent(input: {subscriptionId: $id}) { clientMutationId } }`, { id: subscriptionId });
      expect(forged.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const retry = await graphqlInPage(viewer, `mutation($id: UUID!) { retryOutboundDelivery(input: {deliveryId: $id}) { clientMutationId } }`, { id: delivery!.delivery_id });
      expect(retry.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('deletes from the row menu after a confirmation', async () => {
    await page.goto(`${server.url}/settings/webhooks/outbound`);
    await page.click(`#outbound-menu-${subscriptionId}`);
    await page.click(`#outbound-delete-${subscriptionId}`);
    await page.waitForSelector('#outbound-delete-dialog');
    await screen(page, 'outbound-21-delete');
    expect(await axeProblems(page)).toEqual([]);
    await page.click('#outbound-delete-confirm');
    await page.waitForSelector('text=No subscriptions yet');
    expect((await db.pool.query(`select count(*)::int as n from intake.outbound_subscriptions where tenant = $1`, [tenant])).rows[0].n).toBe(0);
  }, 60_000);
});
