// @module-tag subprocess
/**
 * Seed files that arrive in odd ways (issue 21, items 13 to 17): a pipe, a
 * process substitution, `-`, a directory; UTF-16 with a byte-order mark;
 * seeds under 16 bytes; expired keys with --allow-expired; a file whose every
 * row is left out; a key-like value in a row without a seed. python-pskc
 * (a tool we did not write) judges the UTF-16 file. The seed is RFC 4226's
 * labelled test seed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { runCommand } from '../helpers/cli.js';
import { PYTHON, titled, toolsMissing } from '../helpers/tools.js';
import { base32ToHex, CliStore } from './helpers.js';

const SEED_HEX = Buffer.from('12345678901234567890').toString('hex');
const BIN = fileURLToPath(new URL('../../bin/tokensmith', import.meta.url));
const ROW = `P1, ${SEED_HEX}, totp, 6, 30\n`;

const stores: CliStore[] = [];
function fresh(): CliStore {
  const s = new CliStore();
  stores.push(s);
  return s;
}
afterAll(() => stores.forEach((s) => s.cleanup()));

/** The store's import batches and audit rows, read directly. */
async function traces(s: CliStore): Promise<{ batches: number; imports: Record<string, unknown>[] }> {
  const store = openSqliteStore({ path: s.db, env: s.env });
  try {
    const batches = (await store.batches.list()).filter((b) => b.kind === 'import').length;
    const imports = (await store.audit.list({ action: 'import' })).map((a) => a.details);
    return { batches, imports };
  } finally {
    await store.close();
  }
}

const pskc = (packages: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">${packages}</KeyContainer>\n`;
const keyPackage = (serial: string, policy = '') =>
  `<KeyPackage><DeviceInfo><SerialNo>${serial}</SerialNo></DeviceInfo><Key Id="${serial}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">` +
  `<AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>` +
  `<Data><Secret><PlainValue>${Buffer.from(SEED_HEX, 'hex').toString('base64')}</PlainValue></Secret>` +
  `<Counter><PlainValue>0</PlainValue></Counter></Data>${policy}</Key></KeyPackage>`;

describe('files that cannot seek, and a directory (item 13)', () => {
  it('printf … | tokensmith import /dev/stdin imports (no ESPIPE stack trace), from a shell pipe and from a socket', async () => {
    const s = fresh();
    const r = await runCommand(
      'bash',
      ['-c', `printf '%s' "$ROW" | "${process.execPath}" "${BIN}" --db "${s.db}" import /dev/stdin --format oath-csv`],
      { env: { ...s.env, ROW } },
    );
    expect(r.stderr).not.toMatch(/ESPIPE|ENXIO|at .*\.js:\d+/);
    expect(r.code, r.stderr).toBe(0);
    expect(base32ToHex((await s.tokens()).get('P1').secret)).toBe(SEED_HEX);
    // Node gives a child a socket as its standard input: /dev/stdin cannot be opened again there.
    const t = fresh();
    const viaSocket = await t.run(['import', '/dev/stdin', '--format', 'oath-csv'], ROW);
    expect(viaSocket.code, viaSocket.stderr).toBe(0);
  });

  it('`-` reads standard input, with the format detected, and the file is named stdin', async () => {
    const s = fresh();
    const r = await s.run(['--json', 'import', '-'], ROW);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ imported: 1, failed: 0 });
    const store = openSqliteStore({ path: s.db, env: s.env });
    try {
      expect((await store.batches.list()).map((b) => b.sourceName)).toEqual(['stdin']);
    } finally {
      await store.close();
    }
  });

  it('a process substitution <(...) imports', async () => {
    const s = fresh();
    const r = await runCommand(
      'bash',
      ['-c', `"${process.execPath}" "${BIN}" --db "${s.db}" import <(printf '%s' "$ROW") --format oath-csv`],
      { env: { ...s.env, ROW } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect((await s.tokens()).has('P1')).toBe(true);
  });

  it('a directory is a usage error (exit 2), not a crash', async () => {
    const s = fresh();
    const dir = join(s.dir, 'seeds');
    mkdirSync(dir);
    const r = await s.run(['import', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a directory/);
    expect(r.stderr).not.toMatch(/EISDIR/);
  });
});

const noPython = toolsMissing('the UTF-16 PSKC test', 'python3-pskc');

describe('UTF-16 with a byte-order mark (item 14)', () => {
  for (const enc of ['utf-16le', 'utf-16be'] as const) {
    it.skipIf(noPython)(
      titled(`a ${enc} PSKC file: python-pskc reads its keys, and so does tokensmith`, noPython),
      async () => {
        const s = fresh();
        const text = pskc(keyPackage('U1') + keyPackage('U2')).replace('encoding="UTF-8"', 'encoding="UTF-16"');
        const le = Buffer.from(`\ufeff${text}`, 'utf16le');
        const bytes = enc === 'utf-16le' ? le : Buffer.from(le).swap16();
        const file = join(s.dir, `${enc}.pskcxml`);
        writeFileSync(file, bytes);
        const py = execFileSync(
          PYTHON,
          [
            '-c',
            'import sys, pskc; print(",".join(k.serial + ":" + k.secret.hex() for k in pskc.PSKC(sys.argv[1]).keys))',
            file,
          ],
          { encoding: 'utf8' },
        ).trim();
        expect(py).toBe(`U1:${SEED_HEX},U2:${SEED_HEX}`);
        const r = await s.run(['import', file]);
        expect(r.code, r.stderr).toBe(0);
        const tokens = await s.tokens();
        expect([...tokens.keys()].sort()).toEqual(['U1', 'U2']);
        for (const t of tokens.values()) expect(base32ToHex(t.secret)).toBe(SEED_HEX);
      },
    );
  }

  it('a UTF-16LE CSV with its mark imports as its text', async () => {
    const s = fresh();
    const file = join(s.dir, 'u16.csv');
    writeFileSync(file, Buffer.from(`\ufeff${ROW}`, 'utf16le'));
    const r = await s.run(['import', file, '--format', 'oath-csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(base32ToHex((await s.tokens()).get('P1').secret)).toBe(SEED_HEX);
  });
});

describe('seeds under 16 bytes (item 15)', () => {
  it('a CSV cut inside its last seed (13 bytes left) imports with a warning naming the record, never the seed', async () => {
    const s = fresh();
    const file = join(s.dir, 'cut.csv');
    const short = SEED_HEX.slice(0, 26);
    writeFileSync(file, `${ROW}P2, ${short}`);
    const r = await s.run(['import', file, '--format', 'oath-csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/cut\.csv:2 serial P2: warning: the seed is 13 bytes, under the 16 bytes \(128 bits\)/);
    expect(r.stderr).not.toMatch(/P1: warning/);
    expect(r.stderr + r.stdout).not.toContain(short);
    expect((await traces(s)).imports[0]).toMatchObject({ imported: 2, shortSeeds: 1 });
  });
});

describe('expired keys (item 16)', () => {
  const expired = '<Policy><ExpiryDate>2022-09-01T00:00:00Z</ExpiryDate></Policy>';
  it('are refused naming --allow-expired, and imported with it, the audit row saying so', async () => {
    const s = fresh();
    const file = join(s.dir, 'expired.pskcxml');
    writeFileSync(file, pskc(keyPackage('E1', expired)));
    const refused = await s.run(['import', file]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/expired on 2022-09-01.*give --allow-expired/);
    const r = await s.run(['import', file, '--allow-expired']);
    expect(r.code, r.stderr).toBe(0);
    expect((await s.tokens()).get('E1')).toBeDefined();
    expect((await traces(s)).imports).toEqual([expect.objectContaining({ allowExpired: true, imported: 1 })]);
  });

  it('a plain import leaves allowExpired out of its audit row', async () => {
    const s = fresh();
    const file = join(s.dir, 'fine.pskcxml');
    writeFileSync(file, pskc(keyPackage('F1')));
    expect((await s.run(['import', file])).code).toBe(0);
    expect((await traces(s)).imports[0]).not.toHaveProperty('allowExpired');
  });
});

describe('messages (item 17)', () => {
  it('a PSKC cut inside a tag says "truncated"', async () => {
    const s = fresh();
    const file = join(s.dir, 'cut.pskcxml');
    const full = pskc(keyPackage('T1'));
    writeFileSync(file, full.slice(0, full.indexOf('<Counter>') + 4));
    const r = await s.run(['import', file]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/truncated/);
  });

  it('a LinOTP row that holds only a key-like value never prints it as a "serial"', async () => {
    const s = fresh();
    const file = join(s.dir, 'linotp.csv');
    writeFileSync(file, `${SEED_HEX}\nL1, ${SEED_HEX}, totp, 6, 30, sha1\n`);
    const r = await s.run(['import', file, '--format', 'linotp-csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/linotp\.csv:1: .*not shown: 40 characters that may be a seed/);
    expect(r.stderr + r.stdout).not.toContain(SEED_HEX.slice(0, 16));
  });

  it('a file whose every row was left out says so, exits 0 with batch null, and records no batch', async () => {
    const s = fresh();
    const file = join(s.dir, 'pins.pskcxml');
    const pin = (id: string) =>
      `<KeyPackage><DeviceInfo><SerialNo>PIN${id}</SerialNo></DeviceInfo><Key Id="${id}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:pin">` +
      `<Data><Secret><PlainValue>MTIzNA==</PlainValue></Secret></Data></Key></KeyPackage>`;
    writeFileSync(file, pskc(pin('1') + pin('2')));
    const r = await s.run(['--json', 'import', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ batch: null, imported: 0, skipped: 2 });
    expect(r.stderr).toMatch(/every record was left out \(2 skipped.*no batch was recorded/);
    expect(await traces(s)).toEqual({ batches: 0, imports: [] });
    // The words without --json too.
    const plain = await s.run(['import', file]);
    expect(plain.stdout).toMatch(
      /nothing imported from .*pins\.pskcxml \(pskc\): 0 tokens, 2 skipped; no batch was recorded/,
    );
  });
});
