// @module-tag subprocess
/** `tokensmith resource set`: the Self-Service address and limits after creation; what is not named stays. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, tokensmith } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-resource-set-'));
const vars = { TOKENSMITH_DB: join(dir, 't.db') };

describe('resource set', () => {
  beforeAll(async () => {
    assertBuilt();
    expect((await tokensmith(['resource', 'create', 'vpn', '--lock-after', '4'], vars)).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sets the address and a limit, keeps the rest, and writes one resource.update row naming what changed', async () => {
    const r = await tokensmith(
      ['resource', 'set', 'vpn', '--url', 'https://sso.example.com/vpn', '--window', '3', '--json'],
      vars,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      name: 'vpn',
      url: 'https://sso.example.com/vpn',
      window: 3,
      lockAfter: 4,
      syncWindow: 1000,
    });
    const rows = JSON.parse(
      (await tokensmith(['audit', 'list', '--action', 'resource.update', '--json'], vars)).stdout,
    );
    expect(rows.map((x: { details: unknown }) => x.details)).toEqual([
      { changed: { url: { from: null, to: 'https://sso.example.com/vpn' }, window: { from: 2, to: 3 } } },
    ]);
  });

  it('naming nothing, or a limit out of range, is a usage error (exit 2)', async () => {
    const none = await tokensmith(['resource', 'set', 'vpn'], vars);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/name something to set/);
    const bad = await tokensmith(['resource', 'set', 'vpn', '--sync-window', '0'], vars);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--sync-window must be a whole number from 1 to 100000/);
    const missing = await tokensmith(['resource', 'set', 'nope', '--window', '3'], vars);
    expect(missing.code).toBe(4);
  });
});
