// @module-tag subprocess
/**
 * The registry's built-in families: every simulator option a family does not
 * honour is refused by name (they used to be silently ignored for the Molto2
 * and Protectimus), and a cassette is read only by the family its model
 * names (an unknown or missing model no longer falls through to a default
 * family's driver). The CLI runs from dist/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { showCassette, verifyCassette } from '../../../src/provision/cassettes.js';
import { readCassette, writeCassette } from '../../../src/transport/cassette.js';
import { allModels, familyOfModel } from '../../../drivers/registry.js';
import { runCliSync } from '../../helpers/cli.js';

const ROOT = join(import.meta.dirname, '../../..');
const FIXTURES = join(ROOT, 'fixtures/cassettes');
const dir = mkdtempSync(join(tmpdir(), 'tokensmith-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  return runCliSync(args, { timeoutMs: 15_000, env: { ...process.env, TOKENSMITH_DB: join(dir, 't.db') } });
}

describe('simulate refuses what a family lacks', () => {
  // Port 1: nothing listens there, so a simulator that accepted the option would wait for vpcd until the timeout.
  it.each([
    ['token2-molto2', '--locked', []],
    ['token2-molto2', '--algorithm', ['sha256']],
    ['token2-molto2', '--seed', ['GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ']],
    ['protectimus-slim', '--locked', []],
    ['protectimus-flex', '--algorithm', ['sha256']],
    ['token2-card', '--variant', ['molto2']],
  ])('%s with %s: exit 2, named', (model, flag, value) => {
    const r = cli(['simulate', model, '--vpcd', '127.0.0.1:1', flag, ...value]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`has no ${flag}`);
  });
});

describe('cassettes belong to the family their model names', () => {
  it('every model of every family is listed once', async () => {
    const models = await allModels();
    expect(new Set(models).size).toBe(models.length);
    expect(models).toEqual([
      'token2-card',
      'token2-fob',
      'token2-fob-c302',
      'token2-molto2',
      'protectimus-slim',
      'protectimus-flex',
      'yubikey-oath',
      'yubikey-otp',
    ]);
    expect((await familyOfModel('token2-nfc')).name).toBe('token2-nfc');
  });

  it.each([
    ['an unknown model', 'acme-9000', /'acme-9000' is not a model tokensmith knows/],
    ['no model', null, /names no model/],
  ])('%s: a data error, not a replay through another family', async (_what, model, message) => {
    const c = readCassette(join(FIXTURES, 'protectimus-info.cassette'));
    c.header.model = model;
    const path = join(dir, `model-${model}.cassette`);
    writeCassette(path, c);
    await expect(verifyCassette(path)).rejects.toMatchObject({
      code: 'bad-cassette',
      message: expect.stringMatching(message),
    });
    await expect(showCassette(path)).rejects.toMatchObject({ code: 'bad-cassette' });
  });

  it('an operation the family does not replay is named with the ones it does', async () => {
    const c = readCassette(join(FIXTURES, 'molto2-profiles.cassette'));
    c.header.operation!.name = 'flash';
    const path = join(dir, 'molto2-flash-op.cassette');
    writeCassette(path, c);
    await expect(verifyCassette(path)).rejects.toThrow(
      /token2-molto2 has no cassette operation 'flash' \(it replays flash-profile, profiles, sync-profiles\)/,
    );
  });
});
