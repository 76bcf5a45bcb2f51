import type { Command } from 'commander';
import { DataError, UsageError } from '../../core/errors.js';
import { withStore } from '../context.js';

export function registerAssign(program: Command): void {
  program
    .command('assign [serial] [login]')
    .summary('give a token to a user in a Resource')
    .description(
      'give a token to a user in a Resource (state assigned; the user enrolls it with a code); one token per user per Resource',
    )
    .option('--resource <name>', 'the Resource')
    .option('--manufacturer <m>', 'when the serial exists for several manufacturers')
    .option('--from <csv>', 'bulk: a CSV with columns serial, login, resource[, manufacturer]; all or nothing')
    .option(
      '--replace',
      "revoke the user's current token in the Resource (lost, broken) and assign this one, in one step",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  tokensmith assign 1234567 alice --resource vpn\n  tokensmith assign 7654321 alice --resource vpn --replace   (after tokens lost 1234567)\n  tokensmith assign --from assignments.csv',
    )
    .action(
      async (
        serial: string | undefined,
        login: string | undefined,
        o: { resource?: string; manufacturer?: string; from?: string; replace?: boolean },
        cmd: Command,
      ) => {
        await withStore(cmd, async (store, out) => {
          const { assignToken, assignFromCsv } = await import('../../provision/assign.js');
          if (o.from) {
            if (serial || login || o.replace)
              throw new UsageError('give either <serial> <login> --resource R [--replace], or --from <csv>, not both');
            const r = await assignFromCsv(store, o.from);
            if (r.errors.length > 0) {
              for (const e of r.errors) out.info(`${e.where}: ${e.message}`);
              throw new DataError(
                `nothing assigned: ${r.errors.length} bad line(s) in ${r.file}: ${r.errors.map((e) => `${e.where}: ${e.message}`).join('; ')}`,
                {
                  code: 'import-rejected',
                  where: r.errors[0]!.where,
                },
              );
            }
            out.result(r, `assigned ${r.assigned} token(s) from ${r.file}`);
            return;
          }
          if (!serial || !login || !o.resource)
            throw new UsageError('usage: tokensmith assign <serial> <login> --resource <name> (or --from <csv>)');
          const v = await assignToken(store, {
            serial,
            login,
            resource: o.resource,
            manufacturer: o.manufacturer,
            replace: o.replace,
          });
          out.result(
            v,
            `${v.replaced ? `token ${v.replaced} revoked; ` : ''}token ${v.serial} assigned to ${v.user} in ${v.resource}; it is enrolled when ${v.user} types a code from it`,
          );
        });
      },
    );

  program
    .command('unassign <serial>')
    .summary('take a token back from its user')
    .description(
      'take a token back from its user: a programmable token returns to programmed, a classic one to in_stock, in the same Resource',
    )
    .option('--manufacturer <m>', 'when the serial exists for several manufacturers')
    .addHelpText('after', '\nExample:\n  tokensmith unassign 1234567')
    .action(async (serial: string, o: { manufacturer?: string }, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { unassignToken } = await import('../../provision/assign.js');
        const r = await unassignToken(store, serial, o);
        out.result(r, `token ${r.serial} taken back from ${r.user} (${r.resource}); now ${r.state}`);
      });
    });
}
