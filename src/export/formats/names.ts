/**
 * Every format `export` writes, by the name --format takes, with the words
 * `export --help` says about it and whether it can only hold seeds in the
 * clear. Nothing is imported here, so the CLI builds its help from this list
 * at start-up; the writers are in ./index.ts. A vendor's format is one entry
 * here, one in ./index.ts, and its writer in this folder.
 */

export const EXPORT_FORMATS = [
  'pskc',
  'oath-csv',
  'entra-csv',
  'protectimus-csv',
  'thales-csv',
  'yubikey-csv',
  'otpauth',
  'enrollment',
  'usersfile',
] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFormatWords {
  name: ExportFormat;
  /** After the name in --format's help: what the file is, where the name does not say. */
  note?: string;
  /** Seeds only in the clear: the export needs --plaintext. */
  plainOnly?: boolean;
}

export const EXPORT_FORMAT_WORDS: readonly ExportFormatWords[] = [
  { name: 'pskc' },
  { name: 'oath-csv', plainOnly: true },
  { name: 'entra-csv', plainOnly: true },
  { name: 'protectimus-csv', plainOnly: true },
  { name: 'thales-csv', plainOnly: true },
  { name: 'yubikey-csv', note: 'the YubiKey personalization log: OATH-HOTP slots', plainOnly: true },
  { name: 'otpauth', plainOnly: true },
  { name: 'enrollment' },
  { name: 'usersfile', note: 'pam_oath; keeps its counters when written over', plainOnly: true },
];

/** Formats that can only carry seeds in the clear: they need --plaintext. */
export const PLAIN_ONLY_FORMATS: readonly ExportFormat[] = EXPORT_FORMAT_WORDS.filter((f) => f.plainOnly).map(
  (f) => f.name,
);

/** `pskc, ... or usersfile (...)`: --format's help. */
export function exportFormatHelp(): string {
  const all = EXPORT_FORMAT_WORDS.map((f) => (f.note ? `${f.name} (${f.note})` : f.name));
  return `${all.slice(0, -1).join(', ')} or ${all.at(-1)}`;
}
