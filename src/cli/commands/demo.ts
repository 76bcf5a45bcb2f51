import type { Command } from 'commander';
import { outputOf } from '../context.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the main job end to end in a throw-away database, with no hardware, and explain each step')
    .option('--keep', 'keep the throw-away folder (database, key, files) and print where it is')
    .action(async (o: { keep?: boolean }, cmd: Command) => {
      const out = outputOf(cmd);
      const { runDemo } = await import('../../provision/demo.js');
      out.info('tokensmith demo: everything happens in a throw-away database with a throw-away master key.');
      const r = await runDemo({ say: (line) => out.info(line), keep: o.keep });
      out.result(r, `\ndemo finished: ${r.steps.length} steps ok${r.kept ? `; files kept in ${r.dir}` : ''}`);
    });
}
