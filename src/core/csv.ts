/**
 * The one CSV reader (RFC 4180: quoted fields, doubled quotes, line breaks
 * inside quotes) for seed files, user lists and assignment lists. It takes
 * physical lines, so a streaming reader and a whole-text reader share it.
 */
import { DataError } from './errors.js';

export interface CsvRecord {
  /** The fields as written (not trimmed), quotes removed. */
  fields: string[];
  /** 1-based line the record starts on. */
  line: number;
  /** The record's text as in the file; lines of a quoted line break are joined with \n. */
  text: string;
}

/** A record longer than this is not a CSV row of any supported file: an unclosed quote ran on. */
const MAX_RECORD_CHARS = 1024 * 1024;

/** Builds records from physical lines; a quoted field that holds a line break continues onto the next line. */
export class CsvRecordAssembler {
  private fields: string[] = [];
  private field = '';
  private quoted = false;
  private startLine = 0;
  private text = '';

  constructor(private readonly delimiter = ',') {}

  /** Feeds one line (without its line break); returns the record it completes, or null while a quoted field is open. */
  add(lineText: string, line: number): CsvRecord | null {
    if (!this.quoted) {
      this.startLine = line;
      this.text = lineText;
      // Most lines have no quote: split them without the character loop.
      if (!lineText.includes('"')) return { fields: lineText.split(this.delimiter), line, text: lineText };
    } else {
      this.text += `\n${lineText}`;
      this.field += '\n';
      if (this.text.length > MAX_RECORD_CHARS)
        throw new DataError(`the quoted field opened on line ${this.startLine} runs past 1 MB: a quote is not closed`, {
          code: 'bad-csv',
          where: `line ${this.startLine}`,
        });
    }
    this.scan(lineText);
    if (this.quoted) return null;
    this.fields.push(this.field);
    const record = { fields: this.fields, line: this.startLine, text: this.text };
    this.fields = [];
    this.field = '';
    return record;
  }

  /** Called after the last line: a quote still open is an error. */
  finish(): void {
    if (this.quoted)
      throw new DataError(`unterminated quoted field starting on line ${this.startLine}`, {
        code: 'bad-csv',
        where: `line ${this.startLine}`,
      });
  }

  /** The fields read so far with an open quote closed where the text ends (a sample cut mid-record). */
  takeOpenFields(): string[] {
    const fields = [...this.fields, this.field];
    this.fields = [];
    this.field = '';
    this.quoted = false;
    return fields;
  }

  private scan(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (this.quoted) {
        if (c === '"' && s[i + 1] === '"') {
          this.field += '"';
          i++;
        } else if (c === '"') this.quoted = false;
        else this.field += c;
      } else if (c === '"' && this.field.trim() === '') {
        // Blanks before an opening quote are not part of the field.
        this.quoted = true;
        this.field = '';
      } else if (c === this.delimiter) {
        this.fields.push(this.field);
        this.field = '';
      } else this.field += c;
    }
  }
}

/** Splits text into lines the way the streaming reader does: \n or \r\n. */
function physicalLines(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** A whole CSV text as records with their start lines; empty lines are left out, a byte-order mark is dropped. */
export function parseCsvRows(text: string, delimiter = ','): CsvRecord[] {
  const reader = new CsvRecordAssembler(delimiter);
  const rows: CsvRecord[] = [];
  physicalLines(text.replace(/^\uFEFF/, '')).forEach((lineText, i) => {
    const record = reader.add(lineText, i + 1);
    if (record && record.text !== '') rows.push(record);
  });
  reader.finish();
  return rows;
}

/** One line's fields, trimmed; a quote left open runs to the end of the line (for sniffing a format from a sample). */
export function splitCsv(line: string, delimiter = ','): string[] {
  const reader = new CsvRecordAssembler(delimiter);
  const record = reader.add(line, 1);
  return (record ? record.fields : reader.takeOpenFields()).map((f) => f.trim());
}

/** Maps a header row to column indexes; unknown, repeated or missing required columns are refused with the file's line 1. */
export function csvHeader(
  row: { fields: string[] },
  known: readonly string[],
  required: readonly string[],
  file: string,
): Map<string, number> {
  const cols = new Map<string, number>();
  row.fields.forEach((h, i) => {
    const name = h.trim().toLowerCase();
    if (!known.includes(name))
      throw new DataError(`${file}:1: unknown column '${h}': the columns are ${known.join(', ')}`, {
        code: 'bad-csv',
        where: `${file}:1`,
      });
    if (cols.has(name))
      throw new DataError(`${file}:1: column '${name}' appears twice`, { code: 'bad-csv', where: `${file}:1` });
    cols.set(name, i);
  });
  for (const r of required) {
    if (!cols.has(r))
      throw new DataError(`${file}:1: the header has no '${r}' column (columns: ${known.join(', ')})`, {
        code: 'bad-csv',
        where: `${file}:1`,
      });
  }
  return cols;
}

/** A rejected line of an all-or-nothing CSV import: file:line and why. */
export interface LineError {
  where: string;
  message: string;
}
