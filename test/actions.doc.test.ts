import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { renderActionsDoc } from '../worker/actions/doc.ts';
import { listActions } from '../worker/actions/index.ts';

it('docs/actions.md is the registry as it is now (npm run docs:actions regenerates it)', () => {
  const committed = readFileSync(new URL('../docs/actions.md', import.meta.url), 'utf8');
  expect(committed).toBe(renderActionsDoc());
  for (const action of listActions()) expect(committed).toContain(`\`${action.name}\``);
});
