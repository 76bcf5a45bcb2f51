/**
 * CSV dialects with a header line (the format table's entries with `columns`):
 * columns found by name, every row checked against the header.
 */
import { DataError } from '../core/errors.js';
import { itemOf } from './record.js';
import { lineWhere, readCsvRecords } from './text.js';
import type { ParseContext, ParseItem, SeedRecord } from './types.js';

export interface HeaderDialect {
  /** The name people know the format by, for messages. */
  title: string;
  /** Column names as the vendor writes them (matched case-insensitively, blanks trimmed). */
  columns: readonly string[];
}

const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');

export async function* parseHeaderCsv(
  file: string,
  ctx: ParseContext,
  dialect: HeaderDialect,
  toRecord: (row: Record<string, string>, where: string) => SeedRecord,
): AsyncGenerator<ParseItem> {
  let index: Map<string, number> | null = null;
  let width = 0;
  let rows = 0;
  for await (const { text, line, fields } of readCsvRecords(file, ctx)) {
    if (text.trim() === '') continue;
    const where = lineWhere(ctx, line);
    if (!index) {
      const found = new Map(fields.map((f, i) => [norm(f), i] as const));
      for (const col of dialect.columns) {
        if (!found.has(norm(col))) {
          throw new DataError(
            `${where}: the header of this ${dialect.title} file has no '${col}' column; it needs: ${dialect.columns.join(',')}`,
            { code: 'missing-column', where },
          );
        }
      }
      index = found;
      width = fields.length;
      continue;
    }
    rows++;
    const serialIdx = index.get(norm(dialect.columns.find((c) => /serial/i.test(c)) ?? ''));
    const serial = serialIdx !== undefined ? fields[serialIdx] : undefined;
    if (fields.length < width) {
      const missing = [...index.entries()].filter(([, i]) => i >= fields.length).map(([n]) => `'${n}'`);
      yield {
        problem: {
          where,
          serial,
          code: 'missing-column',
          message: `the row has ${fields.length} fields but the header has ${width}: no ${missing.join(', ')}`,
        },
      };
      continue;
    }
    const row: Record<string, string> = {};
    for (const col of dialect.columns) row[col] = fields[index.get(norm(col))!]!;
    yield itemOf(() => toRecord(row, where), where, serial);
  }
  if (!index) throw new DataError(`${ctx.fileName}: the file is empty`, { code: 'empty-file' });
  if (rows === 0) throw new DataError(`${ctx.fileName}: the file has a header but no tokens`, { code: 'empty-file' });
}
