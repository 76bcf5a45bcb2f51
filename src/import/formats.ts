/** The parser of each format; loaded on demand so one import loads only what it reads. */
import type { ImportFormat, ParseContext, ParseItem, SeedParser } from './types.js';

export async function parserFor(format: ImportFormat): Promise<SeedParser> {
  switch (format) {
    case 'pskc':
      return (await import('./pskc/parse.js')).parsePskc;
    case 'oath-csv':
      return (await import('./oath-csv.js')).parseOathCsv;
    case 'linotp-csv':
      return (await import('./linotp-csv.js')).parseLinotpCsv;
    case 'entra-csv':
      return (await import('./entra-csv.js')).parseEntraCsv;
    case 'thales-csv':
      return (await import('./thales-csv.js')).parseThalesCsv;
    case 'protectimus-csv':
      return (await import('./protectimus-csv.js')).parseProtectimusCsv;
    case 'dpw':
      return (await import('./dpw.js')).parseDpw;
    case 'deepnet-xml':
      return (await import('./deepnet-xml.js')).parseDeepnetXml;
    case 'otpauth':
      return (await import('./otpauth.js')).parseOtpauth;
    case 'usersfile':
      return (await import('./usersfile.js')).parseUsersFile;
    case 'yubikey-csv':
      return (await import('./yubikey-csv.js')).parseYubikeyCsv;
    case 'safenet-xml':
      return (await import('./safenet-xml.js')).parseSafenetXml;
    case 'etoken-dat':
      return (await import('./etoken-dat.js')).parseEtokenDat;
  }
}

/** A parser's items a batch at a time: PSKC reads in batches itself; the others are taken one item at a time. */
export async function batchParserFor(
  format: ImportFormat,
): Promise<(path: string, ctx: ParseContext) => AsyncIterable<ParseItem[]>> {
  if (format === 'pskc') return (await import('./pskc/parse.js')).parsePskcBatches;
  const parse = await parserFor(format);
  return async function* (path, ctx) {
    for await (const item of parse(path, ctx)) yield [item];
  };
}
