import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { globalsOf, outputOf } from '../context.js';

export function registerDb(program: Command): void {
  const db = program
    .command('db')
    .description(
      'the database itself: bring it to the current schema, or move a SQLite inventory to PostgreSQL for several stations',
    )
    .addHelpText(
      'after',
      `
Examples:
  tokensmith --db postgres://tokensmith@db.example/tokensmith db migrate
  tokensmith db copy --from ~/.local/share/tokensmith/tokensmith.db --to postgres://tokensmith@db.example/tokensmith
See docs/multi-station.md.`,
    );

  db.command('migrate')
    .description(
      'apply the schema migrations the database (--db / TOKENSMITH_DB, a file or a postgres:// URL) lacks; safe to run from several stations at once',
    )
    .addHelpText(
      'after',
      '\nExample:\n  TOKENSMITH_DB=postgres://tokensmith@127.0.0.1/tokensmith tokensmith db migrate --json',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const out = outputOf(cmd);
      const { migrateDatabase } = await import('../../store/postgres/admin.js');
      const { defaultOperator } = await import('../../store/sqlite/store.js');
      const r = await migrateDatabase({
        db: globalsOf(cmd).db,
        operator: defaultOperator(),
        notice: (m) => out.info(m),
      });
      out.result(
        r,
        `${r.location} (${r.backend}): schema version ${r.schemaVersion}; ${r.applied.length ? `applied migration${r.applied.length === 1 ? '' : 's'} ${r.applied.join(', ')}` : 'already current, nothing applied'}`,
      );
    });

  db.command('copy')
    .description(
      'copy a SQLite inventory into an empty PostgreSQL database: every token, sealed seed (same master key) and audit row as they are; checks counts, seeds and the audit chain on arrival',
    )
    .requiredOption('--from <sqlite path>', 'the SQLite database file to copy')
    .requiredOption('--to <postgres url>', 'postgres://user@host/dbname of a new, empty database')
    .addHelpText(
      'after',
      '\nExample:\n  tokensmith db copy --from tokensmith.db --to postgres://tokensmith@db.example/tokensmith\n' +
        'The stations then use --db (or TOKENSMITH_DB) with that URL and the same TOKENSMITH_MASTER_KEY as before (the key file beside tokensmith.db holds it).',
    )
    .action(async (o: { from: string; to: string }, cmd: Command) => {
      const out = outputOf(cmd);
      const { isPostgresUrl } = await import('../../store/postgres/store.js');
      if (!isPostgresUrl(o.to)) throw new UsageError(`--to must be a postgres:// URL, got '${o.to}'`);
      if (isPostgresUrl(o.from)) throw new UsageError('--from is the SQLite file to copy (a path), not a URL');
      const { copySqliteToPostgres } = await import('../../store/postgres/copy.js');
      const { defaultOperator } = await import('../../store/sqlite/store.js');
      let lastTable = '';
      const r = await copySqliteToPostgres({
        from: o.from,
        to: o.to,
        operator: defaultOperator(),
        onProgress: (p) => {
          if (p.table !== lastTable && p.total > 0) out.info(`copying ${p.table} (${p.total} rows)`);
          lastTable = p.table;
        },
      });
      out.result(r, () =>
        [
          `copied ${r.from} to ${r.to}`,
          ...Object.entries(r.tables).map(([t, n]) => `  ${t.padEnd(24)} ${n}`),
          `tokens and sealed seeds identical (SHA-256 ${r.tokensDigest.slice(0, 16)}…); audit chain intact: ${r.audit.rows} rows`,
        ].join('\n'),
      );
    });
}
