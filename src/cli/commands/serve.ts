import type { Command } from 'commander';
import { globalsOf, intOption, outputOf } from '../context.js';
import { UsageError } from '../../core/errors.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run the web station on this computer, with a bridge that lets the page use the PC/SC readers here (the self-service pages: tokensmith portal)',
    )
    .option(
      '--host <address>',
      'the address to listen on; anything but loopback exposes the station to the network',
      '127.0.0.1',
    )
    .option('--port <n>', 'the port (0 picks a free one)', intOption('--port'), 8417)
    .option(
      '--operator <name>',
      'who works at this station: the audit log names them for what the page does (else the pairing page asks)',
    )
    .addHelpText(
      'after',
      '\nIt prints a link with a pairing code: open it in the browser on this computer. The code pairs one page, once;\n' +
        'the page then holds a session secret of its own (no cookie). Requests without it, or from pages of another\n' +
        "origin, are refused. Users' self-service pages are served by `tokensmith portal`. Runs until Ctrl-C (or SIGTERM).\n\n" +
        'Example:\n  tokensmith serve --operator alice\n  # then open the printed http://127.0.0.1:8417/?pair=... link',
    )
    .action(async (o: { host: string; port: number; operator?: string }, cmd: Command) => {
      const out = outputOf(cmd);
      const { openStore } = await import('../../store/index.js');
      const { startWebServer } = await import('../../web/server.js');
      const { isLoopback } = await import('../../web/pairing.js');
      const db = globalsOf(cmd).db;
      const store = await openStore({ db });
      if (!isLoopback(o.host)) {
        out.warn(
          `listening on ${o.host}: other computers on the network can reach this station; the pairing and the Host and Origin checks still guard it, but the traffic is not encrypted. Prefer the default 127.0.0.1.`,
        );
      }
      let server;
      try {
        server = await startWebServer({ store, host: o.host, port: o.port, operator: o.operator });
      } catch (e) {
        await store.close();
        if ((e as { code?: string }).code === 'EADDRINUSE') {
          throw new UsageError(
            `port ${o.port} on ${o.host} is in use (another tokensmith serve?): stop it, or give another --port (0 picks a free one)`,
            'port-in-use',
          );
        }
        throw e;
      }
      out.result({ url: server.url, origin: server.origin }, `tokensmith station: ${server.url}\nCtrl-C stops it.`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await store.close();
    });
}
