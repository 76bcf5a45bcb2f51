// @module-tag subprocess
/**
 * python-pskc's own test files as a table: for each file, what python-pskc
 * reads (run live through scripts/peers/pskc-read.py with Debian's
 * python3-pskc) and that tokensmith stores exactly that (serial, seed,
 * algorithm, digits, check digit, period, T0, counter), or refuses the file
 * with exit 4 where python-pskc refuses it or where a key of it cannot be
 * served (listed below with the reason, so every difference is deliberate).
 * The files are read from ../shared/peers/python-pskc beside the checkout (origin in its README).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { CliStore } from '../import/helpers.js';
import { peerDir, peersMissing } from '../helpers/peers.js';
import { toolsMissing } from '../helpers/tools.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(REPO, 'scripts/peers/pskc-read.py');
const ROOT = peerDir('python-pskc', 'tests');

/** The transport keys and passwords python-pskc's doctests give each file. */
const K32 = '12345678901234567890123456789012';
const CREDENTIALS: Record<string, { key?: string; password?: string }> = {
  'actividentity/test.pskcxml': { key: 'fe0de6b806c09b762c4b49a666a27b72' },
  'draft-hoyer-keyprov-portable-symmetric-key-container-00/password-encrypted.pskcxml': { password: 'qwerty' },
  'draft-hoyer-keyprov-portable-symmetric-key-container-01/password-encrypted.pskcxml': { password: 'qwerty' },
  'draft-ietf-keyprov-pskc-02/figure4.pskcxml': { key: K32 },
  'draft-ietf-keyprov-pskc-02/figure5.pskcxml': { password: 'qwerty' },
  'draft-ietf-keyprov-pskc-02/figure6.pskcxml': { key: K32 },
  'encryption/aes128-cbc.pskcxml': { key: K32 },
  'encryption/aes128-cbc-noiv.pskcxml': { key: K32 },
  'encryption/aes192-cbc.pskcxml': { key: '123456789012345678901234567890123456789012345678' },
  'encryption/aes256-cbc.pskcxml': { key: '1234567890123456789012345678901234567890123456789012345678901234' },
  'encryption/tripledes-cbc.pskcxml': { key: K32 },
  'encryption/kw-aes128.pskcxml': { key: '000102030405060708090a0b0c0d0e0f' },
  'encryption/kw-aes192.pskcxml': { key: '000102030405060708090a0b0c0d0e0f1011121314151617' },
  'encryption/kw-aes256.pskcxml': { key: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f' },
  'encryption/kw-tripledes.pskcxml': { key: '255e0d1c07b646dfb3134cc843ba8aa71f025b7c0838251f' },
  'encryption/camellia128-cbc.pskcxml': { key: '200497e673a6fae2256e9749468a67ac' },
  'encryption/camellia192-cbc.pskcxml': { key: 'e263279877384c84c987661a9d06766affdb9b3211eae801' },
  'encryption/camellia256-cbc.pskcxml': { key: '33b37e31c5a0a16f004e7fe727d4ff808fc1f879d85ccd8f06dbb5799565d2f5' },
  'encryption/kw-camellia128.pskcxml': { key: 'e35b135a09bfff8b314a5a0c32193c37' },
  'encryption/kw-camellia192.pskcxml': { key: '5eb0bccad29abe52d143d5aebc1c1ba174b8d379ce763c28' },
  'encryption/kw-camellia256.pskcxml': { key: '0e187c656c36975b0d6bded79d7089142209457114ce8e6f4ae78339d71114e8' },
  'encryption/mac-over-plaintext.pskcxml': { key: K32 },
  'encryption/no-mac-key.pskcxml': { key: K32 },
  'invalid/unknown-encryption.pskcxml': { key: K32 },
  'invalid/missing-encryption.pskcxml': { key: K32 },
  'invalid/missing-encryption-method.pskcxml': { key: K32 },
  'invalid/incomplete-derivation.pskcxml': { password: 'qwerty' },
  'invalid/no-mac-method.pskcxml': { key: K32 },
  'invalid/mac-algorithm.pskcxml': { key: K32 },
  'invalid/mac-value.pskcxml': { key: K32 },
  'misc/SampleFullyQualifiedNS.xml': { password: '3FCA3158035072D6' },
  'misc/integers.pskcxml': { key: K32 },
  'multiotp/pskc-hotp-aes.txt': { key: K32 },
  'multiotp/pskc-hotp-pbe.txt': { password: 'qwerty' },
  'multiotp/pskc-totp-aes.txt': { key: K32 },
  'multiotp/pskc-totp-pbe.txt': { password: 'qwerty' },
  'multiotp/tokens_hotp_aes.pskc': { key: K32 },
  'multiotp/tokens_hotp_pbe.pskc': { password: 'qwerty' },
  'multiotp/tokens_ocra_aes.pskc': { key: K32 },
  'multiotp/tokens_ocra_pbe.pskc': { password: 'qwerty' },
  'multiotp/tokens_totp_aes.pskc': { key: K32 },
  'multiotp/tokens_totp_pbe.pskc': { password: 'qwerty' },
  'nagraid/file1.pskcxml': { key: '4A057F6AB6FCB57AB5408E46A9835E68' },
  'rfc6030/figure6.pskcxml': { key: K32 },
  'rfc6030/figure7.pskcxml': { password: 'qwerty' },
  'rfc6030/figure8.pskcxml': { key: K32 },
};

/**
 * Files python-pskc reads but tokensmith refuses as a whole (exit 4), with the reason it must give:
 * a key tokensmith cannot serve makes the import stop before anything is written.
 */
const REFUSED_ON_PURPOSE: Record<string, RegExp> = {};

interface PyKey {
  serial: string | null;
  id: string | null;
  secret: string | null;
  algorithm: string | null;
  suite: string | null;
  digits: number | null;
  checkDigit: boolean | null;
  period: number | null;
  t0: number | null;
  counter: string | null;
  mayUseOtp: boolean;
}
type PyResult = { file: string; error?: string; keys?: PyKey[] };

const localName = (uri: string | null) => (uri ?? '').split(/[:#/]/).pop()!.toLowerCase();

function peerFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (!/\.(doctest|pem)$|README/.test(e.name)) out.push(relative(join(root, 'tests'), join(d, e.name)));
    }
  };
  walk(join(root, 'tests'));
  return out.sort();
}

const skip = peersMissing('python-pskc', 'tests') ?? toolsMissing('the python-pskc peer table test', 'python3-pskc');

if (skip) it.skip(`python-pskc test files: skipped: ${skip}`, () => undefined);

describe.skipIf(skip !== null)('python-pskc test files', () => {
  const files = ROOT ? peerFiles(ROOT) : [];
  let expected = new Map<string, PyResult>();
  beforeAll(() => {
    const list = files.map((f) => ({ file: join(ROOT!, 'tests', f), ...CREDENTIALS[f] }));
    const out = JSON.parse(
      execFileSync('/usr/bin/python3', [SCRIPT], {
        input: JSON.stringify(list),
        encoding: 'utf8',
        cwd: ROOT!,
      }) as string,
    ) as PyResult[];
    expected = new Map(out.map((r) => [relative(join(ROOT!, 'tests'), r.file), r]));
  });
  const stores: CliStore[] = [];
  afterAll(() => stores.forEach((s) => s.cleanup()));

  it.each(files)('%s', async (f) => {
    const py = expected.get(f)!;
    const s = new CliStore();
    stores.push(s);
    const cred = CREDENTIALS[f] ?? {};
    const args = [
      'import',
      join(ROOT!, 'tests', f),
      ...(cred.key ? ['--key', cred.key] : []),
      ...(cred.password ? ['--password', cred.password] : []),
    ];
    const r = await s.run(args);
    const served = (py.keys ?? []).filter((k) => ['hotp', 'totp'].includes(localName(k.algorithm)));
    if (py.error) {
      expect(r.code, `python-pskc refuses (${py.error}); tokensmith said: ${r.stdout}${r.stderr}`).toBe(4);
      return;
    }
    // A key tokensmith cannot serve (OCRA, SecurID, Yubico OTP ...) or that its policy forbids stops the whole import.
    const unservable = (py.keys ?? []).find((k) => !['hotp', 'totp', 'pin'].includes(localName(k.algorithm)));
    const forbidden = served.find((k) => !k.mayUseOtp);
    // A key python-pskc reads without a secret (RFC 6030 figure 4: KeyReference to a master key) gives no codes.
    const secretless = served.find((k) => k.secret === null);
    if (unservable || forbidden || secretless) {
      const why = unservable
        ? `key ${unservable.serial ?? unservable.id} is ${unservable.algorithm}`
        : forbidden
          ? `policy forbids key ${forbidden.serial}`
          : `key ${secretless!.serial} has no secret`;
      expect(r.code, `${why}; tokensmith said: ${r.stdout}${r.stderr}`).toBe(4);
      expect(r.stdout + r.stderr).toMatch(
        unservable ? /cannot be served|not a hash tokensmith knows/ : forbidden ? /Policy|PINPolicy/ : /no secret/,
      );
      return;
    }
    if (REFUSED_ON_PURPOSE[f]) {
      expect(r.code, r.stderr).toBe(4);
      expect(r.stdout + r.stderr).toMatch(REFUSED_ON_PURPOSE[f]!);
      return;
    }
    expect(r.code, `python-pskc reads ${py.keys!.length} key(s); tokensmith said: ${r.stdout}${r.stderr}`).toBe(0);
    const store = openSqliteStore({ path: s.db, env: s.env });
    try {
      const stored = await store.tokens.list();
      const matched = new Set<number>();
      expect(stored.length).toBe(served.length);
      for (const k of served) {
        const serial = k.serial ?? k.id;
        const t = stored.find((x) => x.serial === serial && !matched.has(x.id));
        expect(t, `token ${serial}`).toBeDefined();
        matched.add(t!.id);
        const seed = await store.tokens.openSeed(t!);
        const totp = localName(k.algorithm) === 'totp';
        expect({
          serial: t!.serial,
          seed: Buffer.from(seed).toString('hex'),
          type: t!.type,
          algorithm: t!.algorithm,
          digits: t!.digits,
          checkDigit: t!.checkDigit ?? false,
          period: totp ? t!.period : null,
          t0: totp ? (t!.t0 ?? 0) : null,
          counter: totp ? null : (t!.counterExact ?? String(t!.counter)),
        }).toEqual({
          serial,
          seed: k.secret,
          type: localName(k.algorithm),
          algorithm: k.suite
            ? k.suite
                .toLowerCase()
                .replace(/^hmac-/, '')
                .replace('-', '')
            : 'sha1',
          digits: k.digits ?? 6,
          checkDigit: k.checkDigit ?? false,
          period: totp ? (k.period ?? 30) : null,
          t0: totp ? (k.t0 ?? 0) : null,
          counter: totp ? null : (k.counter ?? '0'),
        });
      }
    } finally {
      await store.close();
    }
  });
});
