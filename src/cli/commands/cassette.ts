import type { Command } from 'commander';
import { outputOf } from '../context.js';

export function registerCassette(program: Command): void {
  const cassette = program
    .command('cassette')
    .description('recorded device sessions: show them, replay them through the real driver');

  cassette
    .command('show <file>')
    .description('print an annotated transcript: command names, decoded config fields, status words in words')
    .addHelpText('after', '\nExample:\n  tokensmith cassette show session.cassette')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const out = outputOf(cmd);
      const { showCassette, formatTranscript } = await import('../../provision/cassettes.js');
      const v = await showCassette(file);
      out.result(v, () => formatTranscript(v));
    });

  cassette
    .command('verify <file>')
    .description(
      'replay a cassette through the real driver; fails on the first frame that differs, with both frames decoded',
    )
    .addHelpText('after', '\nExample:\n  tokensmith cassette verify session.cassette')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const out = outputOf(cmd);
      const { verifyCassette } = await import('../../provision/cassettes.js');
      const r = await verifyCassette(file);
      out.result(
        r,
        `${file}: replayed ${r.commands} commands through the driver, same bytes, ended ${r.outcome} as recorded`,
      );
    });
}
