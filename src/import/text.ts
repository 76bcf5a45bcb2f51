/**
 * Streaming text input shared by the parsers: the file as UTF-8 chunks,
 * as numbered lines, and as CSV records. Nothing here holds more than a chunk.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { CsvRecordAssembler, type CsvRecord } from '../core/csv.js';
import { DataError } from '../core/errors.js';
import type { ParseContext } from './types.js';

const CHUNK_BYTES = 256 * 1024;

/** The file's bytes a chunk at a time, the UTF-8 byte-order mark removed; onBytes hears how far the reading got. */
export async function* readByteChunks(path: string, ctx: Pick<ParseContext, 'onBytes'> = {}): AsyncGenerator<Buffer> {
  let read = 0;
  for await (const data of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
    let chunk = data as Buffer;
    if (read === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    read += (data as Buffer).length;
    ctx.onBytes?.(read);
    yield chunk;
  }
}

/** The file as decoded text chunks, byte-order mark removed. */
export async function* readTextChunks(path: string, ctx: Pick<ParseContext, 'onBytes'> = {}): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const chunk of readByteChunks(path, ctx)) {
    const text = decoder.write(chunk);
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

export interface TextLine {
  text: string;
  /** 1-based line number. */
  line: number;
}

/** The file line by line (\n, \r\n or \r\n endings), numbered from 1. */
export async function* readLines(path: string, ctx: Pick<ParseContext, 'onBytes'> = {}): AsyncGenerator<TextLine> {
  let pending = '';
  let line = 0;
  for await (const chunk of readTextChunks(path, ctx)) {
    pending += chunk;
    let start = 0;
    for (;;) {
      const nl = pending.indexOf('\n', start);
      if (nl < 0) break;
      line++;
      yield { text: pending.slice(start, nl).replace(/\r$/, ''), line };
      start = nl + 1;
    }
    pending = pending.slice(start);
    if (pending.length > 1024 * 1024)
      throw new DataError(`line ${line + 1} is longer than 1 MB: this is not a seed file of the chosen format`, {
        code: 'line-too-long',
      });
  }
  if (pending.length > 0) yield { text: pending.replace(/\r$/, ''), line: line + 1 };
}

/**
 * The file as CSV records (a quoted field may hold line breaks), fields trimmed, each with the line it starts on.
 * `isLiteral` lines (comments) are passed through whole as one field, so a stray quote in them opens nothing.
 */
export async function* readCsvRecords(
  path: string,
  ctx: Pick<ParseContext, 'onBytes'> = {},
  opts: { delimiter?: string; isLiteral?: (text: string) => boolean } = {},
): AsyncGenerator<CsvRecord> {
  const reader = new CsvRecordAssembler(opts.delimiter);
  let inRecord = false;
  for await (const { text, line } of readLines(path, ctx)) {
    if (!inRecord && opts.isLiteral?.(text)) {
      yield { fields: [text], line, text };
      continue;
    }
    const record = reader.add(text, line);
    inRecord = record === null;
    if (record) yield { ...record, fields: record.fields.map((f) => f.trim()) };
  }
  reader.finish();
}

/** Builds the `where` of a line: "seeds.csv:12". */
export function lineWhere(ctx: ParseContext, line: number): string {
  return `${ctx.fileName}:${line}`;
}
