// The additive-first rule (docs/operations.md "Upgrades"): `intake migrate` runs while the previous
// release still serves, so a migration must not take away what that release uses. Checked on the
// text of every migration after the ones released before the rule (000001–000010) and of
// current.sql: a statement that drops or renames a table, column or function, or changes a
// column's type, must say why it is safe on a line of its own, `-- contract: <why>` (the second
// release of a two-step change, once nothing uses the old shape).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { PROJECT_ROOT } from '../core/env.ts';

const FOLDER = path.join(PROJECT_ROOT, 'db', 'migrations');
/** the last migration written before the rule */
const BEFORE_THE_RULE = 10;

const DESTRUCTIVE = [
  /\bdrop\s+(table|column|function|view|schema|type)\b/i,
  /\balter\s+table\b[^;]*\brename\b/i,
  /\balter\s+function\b[^;]*\brename\b/i,
  /\balter\s+column\b[^;]*\btype\b/i,
  /\balter\s+column\b[^;]*\bset\s+not\s+null\b/i,
];

/** The destructive statements of one migration's text that no `-- contract:` line covers. */
function uncoveredContractions(sql: string): string[] {
  if (/^--\s*contract:\s*\S/m.test(sql)) return [];
  const statements = sql.replace(/--[^\n]*/g, '').split(';').map((s) => s.trim()).filter(Boolean);
  return statements.filter((statement) => DESTRUCTIVE.some((pattern) => pattern.test(statement)));
}

function migrationsUnderTheRule(): { name: string; sql: string }[] {
  const committed = readdirSync(path.join(FOLDER, 'committed'))
    .filter((f) => f.endsWith('.sql') && Number(f.slice(0, 6)) > BEFORE_THE_RULE)
    .map((f) => ({ name: `committed/${f}`, sql: readFileSync(path.join(FOLDER, 'committed', f), 'utf8') }));
  return [...committed, { name: 'current.sql', sql: readFileSync(path.join(FOLDER, 'current.sql'), 'utf8') }];
}

it('no migration since the rule takes away what the previous release uses, unless it says why', () => {
  const found = migrationsUnderTheRule().flatMap(({ name, sql }) => uncoveredContractions(sql).map((s) => `${name}: ${s.slice(0, 120)}`));
  expect(found).toEqual([]);
});

it('the check catches each kind, and lets additive statements and a stated contraction through', () => {
  for (const statement of [
    'alter table intake.inbound_webhooks drop column description',
    'drop table intake.bulk_replays',
    'alter table intake.workflows rename column name to title',
    'alter table intake.workflows rename to flows',
    'alter table intake.workflows alter column name type varchar(50)',
    'alter table intake.workflows alter column description set not null',
    'drop function intake.replay_delivery(uuid)',
  ]) {
    expect(uncoveredContractions(`${statement};`), statement).toHaveLength(1);
  }
  expect(uncoveredContractions(`alter table intake.workflows add column color text;
    create index concurrently if not exists workflows_color on intake.workflows (tenant, color);
    -- the old column was dropped here once: a comment mentioning drop column is not a statement
    alter table intake.workflows alter column color set default 'blue';`)).toEqual([]);
  expect(uncoveredContractions(`-- contract: release 0.3 stopped reading description\nalter table intake.workflows drop column description;`)).toEqual([]);
});
