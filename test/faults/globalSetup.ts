// The suite's Postgres, Redis and migrated template (test/support/globalSetup.ts), plus a file
// each scenario appends its measurements to; at the end the table of them is printed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { setup as setupSupport, teardown as teardownSupport } from '../support/globalSetup.ts';
import { formatTable, type FaultRow } from './table.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    faultResults: string;
  }
}

let resultsFile = '';

export async function setup(project: TestProject): Promise<void> {
  await setupSupport(project);
  resultsFile = path.join(os.tmpdir(), `intake-faults-${process.pid}.jsonl`);
  fs.writeFileSync(resultsFile, '');
  project.provide('faultResults', resultsFile);
}

export async function teardown(): Promise<void> {
  try {
    const rows: FaultRow[] = fs.readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
    process.stdout.write('\n' + formatTable(rows) + '\n');
    fs.rmSync(resultsFile, { force: true });
  } finally {
    await teardownSupport();
  }
}
