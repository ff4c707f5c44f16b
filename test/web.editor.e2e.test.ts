// The mapping editor in a real Chromium (Debian's /usr/bin/chromium via playwright-core) against
// the real server, worker and database, the way an MSP admin maps an Alertmanager alert: capture
// a real signed request as the sample → type a path and accept a completion with the keyboard →
// the preview and a type warning → fix it → dry-run against a past delivery → save (a draft that
// fails its dry run asks first) → the next real request makes the ticket the preview promised;
// versions and their diff, the delivery's configuration version, replay with the dispatched
// configuration; restore and clear sample; a workflow's steps in the same editor; a runaway
// expression leaves the page responsive. Screens go to
// test-results/screens/ (1280×800, en-US, UTC).
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../core/access.ts';
import { PROJECT_ROOT } from '../core/env.ts';
import { createTenant } from '../core/tenants.ts';
import { createWorkflow } from '../core/workflows.ts';
import { ensureWebBuild } from '../web/build.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { actionWebhook, postSigned } from './support/inbound.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENS = path.join(PROJECT_ROOT, 'test-results', 'screens');
const WORKSPACE = 'acme';
const ADMIN = { email: 'admin@acme.example', password: 'correct horse battery staple' };
const ALERT = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'samples', 'alertmanager-alert.firing.json'), 'utf8'));

let db: TestDatabase;
let server: TestServer;
let browser: Browser;
let page: Page;
let hook: { secret: string | null; url: string; id: string };

/** The same Alertmanager alert for another alert name and group (so it is no duplicate). */
function alertFor(alertname: string): Record<string, unknown> {
  return {
    ...ALERT,
    groupKey: `{}:{alertname="${alertname}"}`,
    commonLabels: { ...ALERT.commonLabels, alertname },
    groupLabels: { alertname },
    alerts: ALERT.alerts.map((a: any) => ({ ...a, labels: { ...a.labels, alertname } })),
  };
}

async function send(body: unknown): Promise<string> {
  const answer = await postSigned(server.url, WORKSPACE, 'alerts', hook.secret!, body);
  expect(answer.status).toBe(200);
  return answer.body.delivery_id;
}

async function settled(deliveryId: string): Promise<any> {
  for (let i = 0; i < 100; i++) {
    const { rows } = await db.pool.query('select dispatch_status, handler_outcome, error_message from intake.inbound_webhook_deliveries where delivery_id = $1', [deliveryId]);
    if (rows[0] && rows[0].dispatch_status !== 'pending') return rows[0];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`delivery ${deliveryId} was not dispatched`);
}

async function screen(name: string): Promise<void> {
  await page.waitForTimeout(250);
  await page.screenshot({ path: path.join(SCREENS, `${name}.png`) });
}

/**
 * A smaller screenshot for the docs (docs/screens/editor-*.png are copies): the part of the
 * viewport that `selector` covers, from the top of `topOf` (or its own), at most `maxHeight` tall.
 */
async function docScreen(name: string, selector: string, maxHeight = 800, topOf = selector): Promise<void> {
  await page.waitForTimeout(250);
  const box = (await page.locator(selector).first().boundingBox())!;
  const top = (await page.locator(topOf).first().boundingBox())!.y;
  const viewport = page.viewportSize()!;
  const x = Math.max(0, box.x - 12);
  const y = Math.max(0, top - 12);
  const width = Math.min(viewport.width, box.x + box.width + 12) - x;
  const height = Math.min(viewport.height, box.y + box.height + 12, y + maxHeight) - y;
  await page.screenshot({ path: path.join(SCREENS, `docs-${name}.png`), clip: { x, y, width, height } });
}

/** The text of a field's editor (CodeMirror's content element carries the stable id). */
const editorText = (field: string) => page.$eval(`#mapping-${field}`, (el) => (el as HTMLElement).innerText.replace(/\n$/, ''));

/** Waits for the completion list to offer `label`; CodeMirror ignores keys in its first 75 ms (interactionDelay). */
async function offered(label: string): Promise<void> {
  await page.waitForSelector(`.cm-tooltip-autocomplete >> text=${label}`);
  await page.waitForTimeout(150);
}

/** Replaces a field's expression by typing it, as a user would (select all, type). */
async function typeInto(field: string, text: string): Promise<void> {
  await page.click(`#mapping-${field}`);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text);
}

beforeAll(async () => {
  fs.mkdirSync(SCREENS, { recursive: true });
  await ensureWebBuild({ quiet: true });
  db = await createTestDatabase();
  server = await startTestServer(db.url, { worker: true });
  const client = await db.pool.connect();
  try {
    await createTenant(client, { slug: WORKSPACE, name: 'Acme MSP' });
    await createUser(client, WORKSPACE, { email: ADMIN.email, role: 'admin', password: ADMIN.password });
  } finally {
    client.release();
  }
  // the webhook as first made: a title that is only the group key
  const created = await actionWebhook(db.pool, WORKSPACE, 'alerts', 'createTicket', { title: 'groupKey' });
  const { rows } = await db.pool.query('select inbound_webhook_id from intake.inbound_webhooks where slug = $1', ['alerts']);
  hook = { ...created, id: rows[0].inbound_webhook_id };
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', timezoneId: 'UTC', colorScheme: 'light' });
  page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error.message));
  await page.goto(`${server.url}/sign-in`);
  await page.fill('#sign-in-workspace', WORKSPACE);
  await page.fill('#sign-in-email', ADMIN.email);
  await page.fill('#sign-in-password', ADMIN.password);
  await page.click('#sign-in-submit');
  await page.waitForSelector('#webhook-row-alerts');
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await db?.drop();
});

describe('the mapping editor in a browser', () => {
  let pastDelivery = '';

  it('captures a real signed request as the sample: countdown, listening, the tree fills in without a reload', async () => {
    // a delivery from before, to dry-run against later
    pastDelivery = await send(alertFor('DiskFull'));
    await settled(pastDelivery);

    await page.click('#webhook-menu-alerts');
    await page.click('#webhook-edit-alerts');
    await page.waitForSelector('#mapping-title');
    await page.evaluate(() => document.querySelector('#webhook-dialog .mapping-layout')?.scrollIntoView());
    await page.click('#capture-sample');
    await page.waitForSelector('#sample-listening');
    expect(await page.textContent('#sample-listening')).toMatch(/Listening… .* [45]:\d\d/);
    await screen('30-editor-listening');
    const url = page.url();
    await send(ALERT);
    await page.waitForSelector('#sample-tree >> text=commonLabels', { timeout: 10_000 });
    expect(page.url()).toBe(url);
    expect(await page.$('#sample-listening')).toBeNull();
    expect(await page.textContent('#sample-tree')).toContain('"InstanceDown"');
  }, 120_000);

  it('completes a path from the sample with the keyboard; the preview shows a type warning, then ✓ when fixed', async () => {
    await typeInto('title', 'comm');
    await offered('commonLabels');
    const list = await page.$$eval('.cm-tooltip-autocomplete li', (lis) => lis.map((li) => li.textContent ?? ''));
    expect(list[0]).toMatch(/^commonLabels\s*object\s*\{4\}/);
    await screen('31-editor-completion');
    await docScreen('editor-completion', '#webhook-dialog .mapping-layout', 420);
    await page.keyboard.press('Enter');
    expect(await editorText('title')).toBe('commonLabels');
    // an object into a text field: a warning in the preview and on the expression
    await page.waitForSelector('#preview-title >> text=expected text, got object');
    expect(await page.getAttribute('#mapping-title', 'aria-describedby')).toContain('preview-title');
    await page.waitForSelector('#webhook-dialog .cm-lintRange-warning');
    await screen('32-editor-type-warning');
    await docScreen('editor-type-warning', '#webhook-dialog .mapping-layout', 420);

    await page.keyboard.type('.al');
    await offered('alertname');
    await page.keyboard.press('Enter');
    expect(await editorText('title')).toBe('commonLabels.alertname');
    await page.waitForSelector('#preview-title >> text=fits the field');
    expect(await page.textContent('#preview-title')).toContain('"InstanceDown"');

    // a key missing from the sample is a warning with the closest key
    await typeInto('description', 'alerts[0].annotations.sumary');
    await page.hover('#mapping-description .cm-lintRange-warning');
    await page.waitForSelector('.cm-tooltip-hover >> text=did you mean "summary"?');
    await screen('33-editor-missing-path');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('mary');
    await page.waitForSelector('#preview-description >> text=Instance web-01.example.internal:9100 down');
  }, 120_000);

  it('clicking a node of the sample tree inserts its path at the cursor of the focused field', async () => {
    await typeInto('priority', '');
    await page.click('#sample-node-commonLabels_severity');
    expect(await editorText('priority')).toBe('commonLabels.severity');
    await page.waitForSelector('#preview-priority >> text=critical');
    await docScreen('editor-sample-tree', '#webhook-dialog .mapping-layout', 700);
  }, 30_000);

  it('a runaway expression leaves the page responsive, and its preview says it was stopped', async () => {
    // pasted, as such an expression would be (a catastrophic regex: jsonata's own limits cannot stop it)
    await typeInto('contact', '');
    await page.keyboard.insertText('$replace("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /^(a+)+$/, "x")');
    // while the worker is busy, the page answers at once and the other fields still preview
    const started = Date.now();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
    expect(Date.now() - started).toBeLessThan(500);
    try {
      await typeInto('asset', 'fingerprint');
      await page.waitForSelector('#preview-contact >> text=Stopped: the expression ran longer than 1.5 seconds.', { timeout: 10_000 });
      await page.waitForSelector('#preview-asset >> text=no value');
      await screen('34-editor-runaway');
    } finally {
      await typeInto('contact', '');
      await typeInto('asset', '');
    }
  }, 120_000);

  it('dry-runs the draft against a past delivery: every field, what would happen, and nothing is left behind', async () => {
    const tickets = async () => (await db.pool.query('select count(*)::int as n from psa.tickets')).rows[0].n;
    const before = await tickets();
    await typeInto('title', 'commonLabels.alertname & " on " & commonLabels.instance');
    await typeInto('external_id', 'groupKey');
    await page.click('#dry-run-input');
    // the sample first, then the deliveries newest first: the one from before the capture is last
    const options = page.locator('#dry-run-input-options [role=option]');
    expect(await options.count()).toBe(3);
    expect(await options.nth(2).textContent()).toMatch(/^Delivery .* · Dispatched/);
    await options.nth(2).click();
    await page.waitForSelector('#preview-title >> text=DiskFull on web-01.example.internal:9100');
    await page.click('#dry-run-start');
    await page.waitForSelector('#dry-run-result');
    expect(await page.textContent('#dry-run-result')).toContain('Would succeed');
    expect(await page.textContent('#dry-run-result')).toContain('creates ticket');
    expect(await page.textContent('#dry-run-title')).toContain('"DiskFull on web-01.example.internal:9100"');
    await page.evaluate(() => {
      document.querySelector('#dry-run')?.scrollIntoView({ block: 'start' });
      document.querySelector('.overlay')?.scrollBy(0, -24);
    });
    await screen('35-editor-dry-run');
    await docScreen('editor-dry-run', '#webhook-dialog .mapping-layout', 620, '#dry-run');
    expect(await tickets()).toBe(before);
  }, 120_000);

  it('saving a draft that fails its dry run asks first; saved, the next real request makes the ticket the preview promised', async () => {
    await typeInto('title', 'alerts');
    await page.waitForSelector('#preview-title >> text=expected text, got array');
    await page.click('#webhook-save');
    await page.waitForSelector('#dry-run-confirm');
    const confirm = await page.textContent('#dry-run-confirm');
    expect(confirm).toContain('Would fail');
    expect(confirm).toMatch(/title.*expected string, got an array/);
    await screen('36-editor-save-confirm');
    await page.click('#dry-run-keep-editing');
    await page.waitForSelector('#dry-run-confirm', { state: 'detached' });

    await typeInto('title', 'commonLabels.alertname & " on " & commonLabels.instance');
    await page.click('#dry-run-input');
    await page.locator('#dry-run-input-options [role=option]').nth(0).click(); // the captured sample
    await page.waitForSelector('#preview-title >> text=InstanceDown on web-01.example.internal:9100');
    await page.waitForSelector('#preview-title >> text=fits the field');
    const promised = JSON.parse((await page.textContent('#preview-title .preview-value'))!);
    expect(promised).toBe('InstanceDown on web-01.example.internal:9100');
    await page.click('#webhook-save');
    await page.waitForSelector('#webhook-dialog', { state: 'detached' });
    const { rows } = await db.pool.query(`select handler_config from intake.inbound_webhooks where slug = 'alerts'`);
    expect(rows[0].handler_config.field_mapping).toMatchObject({ title: 'commonLabels.alertname & " on " & commonLabels.instance', external_id: 'groupKey' });

    const next = await settled(await send(ALERT));
    expect(next.dispatch_status).toBe('dispatched');
    const ticket = await db.pool.query('select title from psa.tickets t where t.ticket_id = $1', [next.handler_outcome.ticket_id]);
    expect(ticket.rows[0].title).toBe(promised);
  }, 120_000);

  it('history: who saved what, a diff between two versions; the drawer shows the version a delivery ran with, and replays with it', async () => {
    await page.click('#webhook-menu-alerts');
    await page.click('#webhook-edit-alerts');
    await page.waitForSelector('#version-list');
    expect(await page.textContent('#version-1')).toContain('Version 1');
    expect(await page.textContent('#version-2')).toContain(ADMIN.email);
    expect(await page.textContent('#version-2')).toContain('handler');
    await page.waitForSelector('#version-diff .cm-mergeView');
    expect(await page.textContent('#version-diff')).toContain('commonLabels.alertname');
    await page.evaluate(() => document.querySelector('#version-list')?.scrollIntoView({ block: 'start' }));
    await screen('37-editor-versions');
    await docScreen('editor-versions', '#webhook-dialog fieldset:has(#version-list)');
    await page.click('#webhook-cancel');

    await page.goto(`${server.url}/settings/webhooks/deliveries?delivery=${pastDelivery}`);
    await page.waitForSelector('#delivery-config-version');
    expect(await page.textContent('#delivery-config-version')).toBe('version 1');
    await page.click('#delivery-replay');
    await page.waitForSelector('#delivery-replay-configuration');
    // React Aria's Radio puts the id on its visually hidden <input>; its <label> takes the click
    // (as a user's would), so click the label that holds the input
    expect(await page.isEnabled('#delivery-replay-dispatched')).toBe(true);
    expect(await page.textContent('label.radio:has(#delivery-replay-dispatched)')).toContain('version 1');
    await page.click('label.radio:has(#delivery-replay-dispatched)');
    expect(await page.isChecked('#delivery-replay-dispatched')).toBe(true);
    await screen('38-replay-dispatched');
    await page.click('#delivery-replay-confirm');
    await page.waitForSelector('#delivery-replay-new');
    const replayId = new URL((await page.getAttribute('#delivery-replay-new', 'href'))!, server.url).searchParams.get('delivery')!;
    const replay = await settled(replayId);
    const ticket = await db.pool.query('select title from psa.tickets where ticket_id = $1', [replay.handler_outcome.ticket_id]);
    expect(ticket.rows[0].title).toBe('{}:{alertname="DiskFull"}'); // version 1's mapping: the group key
  }, 120_000);

  it('"Use as sample" on a delivery makes its body the sample', async () => {
    await page.goto(`${server.url}/settings/webhooks/deliveries?delivery=${pastDelivery}`);
    await page.click('#delivery-use-as-sample');
    await page.waitForSelector('text=This request is now the webhook\'s sample.');
    const { rows } = await db.pool.query(`select sample_payload from intake.inbound_webhooks where slug = 'alerts'`);
    expect(rows[0].sample_payload.commonLabels.alertname).toBe('DiskFull');
  }, 30_000);

  it('a workflow handler: each step\'s condition and inputs in the same editor, completing input.body… from the sample; saved to the workflow', async () => {
    const definition = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'examples', 'critical-alert.workflow.json'), 'utf8'));
    const workflow = await createWorkflow(db.pool, WORKSPACE, definition);
    await page.goto(`${server.url}/settings/webhooks`);
    await page.click('#webhook-menu-alerts');
    await page.click('#webhook-edit-alerts');
    await page.waitForSelector('#sample-tree');
    await page.click('#webhook-handler-type');
    await page.getByRole('option', { name: 'Workflow', exact: true }).click();
    await page.click('#webhook-workflow');
    await page.getByRole('option', { name: 'Triage critical alert', exact: true }).click();
    await page.waitForSelector('#step-ticket-when');
    // the condition on the sample (the DiskFull alert, severity critical)
    await page.waitForSelector('#preview-step-ticket-when >> text=true');
    expect(await page.textContent('#preview-step-ticket-when')).toContain('boolean');

    await page.click('#step-ticket-input-title');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('input.body.commonLabels.al');
    await offered('alertname');
    await page.keyboard.press('Enter');
    expect(await page.$eval('#step-ticket-input-title', (el) => (el as HTMLElement).innerText.trim())).toBe('input.body.commonLabels.alertname');
    await page.waitForSelector('#preview-step-ticket-input-title >> text=fits the field');
    expect(await page.textContent('#preview-step-ticket-input-title')).toContain('"DiskFull"');
    // a later step's reference to an earlier one is not in the sample: a warning, never an error
    expect(await page.textContent('#workflow-step-note')).toContain('steps.ticket.ticket_number');
    await page.evaluate(() => document.querySelector('#workflow-steps')?.scrollIntoView({ block: 'start' }));
    await page.evaluate(() => document.querySelector('.overlay')?.scrollBy(0, -24));
    await screen('39-editor-workflow-steps');
    await docScreen('editor-workflow-steps', '#workflow-steps', 640);

    await page.click('#workflow-save');
    await page.waitForSelector('text=Saved the steps of “Triage critical alert”.');
    const { rows } = await db.pool.query('select definition, version from intake.workflows where workflow_id = $1', [workflow.id]);
    expect(rows[0].version).toBe(workflow.version + 1);
    expect(rows[0].definition.steps[0]).toMatchObject({ when: definition.steps[0].when, input: { ...definition.steps[0].input, title: 'input.body.commonLabels.alertname' } });
    expect(rows[0].definition.steps[1]).toMatchObject(definition.steps[1]);
    // the webhook itself was not saved: it still runs its direct action
    await page.click('#webhook-cancel');
    const hookRow = await db.pool.query(`select handler_type from intake.inbound_webhooks where slug = 'alerts'`);
    expect(hookRow.rows[0].handler_type).toBe('direct_action');
  }, 60_000);

  it('restores version 1 from the history, and "clear sample" empties the tree', async () => {
    await page.goto(`${server.url}/settings/webhooks`);
    await page.click('#webhook-menu-alerts');
    await page.click('#webhook-edit-alerts');
    await page.waitForSelector('#version-restore-1');
    const before = (await db.pool.query(`select config_version from intake.inbound_webhooks where slug = 'alerts'`)).rows[0].config_version;
    await page.click('#version-restore-1');
    await page.click('#version-restore-confirm');
    await page.waitForSelector('#webhook-dialog', { state: 'detached' });
    const { rows } = await db.pool.query(`select config_version, handler_config from intake.inbound_webhooks where slug = 'alerts'`);
    expect(rows[0].config_version).toBe(before + 1);
    expect(rows[0].handler_config.field_mapping).toEqual({ title: 'groupKey' });

    await page.click('#webhook-menu-alerts');
    await page.click('#webhook-edit-alerts');
    await page.waitForSelector('#sample-tree');
    expect(await editorText('title')).toBe('groupKey');
    await page.click('#clear-sample');
    await page.waitForSelector('#sample-tree', { state: 'detached' });
    await page.waitForSelector('#clear-sample', { state: 'detached' });
    expect((await db.pool.query(`select sample_payload from intake.inbound_webhooks where slug = 'alerts'`)).rows[0].sample_payload).toBeNull();
    await page.click('#webhook-cancel');
  }, 60_000);
});
