import type { Command } from 'commander';
import { outputOf } from '../context.js';

export function registerSimulate(program: Command): void {
  program
    .command('simulate <model>')
    .description(
      'run a simulated token of any model (`tokensmith device models` lists them) on the virtual reader of vsmartcard vpcd, so the whole PC/SC stack runs without hardware',
    )
    .option('--vpcd [host:port]', 'plug into vpcd (default 127.0.0.1:35963, the reader "Virtual PCD 00 00")')
    .option('--serial <s>', 'the serial the token reports (its prefix gives the product)')
    .option(
      '--state <file>',
      'write what the token holds (seed, algorithm, period, display timeout, clock, failed authentications) as JSON after each command',
    )
    .option(
      '--cards <n>',
      'present n tokens one after another (serials counting up); each leaves the reader once it has been written and read back',
      '1',
    )
    .option('--clock-offset <s>', "the token's clock minus the host's before it is set, in seconds", '-90')
    .option('--seed <base32>', 'a seed the token already holds (test seeds only: it is written to --state)')
    .option('--algorithm <alg>', 'Token2 NFC: the algorithm it already has: sha1 (default) or sha256')
    .option('--period <s>', 'Token2 NFC, Protectimus: the time step it already has: 30 (default) or 60')
    .option('--locked', 'Token2 NFC: a locked key: every authentication answers 6983')
    .option('--customer-key <key>', 'token2-molto2: the customer key it holds (default: the factory key)')
    .option('--variant <v>', 'token2-molto2: molto2 (50 profiles) or molto2v2 (100, the default)')
    .option(
      '--pull-at <n>',
      'fault drill: take the token off the reader, unanswered, when the nth command arrives (then exit)',
    )
    .addHelpText(
      'after',
      '\nNeeds pcscd and vsmartcard-vpcd. Runs until Ctrl-C (or until the last of --cards has been written).\nAn option the model\'s simulator does not take is refused (exit 2), never ignored; `tokensmith device models` shows which each takes.\n\nExample:\n  tokensmith simulate token2-card --vpcd --serial 86596220000042 --state s.json &\n  tokensmith device flash --reader "Virtual PCD" --algorithm sha256 --period 60 --yes',
    )
    .action(async (model: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const out = outputOf(cmd);
      const { runSimulator } = await import('../../provision/simulate.js');
      await runSimulator(model, o, (line) => out.info(line));
    });
}
