import type { Command } from 'commander';
import { globalsOf, intOption, outputOf } from '../context.js';
import type { PortalFlags } from '../../web/portal-options.js';
import { UsageError } from '../../core/errors.js';

interface PortalOptions extends PortalFlags {
  smtpUrl?: string;
  accessLog?: boolean;
  listResources?: boolean;
}

const HELP = `
The portal is where users of a Resource sign in and manage their own token:
  https://<public address>/r/<resource>
It serves only those pages and their API (/api/r/<resource>/...). The station's
pages, API and reader bridge are not there (404), and no pairing is needed:
users sign in with their password, or with a code mailed to them when they
have none, plus their token's code once they hold one. What they may do is
what the Resource allows (tokensmith resource allow).

Run it one of two ways when users reach it over the network:
  - with TLS itself: --tls-cert fullchain.pem --tls-key privkey.pem
  - behind a reverse proxy (nginx, Caddy) that does TLS: keep --host 127.0.0.1
    and give the proxy's address with --trust-proxy, so X-Forwarded-For (the
    user's address, used for rate limits) and X-Forwarded-Proto (https: the
    session cookie is then Secure) are believed from it and from no one else.
Several portal processes can share one PostgreSQL database (--db postgres://...):
sessions and sign-in counters live in the database.

Mail (sign-in codes) goes through --smtp-url, else TOKENSMITH_SMTP_URL (prefer
the variable when the URL holds a password: command lines are visible to other
users), else into an outbox folder beside the database (demo and tests; files
are removed after 10 minutes). TOKENSMITH_MAIL_FROM sets the sender.

Sign-in mails link to <public url>/r/<resource>. The address / shows a plain
page, or with --list-resources a list of the Resources that allow self-service.
A Resource's own --url (tokensmith resource create --url) is not used here.

It prints "tokensmith portal: <url>" as its first line (--json: {"url": ...})
and runs until Ctrl-C or SIGTERM.

Examples:
  tokensmith portal --db postgres://portal@db/tokens --port 8418 \\
      --public-url https://mfa.example.com --trust-proxy 127.0.0.1
  TOKENSMITH_SMTP_URL=smtps://portal:secret@mail.example.com:465 \\
      tokensmith portal --host 0.0.0.0 --port 443 --public-url https://mfa.example.com \\
      --tls-cert /etc/tokensmith/fullchain.pem --tls-key /etc/tokensmith/privkey.pem
See docs/portal.md.`;

export function registerPortal(program: Command): void {
  program
    .command('portal')
    .description(
      'run the self-service portal as a network server for users (sign-in, claim a token): no station pages, no pairing',
    )
    .option(
      '--host <address>',
      'the address to listen on (0.0.0.0: every interface; then use TLS or a proxy)',
      '127.0.0.1',
    )
    .option('--port <n>', 'the port (0 picks a free one)', intOption('--port', { min: 0 }), 8418)
    .option(
      '--public-url <url>',
      'the address users see, e.g. https://mfa.example.com: printed, named in mails, the only other origin allowed to post',
    )
    .option('--tls-cert <file>', 'PEM certificate (chain) to serve https with; needs --tls-key')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--trust-proxy <cidr>',
      'believe X-Forwarded-For/-Proto/-Host only from these proxies: addresses or CIDRs, comma-separated (e.g. 127.0.0.1,10.0.0.0/8)',
    )
    .option(
      '--smtp-url <url>',
      'send mail through this SMTP server, smtp://host:587 or smtps://user:pass@host:465 (default: TOKENSMITH_SMTP_URL, else the outbox)',
    )
    .option(
      '--list-resources',
      'let / list the Resources that allow self-service (else / is a plain page that names none)',
    )
    .option(
      '--access-log',
      'write one line per request to stderr: time, client address, method, path, status, milliseconds',
    )
    .addHelpText('after', HELP)
    .action(runPortal);
}

/** Starts the server, prints where it listens, and runs until SIGINT or SIGTERM. */
async function runPortal(o: PortalOptions, cmd: Command): Promise<void> {
  const out = outputOf(cmd);
  const { portalSettings } = await import('../../web/portal-options.js');
  const settings = portalSettings(o);
  const { openStore, resolveDbPath } = await import('../../store/index.js');
  const { mailerFor } = await import('../../provision/mailer.js');
  const { startPortalServer } = await import('../../web/portal-server.js');
  const db = globalsOf(cmd).db;
  const mailer = mailerFor(resolveDbPath(db), process.env, o.smtpUrl);
  for (const w of settings.warnings) out.warn(w);
  const store = await openStore({ db });
  let server;
  try {
    server = await startPortalServer({
      store,
      mailer,
      ...settings.server,
      accessLog: o.accessLog
        ? (e) => out.info(`${new Date().toISOString()} ${e.ip} ${e.method} ${e.path} ${e.status} ${e.ms}ms`)
        : undefined,
      onUnexpectedError: (e) => out.warn(`a request failed: ${(e as Error)?.stack ?? String(e)}`),
      onMailFailure: (message) => out.warn(message),
      listResources: o.listResources === true,
    });
  } catch (e) {
    await store.close();
    if ((e as { code?: string }).code === 'EADDRINUSE') {
      throw new UsageError(
        `port ${o.port} on ${o.host} is in use (another tokensmith portal?): stop it, or give another --port (0 picks a free one)`,
        'port-in-use',
      );
    }
    throw e;
  }
  out.result(
    { url: server.url, origin: server.origin },
    `tokensmith portal: ${server.url}\nlistening on ${server.origin}; pages at ${server.url}/r/<resource>. Ctrl-C stops it.`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await mailer.close?.();
  await store.close();
}
