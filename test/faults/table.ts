// One row per scenario: what was done to the system, what was measured, the numbers, and
// whether the promise held. Printed as a Markdown table (docs/reliability.md keeps one).
export interface FaultRow {
  scenario: string;
  measured: string;
  numbers: string;
  pass: boolean;
}

export function formatTable(unsorted: FaultRow[]): string {
  const rows = [...unsorted].sort((a, b) => a.scenario.localeCompare(b.scenario, 'en', { numeric: true }));
  const cells = [['scenario', 'what was measured', 'numbers', 'held'], ...rows.map((r) => [r.scenario, r.measured, r.numbers, r.pass ? 'pass' : 'FAIL'])];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => '| ' + row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line(cells[0]!), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.slice(1).map(line)].join('\n');
}
