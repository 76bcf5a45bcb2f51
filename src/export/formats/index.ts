/**
 * The format table of `export`: per format (by its name in ./names.ts) how
 * its writer is made; the service (../service.ts) asks here instead of naming
 * formats. The enrollment package is written by the service itself (it is a
 * package of files, not one stream of tokens). One vendor's format: an entry
 * here and in ./names.ts, its writer in this folder.
 */
import { EntraCsvWriter } from '../entra-csv.js';
import { OathCsvWriter } from '../oath-csv.js';
import { OtpauthWriter } from '../otpauth.js';
import type { TransportKeys } from '../pskc-crypto.js';
import { PskcWriter } from '../pskc.js';
import { ThalesCsvWriter } from '../thales-csv.js';
import type { ExportFormat, FormatWriter } from '../types.js';
import { UsersFileWriter } from '../usersfile.js';
import { ProtectimusCsvWriter } from './protectimus-csv.js';
import { YubikeyCsvWriter } from './yubikey-csv.js';

/** What a writer may need from the request. */
export interface WriterRequest {
  /** The transport keys of an encrypted export; null in the clear. */
  keys: TransportKeys | null;
  /** The selection is one Resource's (a format that can say so writes its users). */
  oneResource: boolean;
  /** otpauth: a folder for one QR code (PNG) per token. */
  qrDir?: string;
  /** The file written ("-" for stdout). */
  output: string;
}

export type StreamFormat = Exclude<ExportFormat, 'enrollment'>;

export const EXPORT_WRITERS: Record<StreamFormat, (r: WriterRequest) => FormatWriter> = {
  pskc: (r) => new PskcWriter({ keys: r.keys, includeUser: true }),
  'oath-csv': (r) => new OathCsvWriter({ withUsers: r.oneResource }),
  'entra-csv': () => new EntraCsvWriter(),
  'protectimus-csv': () => new ProtectimusCsvWriter(),
  'thales-csv': () => new ThalesCsvWriter(),
  'yubikey-csv': () => new YubikeyCsvWriter(),
  otpauth: (r) => new OtpauthWriter({ qrDir: r.qrDir }),
  usersfile: (r) => new UsersFileWriter(r.output),
};

export function writerFor(format: StreamFormat, request: WriterRequest): FormatWriter {
  return EXPORT_WRITERS[format](request);
}
