// Tenant isolation through row-level security, as the application role (intake_app) sees it:
// every tenant table shows the current tenant's rows only, refuses rows of another tenant, and
// shows nothing at all when no tenant is set. Then as the management APIs' role (intake_user):
// the same, plus the inbound_webhook permission for every command.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createUser } from '../core/access.ts';
import { createSession } from '../core/sessions.ts';
import { createWorkflow } from '../core/workflows.ts';
import { asTenant, asUser, createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, makeWebhook, rejectionsRecorded, settledDelivery, startTestServer, waitFor, type TestServer } from './support/server.ts';

const alertmanager = JSON.parse(readFileSync(new URL('./fixtures/samples/alertmanager-alert.firing.json', import.meta.url), 'utf8'));

let db: TestDatabase;
let server: TestServer;
const tenants: Record<'a' | 'b', { id: string; delivery: string; run: string }> = {
  a: { id: '', delivery: '', run: '' },
  b: { id: '', delivery: '', run: '' },
};

interface Table {
  name: string; // schema-qualified, quoted
  kind: 'r' | 'p' | 'v' | 'm';
  canSelect: boolean;
  canInsert: boolean;
}
let tables: Table[] = [];
/** an admin and a viewer of each tenant (with API keys, so psa.user_roles and psa.api_keys have rows) */
const users: Record<'a' | 'b', { admin: string; viewer: string }> = { a: { admin: '', viewer: '' }, b: { admin: '', viewer: '' } };

/** Everything a tenant accumulates: webhook (and its secret), deliveries, tickets, mappings, clients… */
async function seed(slug: 'a' | 'b'): Promise<void> {
  const tenant = await makeTenant(db.pool, `tenant-${slug}`);
  const hook = await makeWebhook(db.pool, `tenant-${slug}`, {
    name: 'Alerts', slug: 'alerts', auth: { auth_type: 'hmac_sha256' },
    handler: {
      handler_type: 'direct_action', action: 'createTicket',
      field_mapping: { title: 'commonAnnotations.summary', external_id: 'groupKey' },
    },
  });
  const body = JSON.stringify(alertmanager);
  const post = (signature: string) =>
    fetch(`${server.url}/api/inbound/tenant-${slug}/alerts`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signature }, body,
    });
  const ok = await post(createHmac('sha256', hook.secret!).update(body).digest('hex'));
  expect(ok.status).toBe(200);
  const { delivery_id } = await ok.json();
  expect((await settledDelivery(db.pool, delivery_id)).dispatch_status).toBe('dispatched');
  expect((await post('0'.repeat(64))).status).toBe(401); // an auth rejection row
  await rejectionsRecorded(db.pool, hook.id);

  await db.pool.query(
    `with c as (insert into psa.clients (tenant, client_name) values ($1, $2) returning client_id),
          u as (insert into psa.users (tenant, email) values ($1, $3) returning user_id)
     insert into psa.contacts (tenant, full_name, client_id) select $1, 'Pat Doe', client_id from c`,
    [tenant, `Client ${slug}`, `ops@${slug}.example`],
  );
  await db.pool.query(`insert into psa.assets (tenant, name) values ($1, 'web-01')`, [tenant]);
  // One row in each of the other PSA tables, hung off the rows above and the action's ticket.
  await db.pool.query(
    `with cl as (select client_id from psa.clients where tenant = $1 limit 1),
          us as (select user_id from psa.users where tenant = $1 limit 1),
          tk as (select ticket_id from psa.tickets where tenant = $1 limit 1),
          ast as (select asset_id from psa.assets where tenant = $1 limit 1),
          st as (select status_id from psa.statuses where tenant = $1 and status_type = 'project_task' and is_default),
          cm as (insert into psa.ticket_comments (tenant, ticket_id, body, author_label)
                 select $1, ticket_id, 'Still firing', 'Alertmanager' from tk),
          inv as (insert into psa.invoices (tenant, invoice_number, client_id, status, subtotal, tax, total, amount_paid)
                  select $1, 'INV-0001', client_id, 'partially_paid', 100, 8, 108, 50 from cl returning invoice_id),
          il as (insert into psa.invoice_lines (tenant, invoice_id, description, quantity, unit_price, amount)
                 select $1, invoice_id, 'Managed services', 1, 100, 100 from inv),
          ip as (insert into psa.invoice_payments (tenant, invoice_id, amount, reference, method)
                 select $1, invoice_id, 50, 'ch_001', 'card' from inv),
          pr as (insert into psa.projects (tenant, project_name, client_id)
                 select $1, 'Server migration', client_id from cl returning project_id),
          ph as (insert into psa.project_phases (tenant, project_id, phase_name)
                 select $1, project_id, 'Planning' from pr returning project_id, phase_id),
          pt as (insert into psa.project_tasks (tenant, project_id, phase_id, task_name, status_id, assigned_to)
                 select $1, ph.project_id, ph.phase_id, 'Inventory servers', st.status_id, us.user_id from ph, st, us
                 returning task_id),
          te as (insert into psa.time_entries (tenant, user_id, work_item_type, ticket_id, task_id, duration_minutes)
                 select $1, us.user_id, 'ticket', tk.ticket_id, null::uuid, 15 from us, tk
                 union all
                 select $1, us.user_id, 'project_task', null, pt.task_id, 30 from us, pt),
          tg as (insert into psa.tags (tenant, tag_text) values ($1, 'urgent') returning tag_id),
          tl as (insert into psa.tag_links (tenant, tag_id, tagged_type, tagged_id)
                 select $1, tag_id, 'ticket', ticket_id from tg, tk)
     insert into psa.asset_device_details (tenant, asset_id, hostname, ip_addresses, mac_addresses, agent_status, source)
     select $1, asset_id, 'web-01', '{192.0.2.10}', '{08:60:6e:46:c7:4d}', 'online', 'webhook:alerts' from ast`,
    [tenant],
  );
  // A workflow, and a run of it started by a delivery to a workflow webhook.
  const workflow = await createWorkflow(db.pool, `tenant-${slug}`, {
    name: 'Remember', steps: [{ id: 'remember', set: { alert: 'input.body.commonLabels.alertname' } }],
  });
  const flowHook = await makeWebhook(db.pool, `tenant-${slug}`, {
    name: 'Flow', slug: 'flow', auth: { auth_type: 'hmac_sha256' }, handler: { handler_type: 'workflow', workflow_id: workflow.id },
  });
  const started = await fetch(`${server.url}/api/inbound/tenant-${slug}/flow`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', flowHook.secret!).update(body).digest('hex') },
    body,
  });
  expect(started.status).toBe(200);
  const flowDelivery = await settledDelivery(db.pool, (await started.json()).delivery_id);
  expect(flowDelivery.dispatch_status).toBe('dispatched');
  const runId = flowDelivery.handler_outcome.workflow_run_id;
  await waitFor(async () => {
    const { rows } = await db.pool.query(`select status from intake.workflow_runs where run_id = $1`, [runId]);
    return rows[0]?.status === 'succeeded' ? true : undefined;
  }, 10_000, 'the seeded workflow run');

  const owner = await db.pool.connect();
  try {
    for (const role of ['admin', 'viewer'] as const) {
      const user = await createUser(owner, `tenant-${slug}`, { email: `${role}@${slug}.example`, role, password: `${role} password of ${slug}` });
      await createApiKey(owner, `tenant-${slug}`, user.email);
      users[slug][role] = user.user_id;
    }
    // a browser session (intake_private.sessions), as a sign-in makes one
    await createSession(owner, tenant, users[slug].admin, { idleMinutes: 60, maxHours: 12 });
  } finally {
    owner.release();
  }

  // A bulk replay, started the way a DBA does in psql (as the owner, the webhook naming the
  // tenant); its filter matches nothing, so it is finished at once and replays nothing.
  await db.pool.query(`select intake.start_bulk_replay(inbound_webhook_id => $1, received_before => '2000-01-01')`, [hook.id]);
  // A dry run requested in psql (intake.mapping_previews), answered by the worker.
  const { rows: [preview] } = await db.pool.query(
    `select intake.request_mapping_preview($1, '{"field_mapping": {"title": "commonLabels.alertname"}}', p_body => $2) as id`, [hook.id, body]);
  await waitFor(async () => {
    const { rows } = await db.pool.query(`select status from intake.mapping_previews where preview_id = $1`, [preview.id]);
    return rows[0]?.status === 'done' ? true : undefined;
  }, 10_000, 'the seeded mapping preview');

  // Outbound: a subscription with a secret, a delivery of one of the events the seed's changes
  // emitted, an attempt of it and a finished recovery, written as the owner (a DBA in psql).
  await db.pool.query(
    `with s as (insert into intake.outbound_subscriptions (tenant, url, event_types) values ($1, 'https://example.com/hook', '{*}')
                returning subscription_id),
          k as (insert into intake_private.outbound_subscription_secrets (tenant, subscription_id, secret)
                select $1, subscription_id, '\\x00' from s),
          d as (insert into intake.outbound_deliveries (tenant, event_id, subscription_id, event_type, status)
                select $1, e.event_id, s.subscription_id, e.event_type, 'failed'
                  from s, (select event_id, event_type from intake.outbound_events where tenant = $1 limit 1) e
                returning delivery_id, subscription_id),
          a as (insert into intake.outbound_attempts (tenant, delivery_id, subscription_id, attempt_number, started_at, request_url, request_headers, succeeded)
                select $1, delivery_id, subscription_id, 1, now(), 'https://example.com/hook', '{}', false from d)
     insert into intake.outbound_recoveries (tenant, subscription_id, since, cutoff_at, total, status, finished_at)
     select $1, subscription_id, now(), now(), 0, 'finished', now() from s`,
    [tenant],
  );

  tenants[slug] = { id: tenant, delivery: delivery_id, run: runId };
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  await seed('a');
  await seed('b');
  const { rows } = await db.pool.query<Table>(
    `select format('%I.%I', n.nspname, c.relname) as name, c.relkind as kind,
            has_table_privilege('intake_app', c.oid, 'select') as "canSelect",
            has_table_privilege('intake_app', c.oid, 'insert') as "canInsert"
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('psa', 'intake', 'intake_private') and c.relkind in ('r', 'p', 'v', 'm')
        -- partitions (the delivery bodies' days) are read through their parent, which is checked;
        -- no role but the owner has a grant on a partition itself (test/retention.bodies.test.ts)
        and not c.relispartition
      order by 1`,
  );
  tables = rows;
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

async function tenantsIn(client: pg.ClientBase | pg.Pool, table: string): Promise<string[]> {
  const { rows } = await client.query(`select distinct tenant::text from ${table} order by 1`);
  return rows.map((r) => r.tenant);
}

it('finds the tenant tables, and the seed gave both tenants rows in each', async () => {
  const names = tables.map((t) => t.name);
  for (const expected of [
    'psa.tenants', 'psa.users', 'psa.boards', 'psa.statuses', 'psa.priorities', 'psa.clients', 'psa.contacts',
    'psa.assets', 'psa.tenant_counters', 'psa.tickets', 'psa.tenant_external_entity_mappings',
    'intake.inbound_webhooks', 'intake.inbound_webhook_deliveries', 'intake.inbound_webhook_auth_rejections',
    'intake_private.inbound_webhook_secrets',
    'psa.ticket_comments', 'psa.invoices', 'psa.invoice_lines', 'psa.invoice_payments', 'psa.projects',
    'psa.project_phases', 'psa.project_tasks', 'psa.time_entries', 'psa.tags', 'psa.tag_links',
    'psa.asset_device_details', 'intake.workflows', 'intake.workflow_runs', 'intake.bulk_replays',
    'intake.inbound_webhook_versions', 'intake.mapping_previews', 'intake.inbound_webhook_delivery_bodies',
  ]) {
    expect(names).toContain(expected);
  }
  // As the owner (no RLS), every one of them holds rows of both tenants; otherwise the
  // isolation checks below would pass vacuously.
  for (const { name } of tables.filter((t) => t.kind === 'r' || t.kind === 'p')) {
    const seen = await tenantsIn(db.pool, name);
    expect(seen, name).toEqual(expect.arrayContaining([tenants.a.id, tenants.b.id]));
  }
});

describe('as intake_app', () => {
  it('sees only its own tenant in every table (or view) it may read', async () => {
    const readable = tables.filter((t) => t.canSelect);
    expect(readable.length).toBeGreaterThanOrEqual(14);
    for (const me of ['a', 'b'] as const) {
      await asTenant(db.pool, tenants[me].id, async (client) => {
        for (const { name } of readable) {
          expect(await tenantsIn(client, name), `${name} as tenant ${me}`).toEqual([tenants[me].id]);
        }
      });
    }
  });

  it('sees no rows at all without a tenant', async () => {
    await asTenant(db.pool, null, async (client) => {
      for (const { name } of tables.filter((t) => t.canSelect)) {
        const { rows } = await client.query(`select count(*)::int as n from ${name}`);
        expect(rows[0].n, name).toBe(0);
      }
    });
  });

  it('cannot read the webhook secrets at all', async () => {
    const secrets = tables.find((t) => t.name === 'intake_private.inbound_webhook_secrets');
    expect(secrets).toMatchObject({ canSelect: false, canInsert: false });
    await asTenant(db.pool, tenants.a.id, async (client) => {
      await expect(client.query(`select * from intake_private.inbound_webhook_secrets`)).rejects.toMatchObject({
        code: '42501',
        message: expect.stringContaining('permission denied'),
      });
    });
    // Nor through the receiver's lookup, which returns them (ciphertexts) to the owner only.
    await asTenant(db.pool, tenants.a.id, async (client) => {
      await expect(client.query(`select * from intake_private.receiver_config('tenant-a', 'alerts')`)).rejects.toMatchObject({
        code: '42501',
        message: expect.stringContaining('permission denied'),
      });
    });
  });

  it("cannot insert a row of another tenant into any table it may insert into", async () => {
    const insertable = tables.filter((t) => t.canInsert);
    expect(insertable.map((t) => t.name)).toEqual(expect.arrayContaining(['psa.tickets', 'intake.inbound_webhook_deliveries']));
    for (const { name } of insertable) {
      // One of B's real rows (read as the owner), offered by tenant A.
      const { rows } = await db.pool.query(`select to_jsonb(t) as row from ${name} t where tenant = $1 limit 1`, [tenants.b.id]);
      const row = rows[0].row;
      await asTenant(db.pool, tenants.a.id, async (client) => {
        await expect(
          client.query(`insert into ${name} select * from jsonb_populate_record(null::${name}, $1)`, [row]),
          name,
        ).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('row-level security') });
      });
    }
  });

  it("may write its own rows, but not move them to another tenant", async () => {
    await asTenant(db.pool, tenants.a.id, async (client) => {
      const { rows } = await client.query(
        `insert into psa.clients (tenant, client_name) values ($1, 'New client') returning client_id`, [tenants.a.id]);
      expect(rows).toHaveLength(1);
      await expect(
        client.query(`update psa.clients set tenant = $2 where client_id = $1`, [rows[0].client_id, tenants.b.id]),
      ).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('row-level security') });
    });
    await asTenant(db.pool, tenants.a.id, async (client) => {
      // B's rows are invisible to updates and deletes: nothing happens to them.
      const updated = await client.query(`update psa.tickets set title = 'hijacked' where tenant = $1`, [tenants.b.id]);
      const deleted = await client.query(`delete from psa.clients where tenant = $1`, [tenants.b.id]);
      expect([updated.rowCount, deleted.rowCount]).toEqual([0, 0]);
    });
  });

  it("replays its own tenant's delivery but not another tenant's", async () => {
    await asTenant(db.pool, tenants.a.id, async (client) => {
      const { rows } = await client.query(`select intake.replay_delivery($1) as id`, [tenants.a.delivery]);
      const { rows: replay } = await client.query(
        `select tenant, is_replay, replayed_from, dispatch_status from intake.inbound_webhook_deliveries where delivery_id = $1`,
        [rows[0].id],
      );
      expect(replay).toEqual([{ tenant: tenants.a.id, is_replay: true, replayed_from: tenants.a.delivery, dispatch_status: 'pending' }]);
    });
    await asTenant(db.pool, tenants.a.id, async (client) => {
      await expect(client.query(`select intake.replay_delivery($1)`, [tenants.b.delivery])).rejects.toMatchObject({
        code: 'P0002',
        message: expect.stringContaining('not found'),
      });
    });
    // Both were rolled back: no replay exists.
    const { rows } = await db.pool.query(`select count(*)::int as n from intake.inbound_webhook_deliveries where is_replay`);
    expect(rows[0].n).toBe(0);
  });

  it("cannot enqueue a dispatch of another tenant's delivery, nor of any tenant's without a tenant set", async () => {
    // A pending delivery of B (made as the owner inside the transaction, then back to intake_app).
    const pendingOfB = async (client: pg.PoolClient) => {
      await client.query(`select set_config('role', 'none', true)`);
      const { rows } = await client.query(
        `insert into intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, received_at, request_method, request_path)
         select tenant, inbound_webhook_id, now(), 'POST', '/x' from intake.inbound_webhook_deliveries where delivery_id = $1
         returning tenant, delivery_id, inbound_webhook_id`, [tenants.b.delivery]);
      await client.query(`select set_config('role', 'intake_app', true)`);
      return rows[0];
    };
    for (const tenant of [null, tenants.a.id]) {
      await asTenant(db.pool, tenant, async (client) => {
        const d = await pendingOfB(client);
        await expect(client.query(`select intake_private.enqueue_dispatch($1, $2, $3)`, [d.tenant, d.delivery_id, d.inbound_webhook_id]))
          .rejects.toMatchObject({ code: '42501' });
      });
    }
    // its own tenant set, the same call is fine
    await asTenant(db.pool, tenants.b.id, async (client) => {
      const d = await pendingOfB(client);
      await client.query(`select intake_private.enqueue_dispatch($1, $2, $3)`, [d.tenant, d.delivery_id, d.inbound_webhook_id]);
    });
  });

  it("cannot enqueue another tenant's workflow run, nor a finished one of its own", async () => {
    await asTenant(db.pool, tenants.a.id, async (client) => {
      await expect(client.query(`select intake_private.enqueue_workflow_run($1, $2)`, [tenants.b.id, tenants.b.run])).rejects.toMatchObject({
        code: '42501',
      });
    });
    await asTenant(db.pool, tenants.a.id, async (client) => {
      await expect(client.query(`select intake_private.enqueue_workflow_run($1, $2)`, [tenants.a.id, tenants.a.run])).rejects.toMatchObject({
        code: '55000',
      });
    });
  });
});


describe('as intake_user', () => {
  it("sees only its own tenant's rows, and none without read permission or without a user", async () => {
    const readable = ['intake.inbound_webhooks', 'intake.inbound_webhook_deliveries', 'intake.inbound_webhook_auth_rejections',
      'intake.workflows', 'intake.workflow_runs', 'intake.bulk_replays', 'intake.inbound_webhook_versions', 'intake.mapping_previews'];
    for (const me of ['a', 'b'] as const) {
      await asUser(db.pool, tenants[me].id, users[me].viewer, async (client) => {
        for (const name of readable) expect(await tenantsIn(client, name), `${name} as tenant ${me}`).toEqual([tenants[me].id]);
      });
      // a user of the other tenant, with this tenant set: no role here, so nothing
      await asUser(db.pool, tenants[me].id, users[me === 'a' ? 'b' : 'a'].admin, async (client) => {
        for (const name of readable) expect(await tenantsIn(client, name), name).toEqual([]);
      });
    }
  });

  it('cannot read secrets, API keys, passwords, sessions, setup tokens or roles at all', async () => {
    for (const table of [
      'intake_private.inbound_webhook_secrets', 'psa.api_keys', 'psa.user_roles', 'psa.role_permissions', 'psa.users',
      'intake_private.user_passwords', 'intake_private.sessions', 'intake_global.setup_tokens',
    ]) {
      await asUser(db.pool, tenants.a.id, users.a.admin, async (client) => {
        await expect(client.query(`select * from ${table}`), table).rejects.toMatchObject({ code: '42501' });
      });
    }
    await asUser(db.pool, tenants.a.id, users.a.admin, async (client) => {
      await expect(client.query(`select * from intake_private.receiver_config('tenant-a', 'alerts')`)).rejects.toMatchObject({ code: '42501' });
    });
    // nor resolve a session digest itself: only the owner (the API layer) may call the lookup
    await asUser(db.pool, tenants.a.id, users.a.admin, async (client) => {
      await expect(client.query(`select * from intake_private.authenticate_session($1, $2)`, [tenants.a.id, Buffer.alloc(32)])).rejects.toMatchObject({ code: '42501' });
    });
  });

  it('needs update, delete and replay for those commands, whatever the SQL path', async () => {
    const hook = `(select inbound_webhook_id from intake.inbound_webhooks where slug = 'alerts')`;
    await asUser(db.pool, tenants.a.id, users.a.viewer, async (client) => {
      // direct writes: the restrictive policies hide the rows from update and delete
      expect((await client.query(`update intake.inbound_webhooks set name = 'x'`)).rowCount).toBe(0);
      expect((await client.query(`delete from intake.inbound_webhooks`)).rowCount).toBe(0);
    });
    for (const sql of [
      `select intake.set_inbound_webhook_active(${hook}, false)`,
      `select intake.capture_sample(${hook}, 5)`,
      `select intake.delete_inbound_webhook(${hook})`,
      `select intake.replay_delivery('${tenants.a.delivery}')`,
    ]) {
      await asUser(db.pool, tenants.a.id, users.a.viewer, async (client) => {
        await expect(client.query(sql), sql).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('permission denied') });
      });
    }
    await asUser(db.pool, tenants.a.id, users.a.admin, async (client) => {
      const { rows } = await client.query(`select (intake.set_inbound_webhook_active(${hook}, false)).is_active`);
      expect(rows[0].is_active).toBe(false);
      const replay = await client.query(`select intake.replay_delivery($1) as id`, [tenants.a.delivery]);
      expect(replay.rows[0].id).toBeTruthy();
    });
  });

  it("cannot touch another tenant's webhook or delivery by id", async () => {
    const { rows } = await db.pool.query(`select inbound_webhook_id from intake.inbound_webhooks where tenant = $1 and slug = 'alerts'`, [tenants.b.id]);
    const theirs = rows[0].inbound_webhook_id;
    for (const sql of [
      `select intake.set_inbound_webhook_active('${theirs}', false)`,
      `select intake.delete_inbound_webhook('${theirs}')`,
      `select intake.replay_delivery('${tenants.b.delivery}')`,
      `select intake.send_test_delivery('${theirs}', '{}')`,
      `select intake.rotate_inbound_webhook_secret('${theirs}', 'aes256gcm', '\\x00', 60)`,
    ]) {
      await asUser(db.pool, tenants.a.id, users.a.admin, async (client) => {
        await expect(client.query(sql), sql).rejects.toMatchObject({ code: 'P0002' });
      });
    }
    // the tenant setting decides, never an argument: B's id with B's user but A's tenant set
    await asUser(db.pool, tenants.a.id, users.b.admin, async (client) => {
      await expect(client.query(`select intake.delete_inbound_webhook('${theirs}')`)).rejects.toMatchObject({ code: '42501' });
    });
  });
});
