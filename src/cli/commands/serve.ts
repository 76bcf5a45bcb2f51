import type { Command } from 'commander';
import { globalsOf, intOption, outputOf } from '../context.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the web station and the self-service pages on this computer, with a bridge that lets the page use the PC/SC readers here')
    .option('--host <address>', 'the address to listen on; anything but loopback exposes the station to the network', '127.0.0.1')
    .option('--port <n>', 'the port (0 picks a free one)', intOption('--port'), 8417)
    .addHelpText(
      'after',
      '\nIt prints a link with a one-time pairing token: open it in the browser on this computer. Requests without the token,\n' +
        'or from pages of another origin, are refused. Self-service pages are at /r/<resource>. Runs until Ctrl-C.\n\n' +
        'Example:\n  tokensmith serve --port 8417\n  # then open the printed http://127.0.0.1:8417/?pair=... link',
    )
    .action(async (o: { host: string; port: number }, cmd: Command) => {
      const out = outputOf(cmd);
      const { openStore, resolveDbPath } = await import('../../store/index.js');
      const { mailerFor } = await import('../../provision/mailer.js');
      const { startWebServer } = await import('../../web/server.js');
      const { isLoopback } = await import('../../web/pairing.js');
      const db = globalsOf(cmd).db;
      const store = await openStore({ db });
      if (!isLoopback(o.host)) {
        out.warn(`listening on ${o.host}: other computers on the network can reach this station; the pairing token and the Origin check still guard it, but the traffic is not encrypted. Prefer the default 127.0.0.1.`);
      }
      let server;
      try {
        server = await startWebServer({ store, mailer: mailerFor(resolveDbPath(db)), host: o.host, port: o.port });
      } catch (e) {
        await store.close();
        if ((e as { code?: string }).code === 'EADDRINUSE') {
          const { UsageError } = await import('../../core/errors.js');
          throw new UsageError(`port ${o.port} on ${o.host} is in use (another tokensmith serve?): stop it, or give another --port (0 picks a free one)`, 'port-in-use');
        }
        throw e;
      }
      out.result({ url: server.url, origin: server.origin }, `tokensmith station: ${server.url}\nself-service pages: ${server.origin}/r/<resource> (open the link above first in that browser)\nCtrl-C stops it.`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await store.close();
    });
}
