-- The receiver's one SQL call: records a batch of verified requests and makes sure of their
-- dispatch in the same transaction (at most one add_jobs call, so one NOTIFY, per batch), or
-- answers that an idempotency key was already taken inside its window.
-- The receiver batches requests that arrive while earlier ones are being committed; a request
-- on a quiet system is a batch of one. Items are processed in array order (arrival order).
-- Concurrent repeats are settled by the unique partial index deliveries_dedupe_key: the
-- loser's insert waits for the winner's commit, then finds its row.
--
-- Each item: {tenant, inbound_webhook_id, delivery_id?, request_method, request_path,
--   request_headers, request_body, request_body_text, body_format, content_type, source_ip,
--   user_agent, idempotency_key, received_at, failure?, failure_status?, replay_digest?,
--   body_size?, body_sha256?, body_head?}. A
--   non-null `failure` records a verified request that cannot be dispatched (malformed body) as
--   failed, answered with failure_status. `replay_digest` (hex; signed requests, receiver/app.ts): a request whose
--   digest a delivery of the webhook already has is a replay, answered as that delivery's
--   duplicate, with no window (deliveries_replay_digest).
-- body_size (bytes as received), body_sha256 (hex) and body_head (the first 256 characters of the
-- body text) are made by the receiver, which has the raw bytes (cheaper there than here: this
-- function's backend is what bounds the receiver). They stay on the delivery row, which outlives
-- the body; the body and headers go to intake.inbound_webhook_delivery_bodies (partitioned by day
-- on received_at; retention drops whole days). An item without body_size comes from a receiver
-- of the release before 000015, whose workers may still be draining: its body and headers go in
-- the row's own columns, as that release wrote and reads them (and retention cuts them in place).
-- delivery_id is the id the receiver gave the request on its first try (made here when absent).
-- An item whose delivery_id is already recorded is a retry after an outcome the receiver could
-- not know (a connection reset after the commit): nothing is written, and the answer is the one
-- recorded the first time.
-- drain_held (per item): whether no drain of the item's webhook can run before this transaction
-- commits (its drain lock is held shared, below), so the receiver may commit a later batch of the
-- webhook before this one without a drain seeing them out of order; true for items that are not
-- dispatched (duplicates, failures, retries), which no drain reads.
create or replace function intake.receive_deliveries(p_items jsonb)
  returns table (item int, delivery_id uuid, duplicate boolean, response_status int, response_body jsonb, drain_held boolean)
  language plpgsql volatile
  set search_path = pg_catalog
  -- Generic plans, planned once per session: this is called thousands of times a second with
  -- one jsonb parameter of the same shape, and re-planning every statement (here and inside
  -- graphile_worker.add_jobs) was about a third of its cost.
  set plan_cache_mode = force_generic_plan
  -- But a generic plan keeps the table sizes of the call that made it, often a fresh session's
  -- first, with graphile-worker's job table empty: the look-up of a webhook's queued job (below)
  -- and add_jobs' update of keyed jobs were then planned as scans of the whole job table, and
  -- with 100,000 jobs queued (a worker behind on workflow runs, say) a batch of 8 took 50-100 ms
  -- instead of ~1.5 until autovacuum made the plans anew. Every statement here has an index to
  -- use, so no plan may scan a table instead: 2-6 ms in that state, no slower otherwise.
  set enable_seqscan = off
  as $$
declare
  v_item jsonb;
  v_index int;
  v_tenant uuid;
  v_webhook uuid;
  v_key text;
  v_received timestamptz;
  v_window int;
  v_id uuid;
  v_existing record;
  v_inserted uuid;
  v_failure text;
  v_status int;
  v_prior record;
  v_digest bytea;
  v_new jsonb := '[]';   -- {idx, tenant, delivery_id, webhook, received_at} of rows inserted
  v_done int[] := '{}';  -- items answered by the set-based insert
  v_held jsonb := '{}';  -- webhook id → whether this transaction holds its drain lock shared
  v_bodies jsonb := '[]'; -- {idx, tenant, delivery_id, received_at} of rows the slow path inserted: their bodies
  v_apart boolean;
  v_headers jsonb;
  v_body jsonb;
  v_text text;
  v_size int;
  v_sha bytea;
  v_head text;
begin
  -- Fast path, set-based: every ordinary item in one INSERT. Items whose idempotency key is
  -- already taken (or repeated inside this batch), and retries of recorded items, are skipped
  -- here and settled one by one below.
  with items as (
    select e.idx::int as idx, e.value as v, coalesce((e.value->>'delivery_id')::uuid, gen_random_uuid()) as id,
           coalesce((e.value->>'received_at')::timestamptz, now()) as received_at,
           e.value ? 'body_size' as apart
      from jsonb_array_elements(p_items) with ordinality e(value, idx)
     where e.value->>'failure' is null
       -- a scalar subquery, not NOT EXISTS: the planner turns NOT EXISTS into an anti-join that
       -- (seqscan being off) reads the whole primary key every batch, measured at a sixth of the
       -- receiver's rate; this one is one primary-key probe per item
       and (select r.delivery_id from intake.inbound_webhook_deliveries r
             where r.tenant = (e.value->>'tenant')::uuid and r.delivery_id = (e.value->>'delivery_id')::uuid) is null
  ), inserted as (
    insert into intake.inbound_webhook_deliveries as d (
      tenant, delivery_id, inbound_webhook_id, idempotency_key, idempotency_expires_at, dedupe_active,
      received_at, request_method, request_path, request_headers, request_body, request_body_text, body_format,
      content_type, source_ip, user_agent, response_status, response_body, replay_digest,
      body_size, body_sha256, body_head
    )
    select (i.v->>'tenant')::uuid, i.id, w.inbound_webhook_id, i.v->>'idempotency_key',
           case when i.v->>'idempotency_key' is not null then i.received_at + make_interval(secs => w.idempotency_window_seconds) end,
           i.v->>'idempotency_key' is not null,
           i.received_at, i.v->>'request_method', i.v->>'request_path',
           -- here only from a receiver of the release before (no body_size): see the top
           case when i.apart then '{}' else coalesce(i.v->'request_headers', '{}') end,
           case when not i.apart then i.v->'request_body' end,
           case when not i.apart then i.v->>'request_body_text' end,
           i.v->>'body_format', i.v->>'content_type',
           (i.v->>'source_ip')::inet, i.v->>'user_agent', 200, jsonb_build_object('delivery_id', i.id),
           decode(i.v->>'replay_digest', 'hex'),
           (i.v->>'body_size')::int, decode(i.v->>'body_sha256', 'hex'), i.v->>'body_head'
      from items i
      join intake.inbound_webhooks w
        on w.tenant = (i.v->>'tenant')::uuid and w.inbound_webhook_id = (i.v->>'inbound_webhook_id')::uuid
     order by i.idx
    -- a key taken inside its window, or a replay's digest: settled one by one below
    on conflict do nothing
    returning d.tenant, d.delivery_id, d.inbound_webhook_id, d.received_at
  ), stored as (
    -- the body and headers, apart (run whether or not the select below reads it)
    insert into intake.inbound_webhook_delivery_bodies (tenant, delivery_id, received_at, request_headers, request_body, request_body_text)
    select n.tenant, n.delivery_id, n.received_at, coalesce(i.v->'request_headers', '{}'), i.v->'request_body', i.v->>'request_body_text'
      from inserted n join items i on i.id = n.delivery_id
     where i.apart
  )
  select coalesce(jsonb_agg(jsonb_build_object('idx', i.idx, 'tenant', n.tenant, 'delivery_id', n.delivery_id,
                                               'webhook', n.inbound_webhook_id, 'received_at', n.received_at)
                            order by i.idx), '[]'),
         coalesce(array_agg(i.idx), '{}')
    into v_new, v_done
    from inserted n join items i on i.id = n.delivery_id;

  -- Slow path, one by one: failures to record, and items whose key was taken.
  for v_item, v_index in
    select e.value, e.ordinality::int from jsonb_array_elements(p_items) with ordinality e
     where not (e.ordinality::int = any (v_done))
     order by e.ordinality
  loop
    v_tenant := (v_item->>'tenant')::uuid;
    v_webhook := (v_item->>'inbound_webhook_id')::uuid;
    v_key := v_item->>'idempotency_key';
    v_received := coalesce((v_item->>'received_at')::timestamptz, now());
    v_failure := v_item->>'failure';
    v_id := coalesce((v_item->>'delivery_id')::uuid, gen_random_uuid());
    v_digest := decode(v_item->>'replay_digest', 'hex');
    v_apart := v_item ? 'body_size';
    v_size := (v_item->>'body_size')::int;
    v_sha := decode(v_item->>'body_sha256', 'hex');
    v_head := v_item->>'body_head';
    -- the row's own columns: empty when the body goes apart (see the top)
    v_headers := case when v_apart then '{}' else coalesce(v_item->'request_headers', '{}') end;
    v_body := case when not v_apart then v_item->'request_body' end;
    v_text := case when not v_apart then v_item->>'request_body_text' end;

    -- A retry of an item recorded before: its first answer, and nothing else.
    select d.response_status, d.response_body into v_prior
      from intake.inbound_webhook_deliveries d
     where d.tenant = v_tenant and d.delivery_id = v_id;
    if found then
      return query select v_index, coalesce((v_prior.response_body->>'delivery_id')::uuid, v_id),
                          coalesce((v_prior.response_body->>'duplicate')::boolean, false),
                          v_prior.response_status, v_prior.response_body, true;
      continue;
    end if;

    select w.idempotency_window_seconds into v_window
      from intake.inbound_webhooks w
     where w.tenant = v_tenant and w.inbound_webhook_id = v_webhook;
    if not found then
      raise exception 'inbound webhook % not found for tenant %', v_webhook, v_tenant using errcode = 'P0002';
    end if;

    if v_failure is not null then
      v_status := coalesce((v_item->>'failure_status')::int, 400);
      insert into intake.inbound_webhook_deliveries (
        tenant, delivery_id, inbound_webhook_id, idempotency_key, received_at, request_method, request_path,
        request_headers, request_body, request_body_text,
        body_format, content_type, source_ip, user_agent, body_size, body_sha256, body_head,
        dispatch_status, error_message, response_status, response_body, dispatched_at
      ) values (
        v_tenant, v_id, v_webhook, v_key, v_received, v_item->>'request_method', v_item->>'request_path',
        v_headers, v_body, v_text,
        v_item->>'body_format', v_item->>'content_type', (v_item->>'source_ip')::inet, v_item->>'user_agent',
        v_size, v_sha, v_head,
        'failed', v_failure, v_status, jsonb_build_object('error', v_failure, 'delivery_id', v_id), now()
      );
      if v_apart then
        v_bodies := v_bodies || jsonb_build_object('idx', v_index, 'tenant', v_tenant, 'delivery_id', v_id, 'received_at', v_received);
      end if;
      return query select v_index, v_id, false, v_status, jsonb_build_object('error', v_failure, 'delivery_id', v_id), true;
      continue;
    end if;

    loop
      v_inserted := null;
      insert into intake.inbound_webhook_deliveries as d (
        tenant, delivery_id, inbound_webhook_id, idempotency_key, idempotency_expires_at, dedupe_active,
        received_at, request_method, request_path, request_headers, request_body, request_body_text, body_format,
        content_type, source_ip, user_agent, response_status, response_body, replay_digest,
        body_size, body_sha256, body_head
      ) values (
        v_tenant, v_id, v_webhook, v_key,
        case when v_key is not null then v_received + make_interval(secs => v_window) end,
        v_key is not null,
        v_received, v_item->>'request_method', v_item->>'request_path', v_headers, v_body, v_text,
        v_item->>'body_format', v_item->>'content_type',
        (v_item->>'source_ip')::inet, v_item->>'user_agent', 200, jsonb_build_object('delivery_id', v_id), v_digest,
        v_size, v_sha, v_head
      )
      on conflict do nothing
      returning d.delivery_id into v_inserted;

      if v_inserted is not null then
        v_new := v_new || jsonb_build_object('idx', v_index, 'tenant', v_tenant, 'delivery_id', v_id,
                                             'webhook', v_webhook, 'received_at', v_received);
        if v_apart then
        v_bodies := v_bodies || jsonb_build_object('idx', v_index, 'tenant', v_tenant, 'delivery_id', v_id, 'received_at', v_received);
      end if;
        exit; -- answered below, with the webhook's drain lock

      end if;

      -- What the insert ran into. Its own id, recorded meanwhile by another try of this item:
      -- that try's answer.
      select d.response_status, d.response_body into v_prior
        from intake.inbound_webhook_deliveries d
       where d.tenant = v_tenant and d.delivery_id = v_id;
      if found then
        return query select v_index, coalesce((v_prior.response_body->>'delivery_id')::uuid, v_id),
                            coalesce((v_prior.response_body->>'duplicate')::boolean, false),
                            v_prior.response_status, v_prior.response_body, true;
        exit;
      end if;

      -- A replay: the same signed request as a delivery of this webhook, however long ago.
      if v_digest is not null then
        select d.delivery_id into v_existing
          from intake.inbound_webhook_deliveries d
         where d.tenant = v_tenant and d.inbound_webhook_id = v_webhook and d.replay_digest = v_digest
           for key share;
        if found then
          insert into intake.inbound_webhook_deliveries (
            tenant, delivery_id, inbound_webhook_id, idempotency_key, duplicate_of, received_at, request_method,
            request_path, request_headers, request_body, request_body_text, body_format, content_type, source_ip,
            body_size, body_sha256, body_head,
            user_agent, dispatch_status, response_status, response_body, dispatched_at
          ) values (
            v_tenant, v_id, v_webhook, v_key, v_existing.delivery_id, v_received, v_item->>'request_method',
            v_item->>'request_path', v_headers, v_body, v_text, v_item->>'body_format', v_item->>'content_type',
            (v_item->>'source_ip')::inet, v_size, v_sha, v_head,
            v_item->>'user_agent', 'duplicate', 200,
            jsonb_build_object('delivery_id', v_existing.delivery_id, 'duplicate', true), now()
          );
          if v_apart then
        v_bodies := v_bodies || jsonb_build_object('idx', v_index, 'tenant', v_tenant, 'delivery_id', v_id, 'received_at', v_received);
      end if;
          return query select v_index, v_existing.delivery_id, true, 200,
            jsonb_build_object('delivery_id', v_existing.delivery_id, 'duplicate', true), true;
          exit;
        end if;
      end if;
      if v_key is null then
        continue; -- the row it ran into was rolled back: try again
      end if;

      select d.delivery_id, d.idempotency_expires_at into v_existing
        from intake.inbound_webhook_deliveries d
       where d.tenant = v_tenant and d.inbound_webhook_id = v_webhook
         and d.idempotency_key = v_key and d.dedupe_active
         -- Key share: enough to keep the original from being deleted, and it does not wait for a
         -- worker's drain (no key update) holding the original. Two receivers retiring the same
         -- expired key both update it below, and the unique index settles which new row wins.
         for key share;
      if not found then
        continue; -- the holder released the key between our insert and select: try again
      end if;

      if v_existing.idempotency_expires_at > v_received then
        insert into intake.inbound_webhook_deliveries (
          tenant, delivery_id, inbound_webhook_id, idempotency_key, duplicate_of, received_at, request_method,
          request_path, request_headers, request_body, request_body_text, body_format, content_type, source_ip,
          body_size, body_sha256, body_head,
          user_agent, dispatch_status, response_status, response_body, dispatched_at
        ) values (
          v_tenant, v_id, v_webhook, v_key, v_existing.delivery_id, v_received, v_item->>'request_method',
          v_item->>'request_path', v_headers, v_body, v_text, v_item->>'body_format', v_item->>'content_type',
          (v_item->>'source_ip')::inet, v_size, v_sha, v_head,
          v_item->>'user_agent', 'duplicate', 200,
          jsonb_build_object('delivery_id', v_existing.delivery_id, 'duplicate', true), now()
        );
        if v_apart then
        v_bodies := v_bodies || jsonb_build_object('idx', v_index, 'tenant', v_tenant, 'delivery_id', v_id, 'received_at', v_received);
      end if;
        return query select v_index, v_existing.delivery_id, true, 200,
          jsonb_build_object('delivery_id', v_existing.delivery_id, 'duplicate', true), true;
        exit;
      end if;

      -- The window has passed: the old delivery gives up the key and this one takes it.
      update intake.inbound_webhook_deliveries d set dedupe_active = false
       where d.tenant = v_tenant and d.delivery_id = v_existing.delivery_id;
    end loop;
  end loop;

  -- The bodies and headers of what the slow path recorded, in one insert.
  if jsonb_array_length(v_bodies) > 0 then
    insert into intake.inbound_webhook_delivery_bodies (tenant, delivery_id, received_at, request_headers, request_body, request_body_text)
    select (b->>'tenant')::uuid, (b->>'delivery_id')::uuid, (b->>'received_at')::timestamptz,
           coalesce(p_items->((b->>'idx')::int - 1)->'request_headers', '{}'),
           p_items->((b->>'idx')::int - 1)->'request_body',
           p_items->((b->>'idx')::int - 1)->>'request_body_text'
      from jsonb_array_elements(v_bodies) b;
  end if;

  if jsonb_array_length(v_new) > 0 then
    -- Sample capture: the first verified body inside an open window becomes the sample.
    update intake.inbound_webhooks w
       set sample_payload = first.body, sample_captured_at = now(), sample_capture_until = null
      from (
        select distinct on (n->>'webhook') (n->>'tenant')::uuid as tenant, (n->>'webhook')::uuid as webhook,
               p_items->((n->>'idx')::int - 1)->'request_body' as body
          from jsonb_array_elements(v_new) n
         where jsonb_typeof(p_items->((n->>'idx')::int - 1)->'request_body') is distinct from 'null'
           and p_items->((n->>'idx')::int - 1)->'request_body' is not null
         order by n->>'webhook', (n->>'idx')::int
      ) first
     where w.tenant = first.tenant and w.inbound_webhook_id = first.webhook and w.sample_capture_until > now();

    -- A dispatch_webhook job per webhook in the batch, in one add_jobs call (one NOTIFY), unless
    -- one is already certain to drain this batch. The job drains its webhook's pending deliveries
    -- in arrival order under the webhook's drain lock (worker/dispatch.ts); a job per delivery
    -- would only add rows for the worker to skip, and made this call about twice as costly.
    --
    -- Which job, per webhook W:
    -- * A shared hold on W's drain lock (try, never wait) means no drain of W is running and none
    --   can start before this transaction commits. Then a fresh job keyed 'drain:W' that no
    --   worker has locked yet will drain after the commit and see this batch: nothing to add. If
    --   there is none, a keyed job is added: whatever add_jobs makes of the key (a new job, the
    --   queued one updated, or the queued one locked by a worker in between, whose drain then
    --   waits for this commit), a drain follows this commit.
    -- * Without the hold (a drain of W is running), an unkeyed job: graphile-worker neither
    --   updates nor replaces a keyed job that a worker locks between add_jobs' own statements,
    --   and that job's drain could then commit before this batch does.
    -- run_at is the batch's first arrival (never in the future). Built inside the query, not in
    -- a declared variable, so this file loads before the graphile_worker schema exists.
    -- The shared holds, one try per webhook (never a wait: a drain holding the lock may run long).
    select coalesce(jsonb_object_agg(h.webhook, pg_try_advisory_xact_lock_shared(hashtextextended('intake-drain:' || h.webhook, 0))), '{}')
      into v_held
      from (select distinct n->>'webhook' as webhook from jsonb_array_elements(v_new) n) h;

    perform graphile_worker.add_jobs(s.specs)
       from (
         select array(
           select row(
             'dispatch_webhook',
             json_build_object('tenant', b.tenant, 'inbound_webhook_id', b.webhook),
             null, least(b.first_received, now()), 25,
             case when b.held then 'drain:' || b.webhook end, null, null
           )::graphile_worker.job_spec
             from (
               select n->>'tenant' as tenant, n->>'webhook' as webhook,
                      min((n->>'received_at')::timestamptz) as first_received, min((n->>'idx')::int) as first_idx,
                      (v_held->>(n->>'webhook'))::boolean as held
                 from jsonb_array_elements(v_new) n
                group by n->>'tenant', n->>'webhook'
             ) b
            where not (b.held and exists (
                    select 1 from graphile_worker.jobs j
                     where j.key = 'drain:' || b.webhook and j.locked_at is null and j.attempts = 0))
            order by b.first_idx
         ) as specs
       ) s
      where cardinality(s.specs) > 0;
  end if;

  return query
  select (n->>'idx')::int, (n->>'delivery_id')::uuid, false, 200, jsonb_build_object('delivery_id', (n->>'delivery_id')::uuid),
         coalesce((v_held->>(n->>'webhook'))::boolean, false)
    from jsonb_array_elements(v_new) n;
end
$$;
comment on function intake.receive_deliveries(jsonb) is
  'Records a batch of verified inbound requests and enqueues their dispatch in one transaction; answers the original delivery for repeats inside the idempotency window.';
-- not granted to intake_app: only the receiver (the owner) records deliveries
