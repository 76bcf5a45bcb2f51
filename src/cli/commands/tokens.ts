import type { Command } from 'commander';
import { withStore } from '../context.js';
import type { TokenView } from '../../provision/tokens.js';

export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description('register, list and inspect tokens in the store');
  registerAdd(tokens);
  registerList(tokens);
  registerShow(tokens);
  registerCode(tokens);
}

function registerAdd(tokens: Command): void {
  tokens
    .command('add <serial>')
    .description(
      'register one token by hand: a classic token typed from its seed sheet, or a programmable one burned elsewhere',
    )
    .option(
      '--secret <base32>',
      'the seed, base32 (case, spaces and = padding do not matter); visible to other users: prefer --secret-file',
    )
    .option('--secret-file <file>', 'read the seed (base32) from the first line of a file')
    .option('--kind <kind>', 'classic (pre-seeded) or programmable', 'classic')
    .option('--type <type>', 'totp or hotp', 'totp')
    .option('--algorithm <alg>', 'sha1, sha256 or sha512', 'sha1')
    .option('--digits <n>', 'code length, 4 to 10', '6')
    .option('--period <s>', 'TOTP time step in seconds', '30')
    .option('--counter <n>', 'HOTP moving factor', '0')
    .option('--manufacturer <m>', 'manufacturer (serials are unique per manufacturer)')
    .option('--model <m>', 'model name')
    .option('--resource <name>', 'put the token in the stock of this Resource')
    .addHelpText(
      'after',
      '\nExample:\n  tokensmith tokens add 1234567 --secret-file seed.txt --algorithm sha256 --period 60\n\nSerials hold at most 128 characters, manufacturer and model 64; control and bidi characters are refused (exit 2).',
    )
    .action(async (serial: string, o: Record<string, string>, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { addToken, viewToken } = await import('../../provision/tokens.js');
        const { readSecretFile } = await import('../secrets.js');
        const { UsageError } = await import('../../core/errors.js');
        if ((o.secret === undefined) === (o.secretFile === undefined))
          throw new UsageError('give the seed with one of --secret-file and --secret');
        const secret = o.secretFile !== undefined ? readSecretFile(o.secretFile, '--secret-file') : o.secret!;
        const t = await addToken(store, { serial, ...o, secret });
        out.result(
          await viewToken(store, t),
          `added ${t.serial}: ${t.kind} ${t.type} ${t.algorithm} ${t.digits} digits${t.type === 'totp' ? ` ${t.period}s` : ''}, ${t.state}`,
        );
      });
    });
}

const LIST_HEADERS = [
  'SERIAL',
  'MANUFACTURER',
  'MODEL',
  'KIND',
  'TYPE',
  'ALG',
  'DIGITS',
  'PERIOD',
  'STATE',
  'RESOURCE',
  'USER',
];

function listCells(v: TokenView): (string | number | null)[] {
  const period = v.type === 'totp' ? v.period : null;
  return [
    v.serial,
    v.manufacturer || null,
    v.model,
    v.kind,
    v.type,
    v.algorithm,
    v.digits,
    period,
    v.state,
    v.resource,
    v.user,
  ];
}

function registerList(tokens: Command): void {
  tokens
    .command('list')
    .description('list tokens, optionally by state, Resource or assignment date; streamed, in flat memory')
    .option(
      '--state <states>',
      'in_stock, programmed, assigned, enrolled, disabled, lost, revoked or retired; a comma list takes any of them',
    )
    .option('--resource <name>', 'only tokens of this Resource')
    .option('--assigned-before <date>', 'only tokens assigned before this date (2026-01-31) or ISO time')
    .addHelpText(
      'after',
      '\nExample (assigned a month ago and never enrolled):\n  tokensmith tokens list --state assigned --assigned-before 2026-01-01',
    )
    .action(async (o: { state?: string; resource?: string; assignedBefore?: string }, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { iterateTokens } = await import('../../provision/tokens.js');
        const { streamResult } = await import('../stream-out.js');
        await streamResult(out, () => iterateTokens(store, o), {
          headers: LIST_HEADERS,
          cells: listCells,
          empty: 'no tokens',
        });
      });
    });
}

function registerShow(tokens: Command): void {
  tokens
    .command('show <serial>')
    .description('show one token; the seed only with --show-secret')
    .option('--show-secret', 'include the seed (base32): it is printed in the clear')
    .option('--manufacturer <m>', 'when the serial exists for several manufacturers')
    .action(async (serial: string, o: { showSecret?: boolean; manufacturer?: string }, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { findToken, viewToken } = await import('../../provision/tokens.js');
        const t = await findToken(store, serial, o.manufacturer);
        const v = await viewToken(store, t, { showSecret: o.showSecret });
        out.result(v, () =>
          Object.entries(v)
            .map(([k, val]) => `${k.padEnd(13)} ${val === null ? '-' : String(val)}`)
            .join('\n'),
        );
      });
    });
}

function registerCode(tokens: Command): void {
  tokens
    .command('code <serial>')
    .description('the code the token shows now, or at --at (helpdesk checks)')
    .option('--at <time>', 'ISO time (2026-01-31T12:00:00Z) or Unix seconds')
    .option('--manufacturer <m>', 'when the serial exists for several manufacturers')
    .action(async (serial: string, o: { at?: string; manufacturer?: string }, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { tokenCode, parseAtTime } = await import('../../provision/tokens.js');
        const r = await tokenCode(store, serial, {
          at: o.at ? parseAtTime(o.at) : undefined,
          manufacturer: o.manufacturer,
        });
        out.result(
          {
            serial: r.token.serial,
            code: r.code,
            at: r.at.toISOString(),
            ...(r.validFor !== undefined
              ? { validFor: r.validFor }
              : { counter: r.token.counterExact ?? r.token.counter }),
          },
          r.code,
        );
      });
    });
}
