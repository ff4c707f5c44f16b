// What the fault scenarios share: recording a row of the table, spare loopback ports, a
// redis-server of a scenario's own, signed and unsigned requests with a deadline, and the
// worker as a separate process (cli/intake.ts worker) that a scenario may kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { PROJECT_ROOT } from '../../core/env.ts';
import { testMasterKey } from '../support/server.ts';
import type { FaultRow } from './table.ts';

export function recordRow(row: FaultRow): void {
  fs.appendFileSync(inject('faultResults'), JSON.stringify(row) + '\n');
}

export function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function startRedis(): Promise<{ url: string; child: ChildProcess; stop(): void }> {
  const port = await sparePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  child.on('error', () => {});
  const stop = () => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  };
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) return { url: `redis://127.0.0.1:${port}`, child, stop };
    await sleep(100);
  }
  stop();
  throw new Error('redis-server did not start');
}

export interface Sent {
  /** 0 when no answer came within the deadline (or the connection failed) */
  status: number;
  body: any;
  ms: number;
}

/** POSTs compact JSON, signed with `secret` (hmac_sha256 hex in X-Signature) unless it is null. */
export async function send(url: string, body: unknown, secret: string | null, options: { timeoutMs?: number; headers?: Record<string, string> } = {}): Promise<Sent> {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  headers['x-signature'] = secret === null ? '00'.repeat(32) : createHmac('sha256', secret).update(text).digest('hex');
  const started = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', headers, body: text, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
    const answer = await res.json().catch(() => null);
    return { status: res.status, body: answer, ms: performance.now() - started };
  } catch {
    return { status: 0, body: null, ms: performance.now() - started };
  }
}

/**
 * `intake worker` as a child process against `databaseUrl`; started() resolves once it says it
 * runs, stop() ends it (SIGTERM) and waits.
 */
export function spawnWorker(databaseUrl: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['cli/intake.ts', 'worker'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'error', DATABASE_URL: databaseUrl, INTAKE_MASTER_KEY: testMasterKey, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const started = new Promise<void>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('Intake worker running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`intake worker exited (${code}) before it ran:\n${stderr}`)));
  });
  started.catch(() => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    exited,
    started: () => started,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
