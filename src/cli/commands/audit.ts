import type { Command } from 'commander';
import { TokensmithError } from '../../core/errors.js';
import { intOption, table, withStore } from '../context.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the append-only, hash-chained audit log');

  audit
    .command('list')
    .description('show audit rows, oldest first')
    .option('--limit <n>', 'only the last n rows', intOption('--limit', { min: 1 }))
    .option('--subject <s>', 'only rows about this subject, e.g. token:1234567')
    .option('--action <a>', 'only rows of this action, e.g. token.add')
    .action(async (o: { limit?: number; subject?: string; action?: string }, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const rows = await store.audit.list({ limit: o.limit, subject: o.subject, action: o.action });
        out.result(rows, () =>
          rows.length === 0
            ? 'no audit rows'
            : table(
                ['SEQ', 'AT', 'ACTOR', 'ACTION', 'SUBJECT', 'DETAILS'],
                rows.map((r) => [r.seq, r.at, r.actor, r.action, r.subject, JSON.stringify(r.details)]),
              ),
        );
      });
    });

  audit
    .command('verify')
    .description(
      'check the hash chain and its anchor: exits 4 and names the first bad row when a row was edited, deleted or reordered; without the master key the chain is checked and the anchor is not (said)',
    )
    .action(async (_o: unknown, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const r = await store.audit.verify();
        if (!r.ok) {
          out.result(r, `audit chain broken at row ${r.firstBad!.seq}: ${r.firstBad!.problem}`);
          throw new TokensmithError(`audit chain broken at row ${r.firstBad!.seq}: ${r.firstBad!.problem}`, {
            exitCode: 4,
            code: 'audit-broken',
            where: `audit row ${r.firstBad!.seq}`,
            resultPrinted: true,
          });
        }
        if (r.anchorChecked === false) out.warn(r.note ?? 'the anchor was not checked');
        out.result(
          r,
          `audit chain intact: ${r.rows} rows${r.anchorChecked === false ? ' (the anchor was not checked)' : ''}`,
        );
      });
    });
}
