// The `intake` command as a user runs it: a child process with only the environment given.
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../core/env.ts';
import { testMasterKey } from './server.ts';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `intake ...args` against `databaseUrl` (PATH, DATABASE_URL, INTAKE_MASTER_KEY, plus `env`). */
export function runIntake(databaseUrl: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['cli/intake.ts', ...args], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, INTAKE_MASTER_KEY: testMasterKey, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
