/**
 * Streaming text input shared by the parsers: the file as UTF-8 chunks,
 * as numbered lines, and CSV fields. Nothing here holds more than a chunk.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
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
    if (pending.length > 1024 * 1024) throw new DataError(`line ${line + 1} is longer than 1 MB: this is not a seed file of the chosen format`, { code: 'line-too-long' });
  }
  if (pending.length > 0) yield { text: pending.replace(/\r$/, ''), line: line + 1 };
}

/** Splits one CSV line on a delimiter; fields may be "quoted" with "" as an escaped quote. Fields are trimmed. */
export function splitCsv(line: string, delimiter = ','): string[] {
  if (!line.includes('"')) return line.split(delimiter).map((f) => f.trim());
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (ch === delimiter) {
      out.push(field.trim());
      field = '';
    } else field += ch;
  }
  out.push(field.trim());
  return out;
}

/** Builds the `where` of a line: "seeds.csv:12". */
export function lineWhere(ctx: ParseContext, line: number): string {
  return `${ctx.fileName}:${line}`;
}
