// Loads every file in db/functions/ and then db/views/ (each `create or replace`, so loading
// is idempotent) in one transaction. Run after migrations by `intake migrate`, and by
// graphile-migrate's afterAllMigrations/afterCurrent hooks (which pass GM_DBURL).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));

function sqlFiles(folder: string): string[] {
  const dir = path.join(here, folder);
  return fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => path.join(dir, f));
}

export async function loadFunctions(client: pg.ClientBase): Promise<number> {
  const files = [...sqlFiles('functions'), ...sqlFiles('views')];
  await client.query('begin');
  try {
    for (const file of files) {
      try {
        await client.query(fs.readFileSync(file, 'utf8'));
      } catch (error) {
        throw new Error(`${path.relative(path.join(here, '..'), file)}: ${(error as Error).message}`);
      }
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
  return files.length;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const client = new pg.Client({ connectionString: process.env.GM_DBURL ?? process.env.DATABASE_URL });
  await client.connect();
  try {
    const count = await loadFunctions(client);
    console.error(`loaded ${count} function and view files`);
  } finally {
    await client.end();
  }
}
