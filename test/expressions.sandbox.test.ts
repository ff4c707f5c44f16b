// Expressions run on core/jsonata.ts's worker threads, never on the calling thread: a runaway
// one is stopped at its limit, which each evaluation has to itself; results are bounded; a
// mapping or an idempotency expression that overruns fails its own delivery, with the reason.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeExpressionPool, compileExpression, configureExpressionPool, ExpressionError, expressionPoolState } from '../core/jsonata.ts';
import { drainWebhook } from '../worker/dispatch.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { postSigned } from './support/inbound.ts';
import { makeTenant, makeWebhook, settledDelivery, startTestServer, type TestServer } from './support/server.ts';

/** 26 a's then a b: backtracks for seconds inside one native regex call. */
const CATASTROPHIC = '$match(s, /^(a+)+$/)';
const EVIL = { s: 'a'.repeat(28) + 'b' };

async function failure(promise: Promise<unknown>): Promise<ExpressionError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ExpressionError);
  return error as ExpressionError;
}

describe('evaluation on worker threads', () => {
  it('a catastrophic regex is stopped at its limit and never blocks the event loop', async () => {
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const started = performance.now();
    const error = await failure(compileExpression(CATASTROPHIC, { timeoutMs: 200 }).evaluate(EVIL));
    const took = performance.now() - started;
    lag.disable();
    expect(error.code).toBe('D1012');
    expect(error.message).toMatch(/ran longer than 200 ms/);
    // (generous: this runs on busy shared machines; unbounded it took 9.8 s, all on the event loop)
    expect(took).toBeLessThan(4000);
    expect(lag.max / 1e6).toBeLessThan(500);
    // its thread was replaced: the next evaluation works
    expect(await compileExpression('a & "!"', { timeoutMs: 200 }).evaluate({ a: 'ok' })).toBe('ok!');
  });

  it("one owner's runaway evaluations leave a thread for everyone else", async () => {
    const evil = compileExpression(CATASTROPHIC, { timeoutMs: 1000, owner: 'evil-webhook' });
    const calm = compileExpression('a & "!"', { timeoutMs: 1000, owner: 'calm-webhook' });
    // the threads started first (their start, up to a second on a busy machine, is not measured)
    await Promise.all([calm.evaluate({ a: 'ok' }), calm.evaluate({ a: 'ok' })]);
    const runaway = Array.from({ length: 6 }, () => evil.evaluate(EVIL).catch((e: unknown) => e));
    const started = performance.now();
    expect(await calm.evaluate({ a: 'ok' })).toBe('ok!');
    // without the share it queues behind the runaways, each holding its thread for a second
    expect(performance.now() - started).toBeLessThan(1000);
    for (const error of await Promise.all(runaway)) expect((error as ExpressionError).code).toBe('D1012');
  });

  it('an owner whose evaluation was stopped waits for the new thread; the one left stays with the others', async () => {
    await closeExpressionPool();
    const before = configureExpressionPool({ threads: 2 });
    try {
      const evil = compileExpression(CATASTROPHIC, { timeoutMs: 100, owner: 'evil-respawn' });
      const calm = compileExpression('a & "!"', { timeoutMs: 1000, owner: 'calm-respawn' });
      let firstStopped!: () => void;
      const stopped = new Promise<void>((resolve) => (firstStopped = resolve));
      let done = false;
      const runaways = Promise.all(Array.from({ length: 5 }, () => evil.evaluate(EVIL).catch((e: unknown) => (firstStopped(), e))))
        .finally(() => (done = true));
      await stopped;
      // From the first stop on, on every turn of the event loop: while the runaway owner holds a
      // thread, a ready one is left that it does not hold. Before, the stopped thread's owner
      // took the only ready thread while its replacement started, and everyone else waited.
      const unfair: unknown[] = [];
      let turns = 0;
      while (!done) {
        const { threads } = expressionPoolState();
        if (threads.some((t) => t.owner === 'evil-respawn') && !threads.some((t) => t.ready && t.owner !== 'evil-respawn')) unfair.push(threads);
        if (++turns % 25 === 0) expect(await calm.evaluate({ a: 'ok' })).toBe('ok!');
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(turns).toBeGreaterThan(100);
      expect(unfair).toEqual([]);
      for (const error of await runaways) expect((error as ExpressionError).code).toBe('D1012');
    } finally {
      await closeExpressionPool();
      configureExpressionPool(before);
    }
  });

  it('each evaluation has its limit to itself, also 100 at once', async () => {
    const source = '$count([1..5000].($ * 2)[$ % 3 = 0])';
    // How long one takes alone here (warm), then a limit of ten times that (machines this runs
    // on are shared and busy): 100 at once take far longer together, and none may be stopped.
    const probe = compileExpression(source, { timeoutMs: 10_000 });
    await probe.evaluate({});
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await probe.evaluate({});
      times.push(performance.now() - t);
    }
    const alone = times.sort((a, b) => a - b)[2]!;
    const limit = Math.round(10 * alone + 200);
    const busy = compileExpression(source, { timeoutMs: limit });
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 100 }, () => busy.evaluate({})));
    expect(results).toEqual(Array(100).fill(1666));
    // the point of the test: together they ran past one limit, and none was stopped
    expect(performance.now() - started).toBeGreaterThan(limit);
  });

  it('bounds what &, $pad, $join and a result may build', async () => {
    const pad = await failure(compileExpression('$pad("x", 100000000)', { timeoutMs: 20_000 }).evaluate({}));
    expect(pad.message).toMatch(/\$pad would be longer than/);
    const join = await failure(compileExpression('$join([1..100000].$string(), "----------")', { timeoutMs: 20_000 }).evaluate({}));
    expect(join.message).toMatch(/\$join would be longer than/);
    // doubled with & (a rope, cheap) and then flattened by $length: before, this aborted the process
    const doubled = await failure(compileExpression('$length($reduce([1..27], function($a, $b) { $a & $a }, "xy"))', { timeoutMs: 20_000 }).evaluate({}));
    expect(doubled.message).toMatch(/a string joined with & would be longer than/);
    const big = await failure(compileExpression('[1..200000].$string()', { timeoutMs: 20_000 }).evaluate({}));
    expect(big.message).toMatch(/the result is larger than/);
    // ordinary uses keep jsonata's meaning
    expect(await compileExpression('[$pad("ab", -5, "xy"), $pad("ab", 4), $join(["a", "b"], ","), a & 1 & true & [1] & {"x": 1} & nothing & 0.5]', { timeoutMs: 20_000 }).evaluate({ a: 'A' }))
      .toEqual(['xyxab', 'ab  ', 'a,b', 'A1true[1]{"x":1}0.5']);
  });

  it('bounds $replace and $string before they build: a long replacement over a long body fails with the reason', async () => {
    const body = { s: 'a'.repeat(200_000), r: 'b'.repeat(200_000) };
    // Before, each of these built (or, under $length, flattened) 4e10 characters: the process aborted.
    for (const source of ['$length($replace(s, "a", r))', '$length($replace(s, /a/, r))', '$length($replace(s, /(a)/, "$1$1$1$1$1$1"))']) {
      const error = await failure(compileExpression(source, { timeoutMs: 20_000 }).evaluate(body));
      expect(error.code).toBe('OUTPUT_LIMIT');
      expect(error.message).toMatch(/\$replace would be longer than 1048576 characters/);
    }
    const repeated = await failure(compileExpression('($s := s; $length($string([1..100].($s))))', { timeoutMs: 20_000 }).evaluate(body));
    expect(repeated.message).toMatch(/\$string would be longer than/);
    // within the bound, jsonata's own meaning: $0, groups, $$, a limit, a function, a string pattern
    expect(await compileExpression(
      '[$replace("abcabc", /(b)(c)/, "[$2$1$0$$]"), $replace("a.b.c", ".", "--", 1), $replace("x1y22", /\\d+/, function($m) { "<" & $m.match & ">" }), $replace(s, "a", "bb") ~> $length(), $string({"n": [1, true, null]})]',
      { timeoutMs: 20_000 },
    ).evaluate({ s: 'a'.repeat(1000) })).toEqual(['a[cbbc$]a[cbbc$]', 'a--b.c', 'x<1>y<22>', 2000, '{"n":[1,true,null]}']);
  });

  it('a syntax error is still refused when compiling, on the calling thread', () => {
    expect(() => compileExpression('a +', { timeoutMs: 100 })).toThrow(ExpressionError);
  });
});

describe('in the pipeline', () => {
  const TENANT = 'sandbox';
  let db: TestDatabase;
  let tenant: string;
  let receiver: TestServer;
  beforeAll(async () => {
    db = await createTestDatabase();
    tenant = await makeTenant(db.pool, TENANT);
    receiver = await startTestServer(db.url, { worker: false, env: { INTAKE_JSONATA_TIMEOUT_MS: '300' } });
  });
  afterAll(async () => {
    await receiver?.stop();
    await db?.drop();
    await closeExpressionPool();
  });

  const hook = (slug: string, title: string, extra: object = {}) => makeWebhook(db.pool, TENANT, {
    name: slug, slug, auth: { auth_type: 'hmac_sha256' }, rate_limit_per_minute: 0,
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title } },
    ...extra,
  });

  it("a mapping that overruns fails its delivery, and another tenant's drain does not wait for it", async () => {
    const other = await makeTenant(db.pool, 'sandbox-other');
    const evil = await hook('evil', CATASTROPHIC);
    const fine = await makeWebhook(db.pool, 'sandbox-other', {
      name: 'fine', slug: 'fine', auth: { auth_type: 'hmac_sha256' }, rate_limit_per_minute: 0,
      handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 's' } },
    });
    const bad = await postSigned(receiver.url, TENANT, 'evil', evil.secret!, EVIL);
    const good = await postSigned(receiver.url, 'sandbox-other', 'fine', fine.secret!, { s: 'Disk full' });
    expect([bad.status, good.status]).toEqual([200, 200]);

    const options = { jsonataTimeoutMs: 300 };
    const started = performance.now();
    let fineDone = 0;
    await Promise.all([
      drainWebhook(db.pool, tenant, evil.id, options),
      drainWebhook(db.pool, other, fine.id, options).then(() => (fineDone = performance.now() - started)),
    ]);
    const evilDone = performance.now() - started;
    expect(fineDone).toBeLessThan(evilDone);

    const failed = await settledDelivery(db.pool, bad.body.delivery_id);
    expect(failed).toMatchObject({ dispatch_status: 'failed', retry_count: 0 });
    expect(failed.error_message).toBe('mapping for field "title": JSONata evaluation timeout: it ran longer than 300 ms (INTAKE_JSONATA_TIMEOUT_MS) and was stopped (D1012)');
    expect(await settledDelivery(db.pool, good.body.delivery_id)).toMatchObject({ dispatch_status: 'dispatched' });
  });

  it('an idempotency expression that overruns: a recorded failed delivery (400), never one without a key', async () => {
    const keyed = await hook('keyed', 's', { idempotency: { type: 'jsonata', value: CATASTROPHIC } });
    const answer = await postSigned(receiver.url, TENANT, 'keyed', keyed.secret!, EVIL);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'idempotency key expression failed: JSONata evaluation timeout: it ran longer than 300 ms (INTAKE_JSONATA_TIMEOUT_MS) and was stopped (D1012)',
      delivery_id: expect.any(String),
    });
    const { rows } = await db.pool.query(`select b.* from intake.inbound_webhook_deliveries d cross join lateral intake.delivery_with_body(d) b where d.delivery_id = $1`, [answer.body.delivery_id]);
    expect(rows[0]).toMatchObject({ dispatch_status: 'failed', response_status: 400, idempotency_key: null, request_body: EVIL });
    const { rows: jobs } = await db.pool.query(`select 1 from graphile_worker.jobs where key = $1`, [`drain:${keyed.id}`]);
    expect(jobs).toEqual([]);
  });
});
