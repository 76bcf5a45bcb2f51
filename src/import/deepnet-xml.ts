/**
 * Deepnet DualShield token files: `<data><header>` (encode HEX/BASE64,
 * encrypt NONE, digits, timeWindow, crypto HmacSHA1/256/512) then
 * `<tokens><token><serial/><seed/></token>...`. Streamed like PSKC.
 */
import { decodeSeed, type SeedEncoding } from '../core/codecs.js';
import { DataError } from '../core/errors.js';
import { buildRecord, itemOf } from './record.js';
import type { ParseContext, ParseItem } from './types.js';
import { child, streamXml, textOf, type XmlNode } from './xml.js';

export async function* parseDeepnetXml(file: string, ctx: ParseContext): AsyncGenerator<ParseItem> {
  let header: XmlNode | undefined;
  let tokens = 0;
  for await (const item of streamXml(
    file,
    ctx,
    (p) => (p.length === 2 && p[1] === 'header') || (p.length === 3 && p[1] === 'tokens' && p[2] === 'token'),
  )) {
    if (item.root) {
      if (item.root.name !== 'data')
        throw new DataError(
          `${ctx.fileName}:${item.root.line}: the root element is <${item.root.name}>, not a DualShield <data>: choose another --format`,
          { code: 'bad-format' },
        );
      continue;
    }
    const node = item.node;
    if (node.name === 'header') {
      header = node;
      continue;
    }
    tokens++;
    const where = `${ctx.fileName}:${node.line}`;
    const serial = textOf(child(node, 'serial'));
    yield itemOf(
      () => {
        if (!header)
          throw new DataError('a <token> before the <header>: the file cannot be read', { code: 'bad-format' });
        const encrypt = (textOf(child(header, 'encrypt')) ?? 'NONE').toUpperCase();
        if (encrypt !== 'NONE')
          throw new DataError(
            `the seeds are encrypted (${encrypt}); tokensmith reads DualShield files with <encrypt>NONE</encrypt> only: ask the vendor for an unencrypted (or PSKC) file`,
            {
              code: 'unsupported-cipher',
            },
          );
        const encode = (textOf(child(header, 'encode')) ?? 'HEX').toLowerCase();
        if (encode !== 'hex' && encode !== 'base64' && encode !== 'base32')
          throw new DataError(`unknown seed encoding '${encode}'`, { code: 'bad-format' });
        const crypto = textOf(child(header, 'crypto'));
        const seedText = textOf(child(node, 'seed'));
        if (!seedText) throw new DataError('the token has no <seed>', { code: 'missing-secret' });
        // SafeID tokens are TOTP; a file without <timeWindow> means the 30 s default.
        const timeWindow = textOf(child(header, 'timeWindow'));
        return buildRecord(
          {
            serial,
            manufacturer: textOf(child(header, 'manufacturerCode')),
            model: textOf(child(header, 'productCode')),
            type: 'totp',
            algorithm: crypto?.replace(/^hmac/i, ''),
            digits: textOf(child(header, 'digits')),
            period: timeWindow,
            seed: decodeSeed(seedText, encode as SeedEncoding, `seed (${encode})`),
            attributes: { importedFrom: where },
          },
          where,
          { flags: ctx.defaults, assumed: { algorithm: 'sha1', digits: 6, period: 30 } },
        );
      },
      where,
      serial,
    );
  }
  if (tokens === 0) throw new DataError(`${ctx.fileName}: the file holds no <token>`, { code: 'empty-file' });
}
