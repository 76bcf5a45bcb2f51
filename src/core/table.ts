/**
 * Aligned text columns for people at a terminal, shared by the CLI commands
 * and the device verbs in src/provision; JSON output never goes through this.
 */

/** Formats rows as aligned columns; a missing cell shows as '-'. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
