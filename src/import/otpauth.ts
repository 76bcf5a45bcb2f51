/**
 * otpauth URI lists (Key Uri Format), one `otpauth://totp/Issuer:account?secret=...`
 * a line. The format has no serial field: a `serial` parameter is used when
 * present, else issuer and account (`Issuer:account`), else the account: an
 * authenticator app's export holds one account under several issuers, and
 * those are different tokens.
 */
import { decodeBase32 } from '../core/codecs.js';
import { DataError } from '../core/errors.js';
import { checkDataText } from '../core/text-guard.js';
import { isBlankOrComment } from './csv-rows.js';
import { buildRecord, itemOf } from './record.js';
import { lineWhere, readLines } from './text.js';
import type { ParseContext, ParseItem } from './types.js';

export async function* parseOtpauth(file: string, ctx: ParseContext): AsyncGenerator<ParseItem> {
  let rows = 0;
  for await (const { text, line } of readLines(file, ctx)) {
    const t = text.trim();
    if (isBlankOrComment(t)) continue;
    const where = lineWhere(ctx, line);
    rows++;
    const serial = serialGuess(t);
    yield itemOf(
      () => {
        if (!/^otpauth:\/\//i.test(t)) throw new DataError('the line is not an otpauth:// URI', { code: 'bad-uri' });
        let url: URL;
        try {
          url = new URL(t);
        } catch {
          throw new DataError('the otpauth URI does not parse', { code: 'bad-uri' });
        }
        const type = url.host.toLowerCase();
        const label = decodeURIComponent(url.pathname.replace(/^\//, ''));
        const colon = label.indexOf(':');
        const account = (colon >= 0 ? label.slice(colon + 1) : label).trim();
        const issuer = url.searchParams.get('issuer') ?? (colon >= 0 ? label.slice(0, colon).trim() : null);
        const serialOfUri = url.searchParams.get('serial') ?? (issuer ? `${issuer}:${account}` : account);
        const secret = url.searchParams.get('secret');
        if (!secret) throw new DataError('the URI has no secret parameter', { code: 'missing-secret' });
        if (type !== 'totp' && type !== 'hotp')
          throw new DataError(`otpauth type '${type}' cannot be served (tokensmith serves totp and hotp)`, {
            code: 'unsupported-algorithm',
          });
        const attributes: Record<string, unknown> = {
          importedFrom: where,
          label: checkDataText(label, 'label', 'label', where),
        };
        if (issuer) attributes.issuer = checkDataText(issuer, 'issuer', 'issuer', where);
        return buildRecord(
          {
            serial: serialOfUri,
            type,
            algorithm: url.searchParams.get('algorithm') ?? undefined,
            digits: url.searchParams.get('digits') ?? undefined,
            period: url.searchParams.get('period') ?? undefined,
            counter: type === 'hotp' ? (url.searchParams.get('counter') ?? 0) : 0,
            seed: decodeBase32(secret, 'secret (base32)'),
            attributes,
          },
          where,
          // Key Uri Format defaults for parameters the URI leaves out.
          { flags: ctx.defaults, assumed: { algorithm: 'sha1', digits: 6, period: 30 } },
        );
      },
      where,
      serial,
    );
  }
  if (rows === 0) throw new DataError(`${ctx.fileName}: the file holds no tokens`, { code: 'empty-file' });
}

/** The serial for error messages, before the URI is fully read. */
function serialGuess(uri: string): string | undefined {
  const s = /[?&]serial=([^&]*)/.exec(uri)?.[1] ?? /^otpauth:\/\/\w+\/([^?]*)/i.exec(uri)?.[1];
  try {
    return s === undefined ? undefined : decodeURIComponent(s);
  } catch {
    return s;
  }
}
