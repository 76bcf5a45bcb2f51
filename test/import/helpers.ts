/** Shared by the import tests: fixture paths, the parsers' output collected, and the built CLI in a temp store. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParseContext, ParseItem, SeedParser } from '../../src/import/types.js';
import { runCli } from '../helpers/cli.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/seedfiles/', import.meta.url));

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function expectedOf(dir: string): any {
  return JSON.parse(readFileSync(fixture(dir, 'expected.json'), 'utf8'));
}

export async function collect(parser: SeedParser, file: string, ctx: Partial<ParseContext> = {}): Promise<ParseItem[]> {
  const items: ParseItem[] = [];
  for await (const it of parser(file, { fileName: basename(file), ...ctx })) items.push(it);
  return items;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A throw-away store driven through the built CLI. */
export class CliStore {
  readonly dir = mkdtempSync(join(tmpdir(), 'tokensmith-import-test-'));
  readonly db = join(this.dir, 't.db');
  readonly env: NodeJS.ProcessEnv = {
    ...process.env,
    TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'),
    TOKENSMITH_OPERATOR: 'test',
    CI: '1',
  };

  run(args: string[], input = ''): Promise<CliResult> {
    return runCli(['--db', this.db, ...args], { env: this.env, input });
  }

  async json(args: string[]): Promise<any> {
    const r = await this.run(['--json', ...args]);
    if (r.code !== 0) throw new Error(`tokensmith ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  /** Serial -> token view with its secret (base32), for every token in the store. */
  async tokens(): Promise<Map<string, any>> {
    const list = (await this.json(['tokens', 'list'])) as { serial: string; manufacturer: string }[];
    const out = new Map<string, any>();
    for (const t of list)
      out.set(
        t.serial,
        await this.json([
          'tokens',
          'show',
          t.serial,
          '--show-secret',
          ...(t.manufacturer ? ['--manufacturer', t.manufacturer] : []),
        ]),
      );
    return out;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export function base32ToHex(s: string): string {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of s.replace(/=+$/, '')) {
    value = (value << 5) | B32.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out).toString('hex');
}
