/**
 * Every seed-file format `import` reads, by the name --format takes, with the
 * words `import --help` says about it. Nothing is imported here, so the CLI
 * builds its help from this list at start-up; the parsers and how each format
 * is told from its content are in ./index.ts. A vendor's format is one entry
 * here, one in ./index.ts, and its parser in this folder.
 */

export const IMPORT_FORMATS = [
  'pskc',
  'oath-csv',
  'linotp-csv',
  'entra-csv',
  'thales-csv',
  'protectimus-csv',
  'dpw',
  'deepnet-xml',
  'otpauth',
  'usersfile',
  'yubikey-csv',
  'safenet-xml',
  'etoken-dat',
] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** The settings `import --type/--algorithm/--digits/--period` give for files that do not carry them. */
export type FilledSetting = 'type' | 'algorithm' | 'digits' | 'period';

export interface ImportFormatWords {
  name: ImportFormat;
  /** After the name in --format's help: what the file is, where the name does not say. */
  note?: string;
  /** Per setting its files may leave out: how the help names those files. */
  fills?: Partial<Record<FilledSetting, string>>;
  /** Command lines for `import --help`'s examples. */
  examples?: readonly string[];
}

export const IMPORT_FORMAT_WORDS: readonly ImportFormatWords[] = [
  {
    name: 'pskc',
    examples: [
      'tokensmith import seeds.pskc.xml --password-file pw.txt --resource vpn',
      'tokensmith import c200.xml --key 12345678901234567890123456789012 --dry-run',
    ],
  },
  {
    name: 'oath-csv',
    fills: {
      type: 'bare seed lists',
      algorithm: 'privacyIDEA CSV whose hash follows from the seed length',
      period: 'a CSV TOTP row without a step',
    },
    examples: ['tokensmith import seeds.csv --format oath-csv --manufacturer Feitian --model C200'],
  },
  { name: 'linotp-csv' },
  { name: 'entra-csv', examples: ['tokensmith import entra.csv --on-duplicate skip --json'] },
  { name: 'thales-csv', fills: { algorithm: 'Thales', digits: 'Thales' } },
  {
    name: 'protectimus-csv',
    fills: { type: 'Protectimus CSV', algorithm: 'Protectimus', digits: 'Protectimus', period: 'Protectimus' },
    examples: ['tokensmith import protectimus.csv --period 60 --digits 8'],
  },
  { name: 'dpw', fills: { digits: 'DPW' }, examples: ['tokensmith import days.txt --format dpw --digits 8'] },
  { name: 'deepnet-xml' },
  { name: 'otpauth' },
  { name: 'usersfile', note: 'pam_oath' },
  { name: 'yubikey-csv', note: 'YubiKey personalization log' },
  { name: 'safenet-xml', note: 'eToken <Tokens>', fills: { digits: 'SafeNet XML' } },
  { name: 'etoken-dat', note: 'SafeWord/eToken PASS .dat' },
];

/** `auto, pskc, ... or etoken-dat (...)`: --format's help. */
export function importFormatHelp(): string {
  const all = ['auto', ...IMPORT_FORMAT_WORDS.map((f) => (f.note ? `${f.name} (${f.note})` : f.name))];
  return `${all.slice(0, -1).join(', ')} or ${all.at(-1)}`;
}

/** The files a setting's flag fills in, as a comma list for its help. */
export function filledBy(setting: FilledSetting): string {
  return IMPORT_FORMAT_WORDS.flatMap((f) => (f.fills?.[setting] ? [f.fills[setting]] : [])).join(', ');
}

/** Every format's example command lines, in the list's order. */
export function importExamples(): string[] {
  return IMPORT_FORMAT_WORDS.flatMap((f) => f.examples ?? []);
}
