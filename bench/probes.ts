// What the benchmark measures beside its rates, so a reader can tell a CPU-bound run from a
// latency-bound one: the CPU each process used during a round (from /proc), the machine's fsync
// latency, and the load average the round ran under (the machine may be shared).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system, all threads) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: count fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14, 15)
  } catch {
    return 0;
  }
}

export type CpuGroups = Record<string, number[]>;

/**
 * The CPU each group of processes uses in the window from `fromMs` to `toMs` after now, as a share
 * of one core (1 = a whole core). The groups are found when the window opens (`find`), so
 * processes a run starts (pgbench's backends, wrk) are there, and again when it closes (before
 * the run ends, while they still are): a process first seen then started inside the window and
 * counts whole.
 */
export async function cpuDuring(find: () => Promise<CpuGroups>, fromMs: number, toMs: number): Promise<Record<string, number>> {
  await sleep(fromMs);
  const start = new Map<number, number>();
  for (const pids of Object.values(await find())) for (const pid of pids) start.set(pid, cpuSeconds(pid));
  const startedAt = performance.now();
  await sleep(Math.max(0, toMs - fromMs));
  const groups = await find();
  const seconds = (performance.now() - startedAt) / 1000;
  const out: Record<string, number> = {};
  for (const [group, pids] of Object.entries(groups)) {
    let used = 0;
    for (const pid of pids) used += Math.max(0, cpuSeconds(pid) - (start.get(pid) ?? 0));
    out[group] = used / seconds;
  }
  return out;
}

/**
 * The Postgres processes that matter to a round on `database`: the backends of clients whose
 * application_name is `appName` (the receiver's), and the others that work for this database or
 * for the whole server (WAL writer, checkpointer, background writer, autovacuum, other clients of
 * this database). Backends of other databases (another user of a shared server) are left out.
 */
export async function postgresPids(pool: pg.Pool, database: string, appName: string): Promise<{ mine: number[]; others: number[] }> {
  const { rows } = await pool.query<{ pid: number; application_name: string }>(
    `select pid, application_name from pg_stat_activity
      where pid <> pg_backend_pid() and (datname = $1 or (datname is null and backend_type <> 'client backend'))`,
    [database],
  );
  return {
    mine: rows.filter((r) => r.application_name === appName).map((r) => r.pid),
    others: rows.filter((r) => r.application_name !== appName).map((r) => r.pid),
  };
}

/** The load average now: 1, 5 and 15 minutes. */
export function loadAverage(): string {
  return os.loadavg().map((x) => x.toFixed(2)).join(' ');
}

export interface FsyncProbe {
  /** pg_test_fsync's fdatasync of one 8 kB write, in ms (null when pg_test_fsync is not found) */
  fdatasyncMs: number | null;
  /** one-row insert transactions on one connection: mean latency with synchronous_commit on, and off */
  commitMs: number;
  asyncCommitMs: number;
}

function pgBinDir(): string | null {
  const out = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  return out.error || out.status !== 0 ? null : out.stdout.trim();
}

/**
 * The machine's fsync latency two ways: pg_test_fsync's fdatasync (on a file in the OS temp
 * directory, which may not be the disk Postgres writes to), and what a commit costs Postgres
 * itself: a one-row insert on one connection with synchronous_commit on, against off.
 */
export function probeFsync(url: string, table: string): FsyncProbe {
  let fdatasyncMs: number | null = null;
  const bin = pgBinDir();
  const tool = bin && fs.existsSync(path.join(bin, 'pg_test_fsync')) ? path.join(bin, 'pg_test_fsync') : null;
  if (tool) {
    const file = path.join(os.tmpdir(), `intake-bench-fsync-${process.pid}`);
    const out = spawnSync(tool, ['-s', '1', '-f', file], { encoding: 'utf8', timeout: 60_000 }).stdout ?? '';
    fs.rmSync(file, { force: true });
    // the first fdatasync line is the "one 8kB write" test
    const m = out.match(/fdatasync\s+[\d.]+ ops\/sec\s+(\d+) usecs\/op/);
    if (m) fdatasyncMs = Number(m[1]) / 1000;
  }
  const latency = (syncCommit: 'on' | 'off') => {
    const script = path.join(os.tmpdir(), `intake-bench-commit-${process.pid}.sql`);
    fs.writeFileSync(script, `insert into ${table} (body) values ('{}');\n`);
    const out = spawnSync('pgbench', ['-n', '-c', '1', '-T', '2', '-f', script, url], {
      encoding: 'utf8', env: { ...process.env, PGOPTIONS: `-c synchronous_commit=${syncCommit}` },
    });
    fs.rmSync(script, { force: true });
    const ms = Number(out.stdout.match(/latency average = ([\d.]+) ms/)?.[1]);
    if (!Number.isFinite(ms)) throw new Error(`pgbench (commit probe) failed: ${out.stderr || out.stdout}`);
    return ms;
  };
  return { fdatasyncMs, commitMs: latency('on'), asyncCommitMs: latency('off') };
}
