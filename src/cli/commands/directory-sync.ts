import type { Command } from 'commander';
import type { SyncReport } from '../../provision/directory-sync.js';

const SHOWN = 10;

function names(list: string[]): string {
  return list.length > SHOWN ? `${list.slice(0, SHOWN).join(', ')} and ${list.length - SHOWN} more` : list.join(', ');
}

/** The report as text: one block per Resource, counts first, then who. */
export function syncText(reports: SyncReport[]): string {
  const lines: string[] = [];
  for (const rep of reports) {
    if (rep.resources.length === 0) lines.push(`directory ${rep.directory}: no Resource is linked to it`);
    for (const r of rep.resources) {
      lines.push(
        `${rep.dryRun ? '(dry run) ' : ''}${r.resource} <- ${rep.directory} ${r.group}: ${r.added.length} added, ${r.updated.length} updated, ${r.disabled.length} disabled, ${r.left.length} left, ${r.unchanged} unchanged`,
      );
      for (const [what, list] of [
        ['added', r.added],
        ['updated', r.updated],
        ['disabled', r.disabled],
        ['left', r.left],
      ] as const)
        if (list.length) lines.push(`  ${what}: ${names(list)}`);
      if (r.left.length)
        lines.push(
          `  tokens of leavers (on leave: ${r.onLeave}): ${r.tokens.kept.length} kept, ${r.tokens.unassigned.length} unassigned, ${r.tokens.disabled.length} disabled${r.tokens.kept.length ? ` (kept: ${names(r.tokens.kept)})` : ''}`,
        );
      if (r.conflicts.length)
        lines.push(`  not merged: ${names(r.conflicts)} (local users with the same login; remove or rename one)`);
      if (r.invalid.length) lines.push(`  skipped: ${r.invalid.length} logins the store cannot take`);
    }
  }
  return lines.join('\n');
}

export function registerDirectorySync(directory: Command): void {
  directory
    .command('sync [name]')
    .description("make the linked Resources' users the members of their groups (every directory when no name)")
    .option('--dry-run', 'report what would change; change nothing')
    .option('--force', "pass the guard that refuses taking away more than 10% of a Resource's users")
    .addHelpText(
      'after',
      '\nA failed, timed-out or cut-short directory search changes nothing.\nExample:\n  tokensmith directory sync corp --dry-run\n  tokensmith directory sync --json   # from cron or a systemd timer',
    )
    .action(async (name: string | undefined, o: { dryRun?: boolean; force?: boolean }, cmd: Command) => {
      const { withStore } = await import('../context.js');
      await withStore(cmd, async (store, out) => {
        const { syncDirectories } = await import('../../provision/directory-sync.js');
        const tty = !out.json && Boolean((process.stderr as NodeJS.WriteStream).isTTY);
        const reports = await syncDirectories(store, name, {
          ...o,
          onProgress: tty ? (d, g, n) => process.stderr.write(`\r${d}: ${n} people read from ${g}`) : undefined,
        });
        if (tty) process.stderr.write('\n');
        out.result(reports, () => syncText(reports));
      });
    });
}
