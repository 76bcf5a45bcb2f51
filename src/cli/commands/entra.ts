import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ExitCode, TokensmithError, UsageError } from '../../core/errors.js';
import type { StatusRow } from '../../entra/status.js';
import type { EntraAuth } from '../../store/entra-types.js';
import { readSecretFile } from '../secrets.js';
import { table, withStore } from '../context.js';

interface ConnectOpts {
  tenant: string;
  clientId: string;
  clientSecretFile?: string;
  certificate?: string;
  deviceCode?: boolean;
  graphUrl?: string;
  authorityUrl?: string;
}

// Kept here, not imported from src/entra: `--help` must not load msal (the entra modules load in the actions).
const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com/beta';
const DEFAULT_AUTHORITY_URL = 'https://login.microsoftonline.com';

/** The one way of signing in the options name, and the credential it reads from its file. */
async function credentialOf(o: ConnectOpts): Promise<{ auth: EntraAuth; credential: string | null }> {
  const given = [o.clientSecretFile, o.certificate, o.deviceCode].filter(Boolean).length;
  if (given !== 1) throw new UsageError('give exactly one of --client-secret-file, --certificate, --device-code');
  if (o.clientSecretFile)
    return { auth: 'secret', credential: readSecretFile(o.clientSecretFile, '--client-secret-file') };
  if (o.certificate) {
    let pem: string;
    try {
      pem = readFileSync(o.certificate, 'utf8');
    } catch (err) {
      throw new UsageError(`--certificate: cannot read ${o.certificate}: ${(err as NodeJS.ErrnoException).code}`);
    }
    const { certificateCredential } = await import('../../entra/auth.js');
    certificateCredential(pem); // refuses a file without both parts before anything is stored
    return { auth: 'certificate', credential: pem };
  }
  return { auth: 'device-code', credential: null };
}

function registerConnect(entra: Command): void {
  entra
    .command('connect')
    .description('sign in to a tenant and keep the credential sealed in the store (never printed)')
    .requiredOption('--tenant <id>', 'the tenant id or domain')
    .requiredOption('--client-id <id>', 'the app registration (client) id')
    .option('--client-secret-file <file>', 'app sign-in with the client secret in this file (first line)')
    .option('--certificate <file>', 'app sign-in with a certificate: PEM file with the certificate and its private key')
    .option('--device-code', 'delegated sign-in of an admin at a workstation (a code to enter at the shown address)')
    .option('--graph-url <url>', `the Graph base URL (default ${DEFAULT_GRAPH_URL})`)
    .option('--authority-url <url>', `the sign-in authority, https only (default ${DEFAULT_AUTHORITY_URL})`)
    .action(async (o: ConnectOpts, cmd: Command) => {
      const { auth, credential } = await credentialOf(o);
      const { appToken, deviceCodeSignIn } = await import('../../entra/auth.js');
      const conn = {
        tenant: o.tenant,
        clientId: o.clientId,
        auth,
        graphUrl: o.graphUrl ?? DEFAULT_GRAPH_URL,
        authorityUrl: o.authorityUrl ?? DEFAULT_AUTHORITY_URL,
      };
      await withStore(cmd, async (store, out) => {
        // Signs in once now, so a wrong secret or tenant shows here and not halfway through a push.
        const kept =
          credential !== null
            ? (await appToken(conn, auth as 'secret' | 'certificate', credential), credential)
            : await deviceCodeSignIn(conn, (m) => out.info(m));
        await store.entra.saveConnection(conn, kept);
        await store.audit.append({
          action: 'entra.connect',
          subject: 'entra',
          details: { tenant: o.tenant, clientId: o.clientId, auth },
        });
        out.result(
          { tenant: o.tenant, clientId: o.clientId, auth, graphUrl: conn.graphUrl },
          `connected to tenant ${o.tenant} (${auth}); the credential is sealed in the store`,
        );
      });
    });
}

interface PushOpts {
  resource?: string;
  serials?: string;
  state?: string;
  assign?: boolean;
  activate?: boolean;
  dryRun?: boolean;
}

function registerPush(entra: Command): void {
  entra
    .command('push')
    .description(
      'create tokens in Entra in bulk (found again by serial: a rerun creates nothing twice), then assign and activate',
    )
    .option('--resource <name>', "only the Resource's tokens")
    .option('--serials <file>', 'only the serials listed in this file, one per line (# comments allowed)')
    .option('--state <state>', 'only tokens in this state')
    .option('--assign', "assign each token to its tokensmith user's Entra account (matched by UPN, else by mail)")
    .option('--activate', "assign and activate with a code computed from the stored seed at the server's time")
    .option('--dry-run', 'check and compare only: nothing is sent to Entra or recorded')
    .addHelpText('after', '\nExample:\n  tokensmith entra push --resource vpn --assign --activate')
    .action(async (o: PushOpts, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { resolveSelection } = await import('../../export/select.js');
        const { openGraph } = await import('../../entra/session.js');
        const { pushTokens } = await import('../../entra/push.js');
        const { reportText } = await import('../../entra/report.js');
        const sel = await resolveSelection(store, { resource: o.resource, state: o.state, serialsFile: o.serials });
        const graph = await openGraph(store);
        const report = await pushTokens(store, graph, {
          resourceId: sel.resource?.id,
          serials: sel.serials,
          states: sel.states,
          assign: o.assign,
          activate: o.activate,
          dryRun: o.dryRun,
        });
        out.result(report, () => reportText(report));
        if (report.failed.length > 0)
          throw new TokensmithError(`${report.failed.length} token(s) failed in Entra: see the report`, {
            exitCode: ExitCode.data,
            code: 'entra-failed',
            resultPrinted: true,
          });
      });
    });
}

function statusText(rows: StatusRow[]): string {
  return table(
    ['serial', 'tokensmith', 'user', 'recorded', 'entra', 'entra user', 'differs'],
    rows.map((r) => [
      r.serial,
      r.tokenState,
      r.user ?? '-',
      r.recorded,
      r.entra ?? '-',
      r.entraUser ?? '-',
      r.differs.join('; ') || '-',
    ]),
  );
}

function registerStatus(entra: Command): void {
  entra
    .command('status')
    .description(
      "tokensmith's view and Entra's side by side (available, assigned, activated, failedActivation), with what differs",
    )
    .option('--serials <file>', 'only the serials listed in this file')
    .action(async (o: { serials?: string }, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { resolveSelection } = await import('../../export/select.js');
        const { openGraph } = await import('../../entra/session.js');
        const { entraStatus } = await import('../../entra/status.js');
        const sel = await resolveSelection(store, { serialsFile: o.serials });
        const rows = await entraStatus(store, await openGraph(store), sel.serials);
        out.result(rows, () => statusText(rows));
      });
    });
}

export function registerEntra(program: Command): void {
  const entra = program
    .command('entra')
    .description('Microsoft Entra ID: upload, assign and activate hardware OATH tokens through Microsoft Graph')
    .addHelpText('after', '\nSee docs/entra.md for the app registration and the permissions each step needs.');
  registerConnect(entra);
  registerPush(entra);
  registerStatus(entra);
}
