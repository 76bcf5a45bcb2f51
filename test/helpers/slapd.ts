/**
 * A throw-away OpenLDAP server for tests: slapd from Debian's `slapd` package
 * with its own slapd.conf and database in a temp folder, on 127.0.0.1 and free
 * ports (ldap:// with StartTLS, and ldaps://), under a CA the test makes. The
 * service account `cn=reader` is held to a size limit of 50 per unpaged search,
 * so a sync of more people must page. Outside CI the tests skip when slapd is
 * missing; in CI they fail.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, type TestCa } from './tls-ca.js';

export const SUFFIX = 'dc=example,dc=org';
export const ROOT_DN = `cn=admin,${SUFFIX}`;
export const READER_DN = `cn=reader,${SUFFIX}`;
/** Test-only passwords of a throw-away server. */
export const ROOT_PW = 'root-test-pw';
export const READER_PW = 'reader-test-pw';
/** The size limit of one unpaged search by the reader. */
export const SIZE_LIMIT = 50;

/** Why the OpenLDAP tests cannot run here, or null; in CI a missing slapd is a failure. */
export function slapdMissing(): string | null {
  const missing = ['/usr/sbin/slapd', '/usr/sbin/slapadd', '/usr/bin/ldapmodify', '/usr/bin/openssl'].filter(
    (p) => !existsSync(p),
  );
  if (missing.length === 0) return null;
  const why = `OpenLDAP is not installed (${missing.join(', ')} missing): apt-get install slapd ldap-utils openssl`;
  if (process.env.CI) throw new Error(`CI must run the OpenLDAP tests: ${why}`);
  return why;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestPerson {
  uid: string;
  password: string;
  mail?: string;
  locked?: boolean;
}

export interface TestSlapd {
  dir: string;
  ca: TestCa;
  ldapUrl: string;
  ldapsUrl: string;
  /** Applies LDIF changes as the root DN (ldapmodify). */
  modify(ldif: string): void;
  stop(): Promise<void>;
  /** Starts it again on the same ports and data after stop(). */
  start(): Promise<void>;
  /** Restarts with the reader's limits line changed (e.g. `size.prtotal=40` to cut paged results short). */
  restartWithReaderLimits(extra: string): Promise<void>;
}

export function personLdif(p: TestPerson): string {
  return [
    `dn: uid=${p.uid},ou=people,${SUFFIX}`,
    'objectClass: inetOrgPerson',
    `uid: ${p.uid}`,
    `cn: ${p.uid}`,
    `sn: ${p.uid}`,
    `displayName: Person ${p.uid}`,
    `mail: ${p.mail ?? `${p.uid}@example.org`}`,
    `userPassword: ${p.password}`,
    ...(p.locked ? ['pwdAccountLockedTime: 000001010000Z'] : []),
    '',
  ].join('\n');
}

export function groupLdif(cn: string, memberUids: string[]): string {
  return [
    `dn: cn=${cn},ou=groups,${SUFFIX}`,
    'objectClass: groupOfNames',
    `cn: ${cn}`,
    ...(memberUids.length ? memberUids : ['nobody']).map((u) => `member: uid=${u},ou=people,${SUFFIX}`),
    '',
  ].join('\n');
}

function config(dir: string, ca: TestCa, readerExtra = ''): string {
  return `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
TLSCACertificateFile ${ca.caFile}
TLSCertificateFile ${ca.certFile}
TLSCertificateKeyFile ${ca.keyFile}
database mdb
maxsize 268435456
suffix "${SUFFIX}"
rootdn "${ROOT_DN}"
rootpw ${ROOT_PW}
directory ${dir}/db
index uid eq
index member eq
overlay ppolicy
ppolicy_default "cn=default,ou=policies,${SUFFIX}"
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
limits dn.exact="${READER_DN}" size.soft=${SIZE_LIMIT} size.hard=${SIZE_LIMIT} size.pr=1000 ${readerExtra || 'size.prtotal=unlimited'}
`;
}

function baseLdif(people: TestPerson[], groups: Record<string, string[]>): string {
  const head = [
    `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n`,
    `dn: ou=people,${SUFFIX}\nobjectClass: organizationalUnit\nou: people\n`,
    `dn: ou=groups,${SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n`,
    `dn: ou=policies,${SUFFIX}\nobjectClass: organizationalUnit\nou: policies\n`,
    `dn: cn=default,ou=policies,${SUFFIX}\nobjectClass: device\nobjectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\npwdLockout: TRUE\n`,
    `dn: ${READER_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: ${READER_PW}\n`,
  ];
  return [...head, ...people.map(personLdif), ...Object.entries(groups).map(([cn, m]) => groupLdif(cn, m))].join('\n');
}

function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > until) reject(new Error(`slapd did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** A slapd with the given people and groupOfNames groups, loaded offline with slapadd before it starts. */
export async function startSlapd(people: TestPerson[], groups: Record<string, string[]> = {}): Promise<TestSlapd> {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-slapd-'));
  mkdirSync(join(dir, 'db'));
  const ca = makeCa(dir, 'good');
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, config(dir, ca));
  writeFileSync(join(dir, 'base.ldif'), baseLdif(people, groups));
  execFileSync('/usr/sbin/slapadd', ['-q', '-f', conf, '-l', join(dir, 'base.ldif')], { stdio: 'pipe' });
  const [port, tlsPort] = [await freePort(), await freePort()];
  const ldapUrl = `ldap://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn('/usr/sbin/slapd', ['-d', '0', '-f', conf, '-h', `${ldapUrl}/ ldaps://127.0.0.1:${tlsPort}/`], {
      stdio: 'ignore',
    });
    await Promise.all([waitForPort(port, 10_000), waitForPort(tlsPort, 10_000)]);
  };
  const stop = async () => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
    child = null;
  };
  await start();
  return {
    dir,
    ca,
    ldapUrl,
    ldapsUrl: `ldaps://127.0.0.1:${tlsPort}`,
    modify: (ldif) =>
      execFileSync('/usr/bin/ldapmodify', ['-x', '-H', ldapUrl, '-D', ROOT_DN, '-w', ROOT_PW], {
        input: ldif,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    start,
    stop: async () => {
      await stop();
    },
    restartWithReaderLimits: async (extra) => {
      await stop();
      writeFileSync(conf, config(dir, ca, extra));
      await start();
    },
  };
}

/** Stops the server and removes its folder. */
export async function destroySlapd(s: TestSlapd): Promise<void> {
  await s.stop();
  rmSync(s.dir, { recursive: true, force: true });
}
