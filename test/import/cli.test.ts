// @module-tag subprocess
/**
 * `tokensmith import` end to end through the built CLI: the RFC figures land
 * with the expected secrets; every bad input exits 4 with its place and leaves
 * the store's tokens and batches as they were; dry run, duplicates, the same
 * file twice, --resource and --json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { base32ToHex, CliStore, expectedOf, fixture } from './helpers.js';

const PSK = '546f6b656e736d697468546573743136';
let s: CliStore;

async function snapshot(): Promise<string> {
  const store = await openStore({ db: s.db, env: s.env });
  try {
    const tokens = (await store.tokens.list()).map(
      (t) => `${t.serial}/${t.manufacturer}/${t.digits}/${t.counter}/${t.batchId}`,
    );
    const batches = (await store.batches.list()).map((b) => `${b.id}/${b.status}/${b.imported}`);
    return JSON.stringify({ tokens, batches });
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  s = new CliStore();
  const r = await s.json(['import', fixture('rfc6030', 'figure3.xml')]);
  expect(r).toEqual({ batch: 1, imported: 1, skipped: 0, failed: 0, errors: [] });
});
afterAll(() => s.cleanup());

describe('RFC 6030 figures through the CLI', () => {
  const rfc = expectedOf('rfc6030');
  it('figures 2, 6, 7 and 10 import with the expected serials and secrets', async () => {
    const t = new CliStore();
    try {
      expect((await t.json(['import', fixture('rfc6030', 'figure2.xml')])).imported).toBe(1);
      expect(
        (await t.json(['import', fixture('rfc6030', 'figure6.xml'), '--key', '12345678901234567890123456789012']))
          .imported,
      ).toBe(1);
      // figure 7 holds the same serial and secret as figure 6 (another manufacturer): a second token.
      expect((await t.json(['import', fixture('rfc6030', 'figure7.xml'), '--password', 'qwerty'])).imported).toBe(1);
      // Figure 10's policies expired in 2006 (RFC 6030 section 5: not to be used): refused with the reason, nothing stored.
      const f10 = await t.run(['import', fixture('rfc6030', 'figure10.xml')]);
      expect(f10.code).toBe(4);
      expect(f10.stdout + f10.stderr).toMatch(/expired on 2006-05-31/);
      const tokens = await t.tokens();
      expect(tokens.has('654321')).toBe(false);
      const expected = rfc.files
        .filter((f: any) => ['figure2.xml'].includes(f.file))
        .flatMap((f: any) => f.keyPackages);
      for (const k of expected) {
        const v = tokens.get(k.serial ?? k.keyId);
        expect(v, k.serial).toBeTruthy();
        expect(base32ToHex(v.secret)).toBe(k.secretHex);
        expect(v).toMatchObject({
          type: 'hotp',
          algorithm: 'sha1',
          digits: k.digits ?? 6,
          counter: k.counter ?? 0,
          kind: 'classic',
          state: 'in_stock',
        });
      }
      const f7 = await t.json(['tokens', 'show', '987654321', '--manufacturer', 'TokenVendorAcme', '--show-secret']);
      expect(base32ToHex(f7.secret)).toBe(Buffer.from('12345678901234567890').toString('hex'));
    } finally {
      t.cleanup();
    }
  });
});

describe('bad input: exit 4, the place named, the store unchanged', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'wrong password',
      [fixture('bad', 'wrong-password.xml'), '--password', 'tokensmith-wrong-password'],
      /wrong-password\.xml:\d+ \(key package 1\).*wrong password or key/,
    ],
    [
      'wrong key',
      [fixture('rfc6030', 'figure6.xml'), '--key', PSK],
      /figure6\.xml:\d+ \(key package 1\).*wrong password or key/,
    ],
    [
      'tampered MAC',
      [fixture('bad', 'tampered-mac.xml'), '--key', PSK],
      /tampered-mac\.xml:\d+ \(key package 1\) serial TSB2002: the ValueMAC does not match/,
    ],
    [
      'tampered ciphertext',
      [fixture('bad', 'tampered-ciphertext.xml'), '--key', PSK],
      /serial TSB2004: the ValueMAC does not match/,
    ],
    ['truncated XML', [fixture('bad', 'truncated.xml')], /truncated\.xml:\d+: the XML ends before/],
    ['not XML', [fixture('bad', 'not-xml.xml'), '--format', 'pskc'], /not-xml\.xml:1: this is not XML/],
    [
      'an attribute twice (not well-formed XML)',
      [fixture('bad', 'attribute-twice.xml')],
      /attribute-twice\.xml:27: <Key> has the attribute Algorithm twice/,
    ],
    ['a ZIP named .xml', [fixture('bad', 'zip-named-xml.xml')], /ZIP archive/],
    ['DOCTYPE', [fixture('bad', 'doctype.xml')], /doctype\.xml:2: the file has a DOCTYPE/],
    ['billion laughs', [fixture('bad', 'billion-laughs.xml')], /billion-laughs\.xml:\d+: the file has a DOCTYPE/],
    ['external entity', [fixture('bad', 'external-entity.xml')], /external-entity\.xml:\d+: the file has a DOCTYPE/],
    ['unknown cipher', [fixture('bad', 'unknown-cipher.xml'), '--key', PSK], /serial TSB2010: unknown cipher/],
    [
      'invalid hex',
      [fixture('bad', 'oath-invalid-hex.csv')],
      /oath-invalid-hex\.csv:4 serial TSB2020: seed \(hex\): invalid hex character/,
    ],
    [
      'invalid base32',
      [fixture('bad', 'entra-invalid-base32.csv')],
      /entra-invalid-base32\.csv:3 serial TSB2016: .*invalid base32 character/,
    ],
    [
      'a serial twice in one file (PSKC)',
      [fixture('bad', 'duplicate-serial.xml')],
      /serial TSB2011.* appears twice in the file with different seeds/,
    ],
    [
      'a serial twice in one file (CSV)',
      [fixture('bad', 'duplicate-serial.csv')],
      /duplicate-serial\.csv:4 serial TSB2013: .*first at duplicate-serial\.csv:2/,
    ],
    [
      'a CSV with a missing column',
      [fixture('bad', 'entra-missing-column.csv')],
      /entra-missing-column\.csv:1: .*no 'time interval' column/,
    ],
    [
      'a short CSV row',
      [fixture('bad', 'thales-short-row.csv')],
      /thales-short-row\.csv:3 serial TSB2025: the row has 4 fields but the header has 5/,
    ],
    [
      'an OCRA key',
      [fixture('pskc-quirks', 'ocra.xml')],
      /serial TSQ1025: algorithm 'urn:ietf:params:xml:ns:keyprov:pskc:ocra' cannot be served/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const before = await snapshot();
      const r = await s.run(['import', ...args]);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(message);
      expect(await snapshot()).toBe(before);
    });
  }

  it('a conflicting seed for a known serial, even with --on-duplicate update', async () => {
    const file = join(s.dir, 'conflict.csv');
    writeFileSync(file, `# conflicting seed for figure 3's token\n987654321, ${'ab'.repeat(20)}, hotp, 8\n`);
    const before = await snapshot();
    for (const mode of ['fail', 'skip', 'update']) {
      const r = await s.run(['import', file, '--format', 'oath-csv', '--on-duplicate', mode]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(
        /conflict\.csv:2 serial 987654321: serial 987654321 \(Manufacturer\) is already in the store .* different seed: a conflict/,
      );
    }
    expect(await snapshot()).toBe(before);
  });

  it('an encrypted file with no password and no terminal fails clearly', async () => {
    const r = await s.run(['import', fixture('rfc6030', 'figure7.xml')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/encrypted with a password .* give --password or --password-file/);
  });

  it('--json: a file refused as a whole is the contract object too, with one error', async () => {
    const r = await s.run(['--json', 'import', fixture('bad', 'wrong-password.xml'), '--password', 'nope']);
    expect(r.code).toBe(4);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['batch', 'imported', 'skipped', 'failed', 'errors']);
    expect(j.errors).toHaveLength(1);
    expect(j.errors[0].where).toMatch(/^wrong-password\.xml:\d+ \(key package 1\)$/);
    expect(j.errors[0].message).toMatch(/wrong password or key/);
  });

  it('--json failure output is exactly the contract object, with every error', async () => {
    const r = await s.run(['--json', 'import', fixture('bad', 'tampered-mac.xml'), '--key', PSK]);
    expect(r.code).toBe(4);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['batch', 'imported', 'skipped', 'failed', 'errors']);
    expect(j).toMatchObject({ batch: null, imported: 0, failed: 1 });
    expect(j.errors[0].where).toMatch(/^tampered-mac\.xml:\d+ \(key package 1\) serial TSB2002$/);
  });
});

describe('dry run, duplicates, the same file twice, --resource', () => {
  it('--dry-run reports and writes nothing', async () => {
    const before = await snapshot();
    const j = await s.json(['import', fixture('csv', 'entra.csv'), '--dry-run']);
    expect(j).toEqual({ batch: null, imported: 4, skipped: 0, failed: 0, errors: [] });
    expect(await snapshot()).toBe(before);
  });

  it('the same file twice is noticed; skip and update apply it again', async () => {
    const file = fixture('csv', 'privacyidea-oath-v1.csv');
    const first = await s.json(['import', file]);
    expect(first.imported).toBe(5);
    const again = await s.run(['import', file]);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(new RegExp(`already imported as batch ${first.batch}`));
    const skip = await s.json(['import', file, '--on-duplicate', 'skip']);
    expect(skip).toMatchObject({ imported: 0, skipped: 5, failed: 0 });
  });

  it('--on-duplicate update takes the new settings of a known token with the same seed', async () => {
    const file = join(s.dir, 'update.csv');
    // TSC3002 from the privacyIDEA sample, now 8 digits and 60 s.
    writeFileSync(file, 'TSC3002, ccd1a204dc883190be6ab1eb5e3dc5a46d96b4c8, totp, 8, 60\n');
    const failed = await s.run(['import', file, '--format', 'oath-csv']);
    expect(failed.code).toBe(4);
    const j = await s.json(['import', file, '--format', 'oath-csv', '--on-duplicate', 'update']);
    expect(j).toMatchObject({ imported: 1, failed: 0 });
    expect(await s.json(['tokens', 'show', 'TSC3002'])).toMatchObject({ digits: 8, period: 60 });
  });

  it('--resource puts the tokens in the Resource; a missing Resource is refused', async () => {
    const missing = await s.run(['import', fixture('csv', 'thales-safenet.csv'), '--resource', 'nope']);
    expect(missing.code).toBe(4);
    await s.json(['resource', 'create', 'vpn']);
    const j = await s.json(['import', fixture('csv', 'thales-safenet.csv'), '--resource', 'vpn']);
    expect(j.imported).toBe(3);
    expect(await s.json(['tokens', 'show', 'TSC3041'])).toMatchObject({
      resource: 'vpn',
      manufacturer: 'GA',
      model: 'LT',
      period: 30,
    });
  });

  it('the batch and one audit row are written with the tokens', async () => {
    const store = await openStore({ db: s.db, env: s.env });
    try {
      const batches = await store.batches.list();
      const b = batches.find((x) => x.sourceName === 'thales-safenet.csv')!;
      expect(b).toMatchObject({ kind: 'import', format: 'thales-csv', imported: 3, status: 'done' });
      expect(b.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
      const rows = await store.audit.list({ subject: `batch:${b.id}` });
      expect(rows.map((r) => r.action)).toEqual(['import']);
      expect((await store.audit.verify()).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
