import type { Command } from 'commander';
import { withStore } from '../context.js';
import type { LifecycleAction } from '../../provision/lifecycle.js';

const MOVES: { name: LifecycleAction; description: string }[] = [
  {
    name: 'disable',
    description: 'disable a token for a while (enable returns it to where it was; its assignment stays)',
  },
  { name: 'enable', description: 'enable a disabled or found lost token: back to the state it had before' },
  { name: 'lost', description: 'report a token lost (its assignment stays until it is found or revoked)' },
  { name: 'revoke', description: 'revoke a token for good: its assignment ends; only retire follows' },
  { name: 'retire', description: 'retire a token: final' },
];

/** Adds the life-cycle subcommands to the existing `tokens` command. */
export function registerTokensLifecycle(program: Command): void {
  const tokens = program.commands.find((c) => c.name() === 'tokens');
  if (!tokens) throw new Error('registerTokensLifecycle runs after registerTokens');

  for (const m of MOVES) {
    tokens
      .command(`${m.name} <serial>`)
      .description(m.description)
      .option('--manufacturer <m>', 'when the serial exists for several manufacturers')
      .option('--reason <text>', 'written to the audit row')
      .addHelpText(
        'after',
        `\nExample:\n  tokensmith tokens ${m.name} 1234567${m.name === 'lost' ? ' --reason "left on a train"' : ''}`,
      )
      .action(async (serial: string, o: { manufacturer?: string; reason?: string }, cmd: Command) => {
        await withStore(cmd, async (store, out) => {
          const { changeTokenState } = await import('../../provision/lifecycle.js');
          const r = await changeTokenState(store, serial, m.name, o);
          out.result(r, `token ${r.serial}: ${r.from} -> ${r.to}`);
        });
      });
  }

  tokens
    .command('unlock <serial>')
    .description('unlock a token locked for enrollment after too many failed codes, and reset the count')
    .option('--manufacturer <m>', 'when the serial exists for several manufacturers')
    .addHelpText('after', '\nExample:\n  tokensmith tokens unlock 1234567')
    .action(async (serial: string, o: { manufacturer?: string }, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { unlockToken } = await import('../../provision/lifecycle.js');
        const r = await unlockToken(store, serial, o);
        out.result(
          r,
          r.wasLocked
            ? `token ${r.serial} unlocked (it had ${r.failedAttempts} failed codes)`
            : `token ${r.serial} was not locked; failed codes reset`,
        );
      });
    });

  tokens
    .command('resync <serial>')
    .description(
      "resynchronise a drifted token from two consecutive codes, searched within the Resource's sync window (default ±1000 steps)",
    )
    .requiredOption('--codes <c1,c2>', 'two codes the token shows one after the other')
    .option('--force', "accepted for older scripts: the admin is not bound by a Resource's Allowed Actions")
    .option('--at <time>', 'search around this time instead of now (ISO time or Unix seconds)')
    .option('--manufacturer <m>', 'when the serial exists for several manufacturers')
    .addHelpText('after', '\nExample:\n  tokensmith tokens resync 1234567 --codes 287082,359152')
    .action(
      async (
        serial: string,
        o: { codes: string; force?: boolean; at?: string; manufacturer?: string },
        cmd: Command,
      ) => {
        await withStore(cmd, async (store, out) => {
          const { parseCodePair, resyncToken } = await import('../../provision/lifecycle.js');
          const { parseAtTime } = await import('../../provision/tokens.js');
          const r = await resyncToken(store, serial, parseCodePair(o.codes), {
            manufacturer: o.manufacturer,
            at: o.at ? parseAtTime(o.at) : undefined,
          });
          out.result(
            r,
            `token ${r.serial} resynchronised: drift ${r.previousDriftSteps} -> ${r.driftSteps} steps${r.counter !== undefined ? `, next counter ${r.counter}` : ''}`,
          );
        });
      },
    );
}
