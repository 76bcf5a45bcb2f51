import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBase32 } from '../../src/core/codecs.js';
import { csvCell, neutraliseCell } from '../../src/export/csv-cells.js';
import { exportTokens } from '../../src/export/service.js';
import {
  addTokens,
  assignAllTo,
  EVERY_KIND,
  newToken,
  resourceWithUsers,
  SEED20,
  tempStore,
  type TestStore,
} from './helpers.js';

let ts: TestStore;
beforeEach(async () => {
  ts = await tempStore();
});
afterEach(async () => ts.close());

const lines = (file: string) => readFileSync(file, 'utf8').split(/\r?\n/).filter(Boolean);

describe('CSV cells', () => {
  it('prefixes a cell that a spreadsheet would run as a formula with a single quote', () => {
    for (const s of ['=1+1', '+SUM(A1)', '-2+3', '@cmd', '\tx', '\rx']) expect(neutraliseCell(s)).toBe(`'${s}`);
    for (const s of ['ABC-1', 'a=b', '1234', '', "'x"]) expect(neutraliseCell(s)).toBe(s);
  });
  it('quotes cells with commas, quotes or line breaks after neutralising', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  });
});

describe('entra-csv', () => {
  it('has the exact header, base32 secrets, and lists and leaves out HOTP, SHA-256/512 and 8-digit tokens', async () => {
    await assignAllTo(ts.store, await addTokens(ts.store, EVERY_KIND));
    const out = join(ts.dir, 'entra.csv');
    const r = await exportTokens(ts.store, { format: 'entra-csv', output: out, plaintext: true });
    const l = lines(out);
    expect(l[0]).toBe('upn,serial number,secret key,time interval,manufacturer,model');
    expect(l.slice(1)).toEqual([`alice@contoso.example,K-SHA1-6-30,${encodeBase32(SEED20)},30,Tokensmith Test,TST-1`]);
    expect(r.exported).toBe(1);
    expect(Object.fromEntries(r.skipped.map((s) => [s.serial, s.reason]))).toEqual({
      'K-SHA256-8-60': expect.stringMatching(/HMAC-SHA1 only; this token is SHA256/),
      'K-SHA512-6-30': expect.stringMatching(/HMAC-SHA1 only; this token is SHA512/),
      'K-SHA1-8-60': expect.stringMatching(/6-digit codes; this token shows 8 digits/),
      'K-HOTP': expect.stringMatching(/TOTP tokens only; this one is HOTP/),
    });
  });

  it('neutralises a serial and a user that start with =, and writes the UPN of the assigned user', async () => {
    const r = await ts.store.resources.create({ name: 'vpn' });
    const u = await ts.store.users.create({ login: '=HYPERLINK("http://evil")@example.test' });
    const t = await ts.store.tokens.insert(newToken('=1+2', { resourceId: r.id, period: 60 }));
    await ts.store.assignments.create({ tokenId: t.id, userId: u.id, resourceId: r.id });
    await ts.store.tokens.update(t.id, { state: 'assigned' });
    const out = join(ts.dir, 'e.csv');
    await exportTokens(ts.store, { format: 'entra-csv', output: out, plaintext: true });
    expect(lines(out)[1]).toBe(
      `"'=HYPERLINK(""http://evil"")@example.test",'=1+2,${encodeBase32(SEED20)},60,Tokensmith Test,TST-1`,
    );
  });

  it('takes the email as UPN when the login is not one', async () => {
    const r = await ts.store.resources.create({ name: 'vpn' });
    const u = await ts.store.users.create({ login: 'alice', email: 'alice@contoso.example' });
    const t = await ts.store.tokens.insert(newToken('E1', { resourceId: r.id }));
    await ts.store.assignments.create({ tokenId: t.id, userId: u.id, resourceId: r.id });
    await ts.store.tokens.update(t.id, { state: 'assigned' });
    const out = join(ts.dir, 'e.csv');
    await exportTokens(ts.store, { format: 'entra-csv', output: out, plaintext: true });
    expect(lines(out)[1]!.split(',')[0]).toBe('alice@contoso.example');
  });

  it('writes only uploadable rows: a stock token (no UPN), a user without UPN, a token without manufacturer or model, a lost token are left out by serial, saying what to do', async () => {
    const ok = await addTokens(ts.store, [newToken('E-OK')]);
    await assignAllTo(ts.store, ok);
    await addTokens(ts.store, [newToken('E-STOCK')]);
    await assignAllTo(ts.store, await addTokens(ts.store, [newToken('E-NOUPN')]), 'bob');
    const bare = await addTokens(ts.store, [
      newToken('E-NOMAKER', { manufacturer: '' }),
      newToken('E-NOMODEL', { model: null }),
    ]);
    await assignAllTo(ts.store, bare, 'carol@contoso.example');
    const [lost] = await addTokens(ts.store, [newToken('E-LOST')]);
    await assignAllTo(ts.store, [lost!], 'dave@contoso.example');
    await ts.store.tokens.update(lost!.id, { state: 'lost' });
    const out = join(ts.dir, 'entra.csv');
    const r = await exportTokens(ts.store, { format: 'entra-csv', output: out, plaintext: true });
    const rows = lines(out)
      .slice(1)
      .map((l) => l.split(','));
    expect(rows.map((c) => c[1])).toEqual(['E-OK']);
    for (const c of rows) expect(c.every((cell) => cell !== '')).toBe(true);
    expect(Object.fromEntries(r.skipped.map((s) => [s.serial, s.reason]))).toEqual({
      'E-STOCK': expect.stringMatching(/not assigned to a user.*UPN.*--state assigned,enrolled/),
      'E-NOUPN': expect.stringMatching(/no UPN for user 'bob'.*email/),
      'E-NOMAKER': expect.stringMatching(/no manufacturer.*import --manufacturer/),
      'E-NOMODEL': expect.stringMatching(/no model.*--model/),
      'E-LOST': expect.stringMatching(/state lost: only assigned or enrolled tokens go to Entra/),
    });
  });

  it('names a drifted TOTP token written without its drift (Entra has no column for it); pskc carries it and names none', async () => {
    await assignAllTo(
      ts.store,
      await addTokens(ts.store, [newToken('E-DRIFT', { driftSteps: 14 }), newToken('E-ON-TIME')]),
    );
    const r = await exportTokens(ts.store, { format: 'entra-csv', output: join(ts.dir, 'e.csv'), plaintext: true });
    expect(r.exported).toBe(2);
    expect(r.drifted).toEqual([
      {
        serial: 'E-DRIFT',
        driftSteps: 14,
        advice: expect.stringMatching(/14 steps \(420 s\) ahead.*device sync.*replace/),
      },
    ]);
    const [row] = await ts.store.audit.list({ action: 'export', limit: 1 });
    expect(row!.details).toMatchObject({ format: 'entra-csv', exported: 2, drifted: 1 });
    const p = await exportTokens(ts.store, { format: 'pskc', output: join(ts.dir, 'p.xml'), plaintext: true });
    expect(p.drifted).toEqual([]);
    expect(readFileSync(join(ts.dir, 'p.xml'), 'utf8')).toContain(
      '<pskc:TimeDrift><pskc:PlainValue>14</pskc:PlainValue>',
    );
  });

  it('is refused without --plaintext (exit 2) and never written', async () => {
    await addTokens(ts.store, EVERY_KIND);
    const out = join(ts.dir, 'no.csv');
    await expect(exportTokens(ts.store, { format: 'entra-csv', output: out })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/--plaintext/),
    });
    await expect(exportTokens(ts.store, { format: 'entra-csv', output: out, password: 'x' })).rejects.toMatchObject({
      exitCode: 2,
    });
    expect(() => readFileSync(out)).toThrow();
  });
});

describe('oath-csv (privacyIDEA)', () => {
  it('writes serial, hex seed, type, otplen, timestep or counter, and leaves out a hash the seed length would misstate', async () => {
    await addTokens(ts.store, [...EVERY_KIND, newToken('SHA256-SHORT', { algorithm: 'sha256', seed: SEED20 })]);
    const out = join(ts.dir, 'o.csv');
    const r = await exportTokens(ts.store, { format: 'oath-csv', output: out, plaintext: true });
    const rows = lines(out).filter((l) => !l.startsWith('#'));
    expect(rows).toContain(`K-SHA1-6-30, ${SEED20.toString('hex')}, totp, 6, 30`);
    expect(rows).toContain(`K-HOTP, ${SEED20.toString('hex')}, hotp, 6, 42`);
    expect(rows.find((l) => l.startsWith('K-SHA256-8-60'))).toMatch(/^K-SHA256-8-60, [0-9a-f]{64}, totp, 8, 60$/);
    expect(rows.find((l) => l.startsWith('K-SHA512-6-30'))).toMatch(/^K-SHA512-6-30, [0-9a-f]{128}, totp, 6, 30$/);
    expect(r.skipped).toEqual([{ serial: 'SHA256-SHORT', reason: expect.stringMatching(/would read it as SHA1/) }]);
  });

  it('with --resource uses the "# version: 2" form with user and realm; unassigned tokens leave them empty', async () => {
    await resourceWithUsers(ts.store, 'vpn', 3);
    const out = join(ts.dir, 'o2.csv');
    const r = await exportTokens(ts.store, { format: 'oath-csv', output: out, plaintext: true, resource: 'vpn' });
    expect(r.exported).toBe(3);
    const l = lines(out);
    expect(l[0]).toBe('# version: 2');
    const rows = l.filter((x) => !x.startsWith('#'));
    expect(rows[0]).toMatch(/^user1@example\.test, , vpn, vpn-T1, [0-9a-f]{40}, totp, 6, 30$/);
    expect(rows[2]).toMatch(/^, , , vpn-T3, /);
  });
});

describe('thales-csv and protectimus-csv', () => {
  it('thales: the generic header, base32, and TOTP SHA-1 6-digit tokens only', async () => {
    await addTokens(ts.store, EVERY_KIND);
    const out = join(ts.dir, 't.csv');
    const r = await exportTokens(ts.store, { format: 'thales-csv', output: out, plaintext: true });
    expect(lines(out)).toEqual([
      'Serial Number, Secret Key, Time Interval, Manufacturer, Model',
      `K-SHA1-6-30, ${encodeBase32(SEED20)}, 30, Tokensmith Test, TST-1`,
    ]);
    expect(r.skipped.map((s) => s.serial).sort()).toEqual(['K-HOTP', 'K-SHA1-8-60', 'K-SHA256-8-60', 'K-SHA512-6-30']);
  });

  it('protectimus: serialNumber,secret with one token spec per file, named in a note', async () => {
    await addTokens(ts.store, [newToken('P1'), newToken('P2', { period: 60 }), newToken('@P3')]);
    const out = join(ts.dir, 'p.csv');
    const r = await exportTokens(ts.store, { format: 'protectimus-csv', output: out, plaintext: true });
    expect(lines(out)).toEqual(['serialNumber,secret', `P1,${encodeBase32(SEED20)}`, `'@P3,${encodeBase32(SEED20)}`]);
    expect(r.skipped).toEqual([
      {
        serial: 'P2',
        reason: expect.stringMatching(
          /one token spec per file; this file is TOTP SHA1 6 digits 30 s and this token is TOTP SHA1 6 digits 60 s/,
        ),
      },
    ]);
    expect(r.notes.join('\n')).toMatch(/TOTP SHA1 6 digits 30 s: choose these settings/);
  });
});

describe('otpauth', () => {
  it('writes one URI per token and, with --qr, one private PNG per token', async () => {
    await addTokens(ts.store, EVERY_KIND);
    const out = join(ts.dir, 'u.txt');
    const qr = join(ts.dir, 'qr');
    const r = await exportTokens(ts.store, { format: 'otpauth', output: out, plaintext: true, qrDir: qr });
    const l = lines(out);
    expect(l).toHaveLength(5);
    expect(l[0]).toBe(
      `otpauth://totp/Tokensmith%20Test:K-SHA1-6-30?issuer=Tokensmith%20Test&secret=${encodeBase32(SEED20)}&algorithm=SHA1&digits=6&period=30`,
    );
    expect(l[4]).toMatch(/^otpauth:\/\/hotp\/.*counter=42$/);
    expect(r.exported).toBe(5);
    const png = readFileSync(join(qr, 'K-HOTP.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});
