/**
 * Which format a seed file is in, from its first bytes, so `--format auto`
 * works and a wrong file is refused with a reason (a ZIP, PGP, not text).
 */
import { open } from 'node:fs/promises';
import { DataError } from '../core/errors.js';
import { isBlankOrComment, whyNoToken } from './csv-rows.js';
import { splitCsv } from '../core/csv.js';
import { IMPORT_FORMAT_TABLE } from './formats/index.js';
import { IMPORT_FORMATS, type ImportFormat } from './types.js';
import type { SeedSource } from './source.js';
import { byteOrderMark } from './text.js';

const HEAD_BYTES = 64 * 1024;

/** The first bytes of the source, as UTF-8 (a UTF-16 file with its byte-order mark converted, as the parsers read it). */
export async function readHead(source: SeedSource): Promise<Buffer> {
  const raw = source.data ? source.data.subarray(0, HEAD_BYTES) : await readFileHead(source.path);
  const bom = byteOrderMark(raw);
  if (!bom || bom.encoding === 'utf-8') return raw;
  // Cut at a whole character: the head is a sample, never parsed as the whole file.
  const body = raw.subarray(bom.length, bom.length + ((raw.length - bom.length) & ~1));
  return Buffer.from(new TextDecoder(bom.encoding).decode(body), 'utf8');
}

async function readFileHead(file: string): Promise<Buffer> {
  const fh = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new DataError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, {
      code: 'no-file',
    });
  });
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Refuses what is not a seed file at all, whatever --format says. */
export function refuseNonText(head: Buffer, fileName: string): void {
  const where = `${fileName}:1`;
  if (head.length === 0) throw new DataError(`${fileName}: the file is empty`, { code: 'empty-file', where: fileName });
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    throw new DataError(
      `${where}: this is a ZIP archive, not a seed file: unpack it first (vendors ship seed files in password-protected ZIPs)`,
      { code: 'not-xml', where },
    );
  }
  if (head.subarray(0, 27).toString('latin1').startsWith('-----BEGIN PGP')) {
    throw new DataError(
      `${where}: this file is PGP-armoured: decrypt it first (gpg --decrypt), then import the result`,
      { code: 'encrypted-file', where },
    );
  }
  if (head.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])))
    throw new DataError(`${where}: this is a gzip file: unpack it first`, { code: 'not-text', where });
  const sample = head.subarray(0, 4096);
  if (sample.includes(0))
    throw new DataError(`${where}: this is a binary file, not a seed file (PSKC, CSV or a URI list)`, {
      code: 'not-text',
      where,
    });
}

const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');

/** Formats known by their rows (the format table's `rows`), the first in table order. */
function detectByRows(data: string[]): ImportFormat | null {
  return IMPORT_FORMAT_TABLE.find((f) => f.rows?.(data))?.name ?? null;
}

/** A CSV dialect known by its header (the format table's `columns`): the one matching most of its columns. */
function detectByHeader(header: string[]): ImportFormat | null {
  // A header that matches most of a dialect's columns is that dialect; its parser names a missing column.
  const scored = IMPORT_FORMAT_TABLE.flatMap((f) =>
    f.columns ? [{ f, hits: f.columns.filter((c) => header.includes(norm(c))).length, of: f.columns.length }] : [],
  )
    .filter((d) => d.hits === d.of || (d.hits >= 2 && d.hits * 2 > d.of))
    .sort((a, b) => b.hits / b.of - a.hits / a.of || b.hits - a.hits);
  const top = scored[0];
  if (!top) return null;
  const needs = top.f.partialNeeds;
  return top.hits === top.of || !needs || header.includes(needs) ? top.f.name : null;
}

/** privacyIDEA's or LinOTP's OATH CSV, looking past rows that name no token (only a serial, no serial). */
function detectOathCsv(data: string[], content: string[]): ImportFormat | null {
  const rows = data.map((l) => splitCsv(l)).filter((r) => whyNoToken(r) === null);
  const loneSerials = data.filter((l) => !l.includes(','));
  if (rows.length === 0 || !loneSerials.every((l) => /^\s*[^\s,]+\s*$/.test(l))) return null;
  // Mostly hex in the second column (a bad seed here and there is for the parser to report, by line).
  if (rows.filter((r) => /^[0-9a-fA-F]+$/.test(r[1] ?? '')).length * 2 < rows.length) return null;
  // A 6th column (the hash) is LinOTP's; a HOTP row with a 5th column means a counter in privacyIDEA's and nothing in LinOTP's.
  if (rows.some((r) => r.length >= 6 && /^sha(1|256|512)$/i.test(r[5] ?? ''))) return 'linotp-csv';
  const ambiguous = rows.some((r) => (r[2] ?? 'hotp').toLowerCase() !== 'totp' && (r[4] ?? '') !== '');
  const commented = content.some((l) => l.trimStart().startsWith('#'));
  return !ambiguous || commented ? 'oath-csv' : null;
}

/** Guesses the format; throws "could not tell; use --format" when the content does not say. */
export function detectFormat(head: Buffer, fileName: string): ImportFormat {
  refuseNonText(head, fileName);
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const trimmed = text.trimStart();
  if (trimmed.startsWith('<')) {
    // The first element after the prolog, comments and processing instructions.
    const root = /<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s>/]/.exec(
      trimmed.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, ''),
    );
    const name = root?.[2]?.toLowerCase();
    if (name === 'keycontainer' || name === 'secretcontainer') return 'pskc';
    if (name === 'data' && /<header>/.test(trimmed)) return 'deepnet-xml';
    if (name === 'tokens') return 'safenet-xml';
    if (/<!DOCTYPE/i.test(trimmed) && /KeyContainer|SecretContainer/.test(trimmed)) return 'pskc';
    throw new DataError(
      `${fileName}: XML with root <${root?.[2] ?? '?'}> is no seed format tokensmith knows (PSKC KeyContainer, DualShield <data>, SafeNet eToken <Tokens>); could not tell; use --format`,
      {
        code: 'unknown-format',
      },
    );
  }
  const lines = text.split(/\r?\n/);
  // A cut-off last line in the sample says nothing.
  if (head.length === HEAD_BYTES) lines.pop();
  const content = lines.filter((l) => l.trim() !== '');
  const first = content[0] ?? '';
  if (/^\s*#\s*version:\s*\d+/.test(first)) return 'oath-csv';
  const data = content.filter((l) => !isBlankOrComment(l));
  if (data.length > 0 && data.every((l) => /^\s*otpauth:\/\//i.test(l))) return 'otpauth';
  if (data.length > 0 && data.every((l) => /^HOTP(\/\S*)?[ \t]/.test(l))) return 'usersfile';
  const byContent = detectByRows(data);
  if (byContent) return byContent;
  const byHeader = detectByHeader(splitCsv(data[0] ?? '').map(norm));
  if (byHeader) return byHeader;
  if (data.length > 0 && data.every((l) => !l.includes(',') && /^\s*\S+\s+[0-9a-fA-F\s]+$/.test(l))) return 'dpw';
  const oath = detectOathCsv(data, content);
  if (oath) return oath;
  throw new DataError(
    `${fileName}: could not tell the format of this file from its content (first line: ${describeLine(first)}); use --format ${IMPORT_FORMATS.join('|')}`,
    {
      code: 'unknown-format',
    },
  );
}

function describeLine(line: string): string {
  // Enough to recognise a header, never a seed: only the first field, cut short.
  const firstField = line.split(/[,;\t ]/)[0] ?? '';
  return `'${firstField.slice(0, 24)}${firstField.length > 24 || line.length > firstField.length ? '…' : ''}'`;
}
