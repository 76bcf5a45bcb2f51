/**
 * What every seed-file parser yields: token records ready for the store, or
 * problems with their place in the file. Parsers never touch the store; the
 * import service (service.ts) decides what is written.
 */
import type { Algorithm, TokenType } from '../core/spec.js';

// The formats' names are the format table's (./formats/names.ts).
export { IMPORT_FORMATS, type ImportFormat } from './formats/names.js';

/** One token read from a seed file, validated. */
export interface SeedRecord {
  serial: string;
  manufacturer: string;
  model: string | null;
  type: TokenType;
  algorithm: Algorithm;
  digits: number;
  period: number;
  counter: number;
  driftSteps: number;
  seed: Buffer;
  /** Free-form facts from the file (issuer, user, policy dates ...), never the seed. */
  attributes: Record<string, unknown>;
  /** Where it is in the file: "seeds.xml:42 (key package 3)". */
  where: string;
  /** RFC 6238 T0 in Unix seconds, when the file gives one other than 0. */
  t0?: number;
  /** Codes end in a Luhn check digit (PSKC ResponseFormat CheckDigits). */
  checkDigit?: boolean;
  /** The exact counter in decimal when it is beyond 2^53-1 (up to 2^64-1); `counter` is then 2^53-1. */
  counterExact?: string;
}

/** A record that could not be read; the rest of the file is still checked. */
export interface RecordProblem {
  where: string;
  message: string;
  serial?: string;
  code: string;
}

/** A record left out on purpose (the PIN of a token, an identical repeat), said but not an error. */
export interface RecordSkip {
  where: string;
  message: string;
  serial?: string;
}

export type ParseItem =
  | { record: SeedRecord; problem?: undefined; skip?: undefined }
  | { problem: RecordProblem; record?: undefined; skip?: undefined }
  | { skip: RecordSkip; record?: undefined; problem?: undefined };

/** `import --type/--algorithm/--digits/--period`: values for files that do not carry them. */
export interface SpecDefaults {
  type?: string;
  algorithm?: string;
  digits?: number;
  period?: number;
}

/** What a parser may need from the caller. */
export interface ParseContext {
  /** Values for the fields the file does not carry; a file that carries another value is refused for that record. */
  defaults?: SpecDefaults;
  /** The file name used in `where` (base name). */
  fileName: string;
  password?: string;
  /** Pre-shared transport key (PSKC). */
  key?: Buffer;
  /** Asks for the password of an encrypted file when none was given; absent when no one can answer. */
  askPassword?: () => Promise<string>;
  /** Called with the bytes read so far, for a progress bar. */
  onBytes?: (bytesRead: number) => void;
  /** The file's bytes when it came through a pipe (see source.ts); the path is then not read again. */
  data?: Buffer;
  /** `--allow-expired`: a key past its Policy ExpiryDate is imported (the date is kept with the token). */
  allowExpired?: boolean;
}

/** A parser reads a file as a stream and yields records and problems in file order. */
export type SeedParser = (path: string, ctx: ParseContext) => AsyncIterable<ParseItem>;
