import type { Command } from 'commander';
import { TokensmithError } from '../../core/errors.js';
import { intOption, withStore } from '../context.js';
import type { AuditQuery } from '../../provision/audit-trail.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the append-only, hash-chained audit log');

  audit
    .command('list')
    .description('show audit rows, oldest first, by time, actor, action or subject; streamed, in flat memory')
    .option('--limit <n>', 'only the last n rows', intOption('--limit', { min: 1 }))
    .option(
      '--subject <s>',
      "only rows about this subject, e.g. token:1234567; user:<login> adds the user's tokens' events",
    )
    .option('--action <a>', 'only rows of this action, e.g. token.add')
    .option('--actor <name>', 'only rows written by this actor, e.g. alice, portal:bob, station:desk-1')
    .option('--since <time>', 'only rows at or after this date (2026-01-31, midnight UTC) or ISO time')
    .option('--until <time>', 'only rows before this date or ISO time')
    .addHelpText(
      'after',
      '\nExamples:\n  tokensmith audit list --since 2026-01-31 --actor alice\n  tokensmith audit list --subject user:bob --json',
    )
    .action(async (o: AuditQuery, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { auditTrail } = await import('../../provision/audit-trail.js');
        const { streamResult } = await import('../stream-out.js');
        await streamResult(out, () => auditTrail(store, o), {
          headers: ['SEQ', 'AT', 'ACTOR', 'ACTION', 'SUBJECT', 'DETAILS'],
          cells: (r) => [r.seq, r.at, r.actor, r.action, r.subject, JSON.stringify(r.details)],
          empty: 'no audit rows',
        });
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
