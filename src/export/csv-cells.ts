/**
 * CSV cells that a spreadsheet cannot run: a cell starting with =, +, -, @,
 * tab or CR is a formula to Excel and LibreOffice (CSV injection), so it is
 * prefixed with a single quote. Quoting follows RFC 4180 for the dialects
 * whose readers parse quotes.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

/** Prefixes a cell that would start a formula with `'`; other cells are unchanged. */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** A neutralised cell, quoted (RFC 4180) when it holds a comma, a quote or a line break. */
export function csvCell(value: string): string {
  const v = neutraliseCell(value);
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvRow(cells: (string | number)[], separator = ','): string {
  return cells.map((c) => csvCell(String(c))).join(separator) + '\r\n';
}

/** For dialects read by a plain split on commas (no quoting): which cell cannot be carried, or null. */
export function unquotableCell(cells: Record<string, string>): string | null {
  for (const [what, v] of Object.entries(cells)) {
    if (/[",\r\n]/.test(v))
      return `the ${what} holds a comma, a quote or a line break, which this dialect cannot carry (its readers split on commas)`;
  }
  return null;
}
