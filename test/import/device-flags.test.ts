// @module-tag subprocess
/**
 * `import --manufacturer/--model` through the built CLI: a file that names no
 * device (an OATH CSV) gets the flags' values, which Entra's CSV requires; a
 * file that names another is refused per record; a token already stored
 * without a manufacturer takes it with --on-duplicate update.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from '../helpers/cli.js';
import { CliStore } from './helpers.js';

const SEED_HEX = '3132333435363738393031323334353637383930';
let s: CliStore;

beforeAll(() => {
  assertBuilt();
  s = new CliStore();
});
afterAll(() => s.cleanup());

describe('import --manufacturer/--model', () => {
  it('fills the device of a file that names none; the tokens then carry it', async () => {
    const file = join(s.dir, 'seeds.csv');
    writeFileSync(file, `D-1, ${SEED_HEX}, totp, 6, 30\nD-2, ${SEED_HEX.replace('31', '41')}, totp, 6, 30\n`);
    const r = await s.run(['import', file, '--format', 'oath-csv', '--manufacturer', 'Token2', '--model', 'C202']);
    expect(r.code, r.stderr).toBe(0);
    const tokens = (await s.json(['tokens', 'list'])) as { serial: string; manufacturer: string; model: string }[];
    expect(tokens.map((t) => [t.serial, t.manufacturer, t.model])).toEqual([
      ['D-1', 'Token2', 'C202'],
      ['D-2', 'Token2', 'C202'],
    ]);
  });

  it('a token stored without a manufacturer takes it on --on-duplicate update', async () => {
    const file = join(s.dir, 'bare.csv');
    writeFileSync(file, `B-1, ${SEED_HEX}, totp, 6, 30\n`);
    expect((await s.run(['import', file, '--format', 'oath-csv'])).code).toBe(0);
    const again = join(s.dir, 'bare-again.csv');
    writeFileSync(again, `B-1, ${SEED_HEX}, totp, 6, 30\n`);
    const r = await s.run([
      'import',
      again,
      '--format',
      'oath-csv',
      '--manufacturer',
      'Token2',
      '--model',
      'C202',
      '--on-duplicate',
      'update',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const t = await s.json(['tokens', 'show', 'B-1']);
    expect([t.manufacturer, t.model]).toEqual(['Token2', 'C202']);
  });

  it('refuses a record whose file names another manufacturer (exit 4, nothing written), and an empty flag (exit 2)', async () => {
    const file = join(s.dir, 'entra.csv');
    writeFileSync(
      file,
      'upn,serial number,secret key,time interval,manufacturer,model\r\n' +
        'a@contoso.example,N-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,Contoso,HardwareKey\r\n',
    );
    const r = await s.run(['import', file, '--manufacturer', 'Token2']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/manufacturer 'Contoso', but --manufacturer 'Token2'/);
    const tokens = (await s.json(['tokens', 'list'])) as { serial: string }[];
    expect(tokens.map((t) => t.serial)).not.toContain('N-1');
    expect((await s.run(['import', file, '--model', ' '])).code).toBe(2);
  });
});
