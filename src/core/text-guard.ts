/**
 * Hostile text at the edges: serials, names and vendor fields that carry
 * control characters (C0, DEL, C1) or bidi controls could rewrite a terminal
 * line or reorder what an operator reads, so they are refused where they come
 * in and escaped where something already stored is printed.
 */
import { DataError, UsageError } from './errors.js';

/** C0, DEL, C1, and the bidi controls: LRM/RLM, ALM, embeddings/overrides, isolates. */
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');
/** What JSON.stringify leaves as is: all of UNSAFE but C0. */
const UNSAFE_IN_JSON = /[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** Longest accepted value per field, in characters (documented in docs/security.md). */
export const TEXT_LIMITS = {
  serial: 128,
  manufacturer: 64,
  model: 64,
  name: 128,
  label: 256,
  issuer: 128,
} as const;
export type TextField = keyof typeof TEXT_LIMITS;

/** Whether the text holds a control or bidi character. */
export function hasUnsafeChars(text: string): boolean {
  return UNSAFE.test(text);
}

function escapeChar(c: string): string {
  const code = c.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Shows control and bidi characters as \x1b / \u202e, so printing stored text cannot steer the terminal. */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE_ALL, escapeChar);
}

/** escapeUnsafe for whole messages and reports: line breaks and tabs stay, as the layout needs them. */
export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE_ALL, (c) => (c === '\n' || c === '\t' ? c : escapeChar(c)));
}

/** JSON.stringify, with DEL, C1 and bidi characters as \\u escapes too (JSON escapes only C0): still the same JSON value. */
export function jsonForTerminal(value: unknown): string {
  return String(JSON.stringify(value, null, 2)).replace(
    UNSAFE_IN_JSON,
    (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}

/** Why `value` is refused as `what`, or null when it is fine. */
function problemOf(value: string, field: TextField, what: string): string | null {
  const max = TEXT_LIMITS[field];
  const shown = escapeUnsafe(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (hasUnsafeChars(value)) return `${what} '${shown}' holds control or bidi characters (shown escaped): refused`;
  if (value.length > max) return `${what} '${shown}' is ${value.length} characters long: at most ${max}`;
  return null;
}

/** Checks a value given on the command line (or in a request): a usage error (exit 2) when refused. */
export function checkArgText(value: string, field: TextField, what: string): string {
  const problem = problemOf(value, field, what);
  if (problem) throw new UsageError(problem, 'bad-text');
  return value;
}

/** Checks a value read from a file: a data error (exit 4) naming the place, so an import reports the record. */
export function checkDataText(value: string, field: TextField, what: string, where?: string): string {
  const problem = problemOf(value, field, what);
  if (problem) throw new DataError(problem, { code: 'bad-text', where });
  return value;
}
