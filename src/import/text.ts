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

/** The file's bytes as they are: from the pipe's copy in memory, else from disk. */
async function* rawChunks(path: string, data: Buffer | undefined): AsyncGenerator<Buffer> {
  if (data) {
    for (let at = 0; at < data.length; at += CHUNK_BYTES) yield data.subarray(at, at + CHUNK_BYTES);
    return;
  }
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) yield chunk as Buffer;
}

/** The encoding a byte-order mark names: UTF-8 (dropped), or UTF-16 (turned into UTF-8), with the mark's length. */
export function byteOrderMark(head: Buffer): { encoding: 'utf-8' | 'utf-16le' | 'utf-16be'; length: number } | null {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return null;
}

/** A UTF-16 file as UTF-8, a chunk at a time (a character split between chunks waits for the next). */
class Utf16ToUtf8 {
  private readonly decoder: TextDecoder;
  constructor(
    encoding: 'utf-16le' | 'utf-16be',
    private readonly fileName: string,
  ) {
    this.decoder = new TextDecoder(encoding, { fatal: true });
  }

  convert(chunk: Buffer | undefined): Buffer {
    try {
      return Buffer.from(chunk ? this.decoder.decode(chunk, { stream: true }) : this.decoder.decode(), 'utf8');
    } catch {
      throw new DataError(`${this.fileName}: the file starts with a UTF-16 byte-order mark but is not valid UTF-16`, {
        code: 'bad-encoding',
        where: this.fileName,
      });
    }
  }
}

/**
 * The file's bytes a chunk at a time, as UTF-8: a UTF-8 byte-order mark removed, a UTF-16 file (with its mark,
 * as XML requires) converted. onBytes hears how far the reading got in the file's own bytes.
 */
export async function* readByteChunks(
  path: string,
  ctx: Pick<ParseContext, 'onBytes' | 'data' | 'fileName'> = { fileName: path },
): AsyncGenerator<Buffer> {
  let read = 0;
  let utf16: Utf16ToUtf8 | null = null;
  for await (const data of rawChunks(path, ctx.data)) {
    let chunk = data;
    if (read === 0) {
      const bom = byteOrderMark(chunk);
      if (bom) chunk = chunk.subarray(bom.length);
      if (bom && bom.encoding !== 'utf-8') utf16 = new Utf16ToUtf8(bom.encoding, ctx.fileName);
    }
    read += data.length;
    ctx.onBytes?.(read);
    yield utf16 ? utf16.convert(chunk) : chunk;
  }
  const rest = utf16?.convert(undefined);
  if (rest && rest.length > 0) yield rest;
}

/** The file as decoded text chunks, byte-order mark removed. */
export async function* readTextChunks(
  path: string,
  ctx: Pick<ParseContext, 'onBytes' | 'data' | 'fileName'> = { fileName: path },
): AsyncGenerator<string> {
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
export async function* readLines(
  path: string,
  ctx: Pick<ParseContext, 'onBytes' | 'data' | 'fileName'> = { fileName: path },
): AsyncGenerator<TextLine> {
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
  ctx: Pick<ParseContext, 'onBytes' | 'data' | 'fileName'> = { fileName: path },
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
