/**
 * Results too large to hold at once (`tokens list`, `audit list` of 100,000
 * rows): written as they are read, with the stream's back-pressure, so the
 * process's memory stays flat in the store's size. The JSON is the same text
 * as a pretty-printed array; the table is aligned from a first pass over the rows.
 */
import { escapeForTerminal, jsonForTerminal } from '../core/text-guard.js';
import type { Output } from './context.js';

type Cell = string | number | null | undefined;

/** Writes `text`, waiting for the stream to drain when its buffer is full. */
function write(stream: NodeJS.WritableStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise((resolve) => stream.once('drain', resolve));
}

/** `[` ... `]` with each item as JSON.stringify(array, null, 2) would print it, written item by item; the count written. */
export async function streamJsonArray(stream: NodeJS.WritableStream, items: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const item of items) {
    // '[' only with the first item: an error before any row leaves stdout to the error JSON.
    const text = jsonForTerminal(item).replace(/\n/g, '\n  ');
    await write(stream, `${n === 0 ? '[\n' : ',\n'}  ${text}`);
    n++;
  }
  await write(stream, n === 0 ? '[]\n' : '\n]\n');
  return n;
}

/** An aligned table in two passes over `rows()` (widths first, then the lines); `empty` when there is no row. */
export async function streamTable(
  stream: NodeJS.WritableStream,
  headers: string[],
  rows: () => AsyncIterable<Cell[]>,
  empty: string,
): Promise<number> {
  const show = (c: Cell) => (c === null || c === undefined ? '-' : escapeForTerminal(String(c)));
  const widths = headers.map((h) => h.length);
  let n = 0;
  for await (const r of rows()) {
    r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, show(c).length)));
    n++;
  }
  if (n === 0) {
    await write(stream, `${empty}\n`);
    return 0;
  }
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n';
  await write(stream, line(headers));
  for await (const r of rows()) await write(stream, line(r.map(show)));
  return n;
}

/** The rows as JSON (--json) or as a table, streamed either way. */
export async function streamResult<T>(
  out: Output,
  items: () => AsyncIterable<T>,
  table: { headers: string[]; cells: (item: T) => Cell[]; empty: string },
): Promise<number> {
  if (out.json) return streamJsonArray(out.stdout, items());
  async function* cells() {
    for await (const item of items()) yield table.cells(item);
  }
  return streamTable(out.stdout, table.headers, cells, table.empty);
}
