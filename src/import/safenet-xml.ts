/**
 * Aladdin / SafeNet eToken PASS XML, as privacyIDEA's and LinOTP's
 * parseSafeNetXML read it: `<Tokens><Token serial="..."><ProductName/>
 * <Applications><Application><Seed>hex</Seed><MovingFactor>n</MovingFactor>`.
 * HOTP, 6 digits; a 64-digit seed means SHA-256, else SHA-1. Streamed like PSKC.
 */
import { decodeHex } from '../core/codecs.js';
import { DataError } from '../core/errors.js';
import { skipItem } from './csv-rows.js';
import { buildRecord, itemOf } from './record.js';
import type { ParseContext, ParseItem, SeedRecord } from './types.js';
import { attr, child, childrenNamed, streamXml, textOf, type XmlNode } from './xml.js';

function tokenRecord(node: XmlNode, serial: string, where: string, ctx: ParseContext): SeedRecord {
  const apps = childrenNamed(child(node, 'Applications'), 'Application').filter((a) => child(a, 'Seed'));
  if (apps.length === 0)
    throw new DataError('the <Token> has no <Application> with a <Seed>', { code: 'missing-secret' });
  if (apps.length > 1)
    throw new DataError(
      `the <Token> has ${apps.length} applications with a <Seed>; tokensmith cannot tell which one the display shows`,
      { code: 'bad-format' },
    );
  const app = apps[0]!;
  const seedHex = textOf(child(app, 'Seed')) ?? '';
  if (seedHex === '') throw new DataError('the <Seed> is empty', { code: 'missing-secret' });
  const seed = decodeHex(seedHex, 'Seed (hex)');
  const attributes: Record<string, unknown> = { importedFrom: where };
  for (const name of ['CaseModel', 'ProductionDate']) {
    const v = textOf(child(node, name));
    if (v) attributes[name.charAt(0).toLowerCase() + name.slice(1)] = v;
  }
  return buildRecord(
    {
      serial,
      manufacturer: 'SafeNet',
      model: textOf(child(node, 'ProductName')) ?? textOf(child(node, 'Model')) ?? null,
      type: 'hotp',
      counter: textOf(child(app, 'MovingFactor')) ?? 0,
      seed,
      attributes,
    },
    where,
    // privacyIDEA and LinOTP: 64 hex digits mean SHA-256; the file has no code length (eToken PASS shows 6).
    {
      flags: ctx.defaults,
      assumed: { algorithm: seedHex.replace(/\s+/g, '').length === 64 ? 'sha256' : 'sha1', digits: 6 },
    },
  );
}

export async function* parseSafenetXml(file: string, ctx: ParseContext): AsyncGenerator<ParseItem> {
  let tokens = 0;
  for await (const item of streamXml(file, ctx, (p) => p.length === 2 && p[1]!.toLowerCase() === 'token')) {
    if (item.root) {
      if (item.root.name !== 'Tokens')
        throw new DataError(
          `${ctx.fileName}:${item.root.line}: the root element is <${item.root.name}>, not the <Tokens> of a SafeNet eToken file: choose another --format`,
          { code: 'bad-format' },
        );
      continue;
    }
    const node = item.node;
    const where = `${ctx.fileName}:${node.line}`;
    const serial = attr(node, 'serial')?.trim();
    tokens++;
    if (!serial) {
      yield skipItem(where, 'a <Token> without a serial attribute: left out, as privacyIDEA and LinOTP leave it out');
      continue;
    }
    yield itemOf(() => tokenRecord(node, serial, where, ctx), where, serial);
  }
  if (tokens === 0) throw new DataError(`${ctx.fileName}: the file holds no <Token>`, { code: 'empty-file' });
}
