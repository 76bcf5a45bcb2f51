/**
 * A throw-away Active Directory for tests: a Samba DC provisioned into a temp
 * folder (samba-tool domain provision, --use-rfc2307, no DNS), its smb.conf
 * pointed at temp paths, serving LDAP only on the loopback interface
 * (127.0.0.1:389 and :636: Samba needs a real interface address, and lo has
 * only 127.0.0.1) with a TLS certificate from a CA the test makes. Needs root
 * and Debian's samba and samba-ad-provision. Outside CI the tests skip when
 * these are missing; in CI they fail.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, type TestCa } from './tls-ca.js';

export const AD_BASE = 'DC=corp,DC=example';
export const AD_REALM = 'corp.example';
/** Test-only password of a throw-away domain. */
export const AD_ADMIN_PW = 'Adm1n-Test-Pw!';

/** Why the Samba AD tests cannot run here, or null; in CI that is a failure. */
export function sambaMissing(): string | null {
  let why: string | null = null;
  if (!existsSync('/usr/sbin/samba') || !existsSync('/usr/bin/samba-tool'))
    why = 'Samba is not installed (apt-get install samba)';
  else if (!existsSync('/usr/share/samba/setup/ad-schema'))
    why = 'the AD schema files are missing (apt-get install samba-ad-provision)';
  else if (process.getuid?.() !== 0) why = 'a Samba DC needs root (it binds ports 389 and 636)';
  if (why && process.env.CI) throw new Error(`CI must run the Samba AD tests: ${why}`);
  return why;
}

export interface TestDc {
  dir: string;
  ca: TestCa;
  ldapUrl: string;
  ldapsUrl: string;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** smb.conf as provisioned, with only the services an LDAP test needs, logs and TLS in the temp folder. */
function adjustConf(dir: string, ca: TestCa): void {
  const path = join(dir, 'etc', 'smb.conf');
  const conf = readFileSync(path, 'utf8')
    .replace(/^\s*server services = .*$/m, '\tserver services = ldap, cldap, kdc, rpc')
    .replace(
      /^\s*log file = .*$/m,
      [
        `\tlog file = ${dir}/log.%m`,
        '\ttls enabled = yes',
        `\ttls keyfile = ${ca.keyFile}`,
        `\ttls certfile = ${ca.certFile}`,
        `\ttls cafile = ${ca.caFile}`,
      ].join('\n'),
    );
  writeFileSync(path, conf);
}

export async function startSambaDc(): Promise<TestDc> {
  if (await portOpen(389))
    throw new Error('something already listens on 127.0.0.1:389: another directory test or server is running');
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-samba-'));
  execFileSync(
    '/usr/bin/samba-tool',
    [
      'domain',
      'provision',
      '--realm=CORP.EXAMPLE',
      '--domain=CORP',
      '--server-role=dc',
      '--dns-backend=NONE',
      '--use-rfc2307',
      `--adminpass=${AD_ADMIN_PW}`,
      `--targetdir=${dir}`,
      '--host-ip=127.0.0.1',
      '--option=interfaces=lo',
      '--option=bind interfaces only=yes',
    ],
    { stdio: 'pipe', timeout: 180_000 },
  );
  const ca = makeCa(dir, 'ad');
  execFileSync('chmod', ['600', ca.keyFile]);
  adjustConf(dir, ca);
  const child: ChildProcess = spawn('/usr/sbin/samba', ['-i', '-M', 'single', '-s', join(dir, 'etc', 'smb.conf')], {
    stdio: 'ignore',
  });
  const until = Date.now() + 60_000;
  while (!(await portOpen(636))) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`samba did not start (see ${dir}/log.samba)`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    dir,
    ca,
    ldapUrl: 'ldap://127.0.0.1',
    ldapsUrl: 'ldaps://127.0.0.1',
    stop: async () => {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
