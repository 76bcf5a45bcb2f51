// @module-tag subprocess
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeCassette, readCassette } from '../../src/transport/cassette.js';
import { flipByte } from '../helpers/bytes.js';
import { runCliSync } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '../..');
const FLASH = join(ROOT, 'fixtures/cassettes/token2-card-flash.cassette');
const dir = mkdtempSync(join(tmpdir(), 'tokensmith-cassette-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  return runCliSync(args, { env: { ...process.env, TOKENSMITH_DB: join(dir, 't.db') } });
}

describe('tokensmith cassette', () => {
  it('verify replays a committed cassette: exit 0', () => {
    const r = cli(['cassette', 'verify', FLASH, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, operation: 'flash', outcome: 'ok', commands: 8 });
  });

  it('verify of a cassette with one byte changed: exit 4 and both frames decoded', () => {
    const c = readCassette(FLASH);
    const f = c.frames.find((x) => x.dir === 'command' && x.bytes[1] === 0xd4)!;
    flipByte(f.bytes, 20, 0x03); // the algorithm code: 2 (sha256) -> 1 (sha1)
    const path = join(dir, 'changed.cassette');
    writeFileSync(path, encodeCassette(c));
    const r = cli(['cassette', 'verify', path]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/differs from the recording at byte 20/);
    expect(r.stderr).toMatch(/expected .*algorithm code 1|expected .*sha1/);
    expect(r.stderr).toMatch(/actual .*sha256/);
  });

  it('show prints the annotated transcript, and JSON with --json', () => {
    const r = cli(['cassette', 'show', FLASH]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/>> 84 D4 00 00 17/);
    expect(r.stdout).toMatch(/write config: display timeout 60 s/);
    const j = JSON.parse(cli(['cassette', 'show', FLASH, '--json']).stdout);
    expect(j.header).toMatchObject({ source: 'simulator', model: 'token2-card' });
    expect(j.frames.length).toBeGreaterThan(10);
  });

  it('simulate without --vpcd and device flash without --yes and no terminal are usage errors (exit 2)', () => {
    expect(cli(['simulate', 'token2-card']).code).toBe(2);
    const r = cli(['device', 'flash']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes/);
  });
});
