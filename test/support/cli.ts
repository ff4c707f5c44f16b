// The `intake` command as a user runs it: a child process with only the environment given.
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../core/env.ts';
import { testMasterKey } from './server.ts';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `intake ...args` against `databaseUrl` (PATH, DATABASE_URL, INTAKE_MASTER_KEY, plus `env`),
 * with `input` on its stdin (none: stdin is closed).
 */
export function runIntake(databaseUrl: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['cli/intake.ts', ...args], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, INTAKE_MASTER_KEY: testMasterKey, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningIntake {
  /** everything written so far */
  readonly stdout: string;
  readonly stderr: string;
  /** resolves with the first stdout line matching `pattern` (fails after `timeoutMs`) */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then waits for the exit */
  stop(): Promise<number | null>;
}

/** Starts a long-running `intake ...args` (e.g. `start`) as `runIntake` does, until stopped. */
export function startIntake(databaseUrl: string, args: string[], env: Record<string, string> = {}): RunningIntake {
  const child = spawn(process.execPath, ['cli/intake.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, INTAKE_MASTER_KEY: testMasterKey, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exit: Promise<number | null> = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    async line(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = stdout.split('\n').find((l) => pattern.test(l));
        if (found) return found;
        if (child.exitCode !== null) throw new Error(`intake ${args.join(' ')} exited (${child.exitCode}) before printing ${pattern}:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`no line matching ${pattern} after ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}
