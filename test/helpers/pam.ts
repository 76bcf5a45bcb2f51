/**
 * pam_oath and FreeRADIUS for the users file tests: a PAM service file in
 * /etc/pam.d (PAM reads no other folder) written and removed by the test,
 * `pamtester` against it, and a radiusd of the test's own (config in a temp
 * folder, loopback, a free port) whose pam module uses that service, asked
 * with `radtest`. Needs root (pam.d, and pam_oath rewrites its file).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { which } from './pcsc.js';

const PAM_OATH = [
  '/usr/lib/x86_64-linux-gnu/security/pam_oath.so',
  '/usr/lib/aarch64-linux-gnu/security/pam_oath.so',
  '/lib/security/pam_oath.so',
  '/usr/lib/security/pam_oath.so',
];

/** Why pam_oath and FreeRADIUS cannot be tested here (null: they can). Under CI a missing piece is a failure, not a skip. */
export function pamMissing(test: string): string | null {
  const why = !PAM_OATH.some((p) => existsSync(p))
    ? 'pam_oath is not installed (apt-get install libpam-oath)'
    : !which('pamtester')
      ? 'pamtester is not installed (apt-get install pamtester)'
      : !which('freeradius') && !which('radiusd')
        ? 'FreeRADIUS is not installed (apt-get install freeradius)'
        : !which('radtest')
          ? 'radtest is not installed (apt-get install freeradius-utils)'
          : process.getuid?.() !== 0
            ? 'not root: the test writes a PAM service into /etc/pam.d'
            : null;
  if (why && process.env.CI) throw new Error(`${test} must run in CI, but ${why}`);
  return why;
}

/**
 * A PAM service named tokensmith-test-<random> using pam_oath with `usersFile`; remove() deletes it.
 * digits: the code length pam_oath cuts off the input; null for none (the whole input is the code, 6 to 8 digits).
 */
export function writePamService(
  usersFile: string,
  o: { window?: number; digits?: number | null } = {},
): { name: string; remove: () => void } {
  const name = `tokensmith-test-${randomBytes(4).toString('hex')}`;
  const path = join('/etc/pam.d', name);
  const digits = o.digits === null ? '' : ` digits=${o.digits ?? 6}`;
  writeFileSync(
    path,
    `auth requisite pam_oath.so usersfile=${usersFile} window=${o.window ?? 2}${digits}\naccount required pam_permit.so\n`,
  );
  return { name, remove: () => rmSync(path, { force: true }) };
}

/** pamtester's verdict on `code` for `user`; 'unknown user' when pam_oath found no line it reads for the login. */
export function pamLogin(service: string, user: string, code: string): 'accept' | 'reject' | 'unknown user' {
  const r = spawnSync(which('pamtester')!, [service, user, 'authenticate'], {
    input: `${code}\n`,
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.status === 0) return 'accept';
  if (/Authentication failure/.test(r.stderr)) return 'reject';
  if (/User not known/.test(r.stderr)) return 'unknown user';
  throw new Error(`pamtester failed otherwise (${r.status}): ${r.stderr}`);
}

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A radiusd.conf of the test's own: loopback only, one client, every request to PAM. */
function radiusConf(dir: string, port: number, pamService: string, secret: string): string {
  return `prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = ${dir}
sbindir = /usr/sbin
logdir = ${dir}
raddbdir = ${dir}
radacctdir = ${dir}
name = freeradius
confdir = ${dir}
modconfdir = ${dir}
run_dir = ${dir}
db_dir = ${dir}
libdir = /usr/lib/freeradius
dictdir = /usr/share/freeradius
pidfile = ${dir}/radiusd.pid
max_request_time = 30
cleanup_delay = 0
max_requests = 64
hostname_lookups = no
log {
  destination = stdout
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}
client loopback {
  ipaddr = 127.0.0.1
  secret = ${secret}
}
modules {
  pam {
    pam_auth = ${pamService}
  }
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = ${port}
  }
  authorize {
    update control {
      &Auth-Type := PAM
    }
  }
  authenticate {
    Auth-Type PAM {
      pam
    }
  }
}
`;
}

export interface Radius {
  port: number;
  secret: string;
  log(): string;
  stop(): Promise<void>;
}

/** Starts radiusd in the foreground (-X) on 127.0.0.1:<free port>; resolves once it is ready. */
export async function startRadius(dir: string, pamService: string): Promise<Radius> {
  mkdirSync(dir, { recursive: true });
  const port = await freeUdpPort();
  const secret = randomBytes(8).toString('hex');
  writeFileSync(join(dir, 'radiusd.conf'), radiusConf(dir, port, pamService, secret));
  writeFileSync(join(dir, 'dictionary'), '');
  const bin = which('freeradius') ?? which('radiusd')!;
  const proc: ChildProcess = spawn(bin, ['-X', '-d', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`radiusd was not ready within 20 s:\n${log.slice(-3000)}`)),
      20_000,
    );
    const check = () => {
      if (log.includes('Ready to process requests')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`radiusd exited (${c}) before it was ready:\n${log.slice(-3000)}`));
    });
  }).catch((e) => {
    proc.kill('SIGKILL');
    throw e;
  });
  return {
    port,
    secret,
    log: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** radtest's answer: 'accept', 'reject', or an Error with its output. */
export function radtest(r: Radius, user: string, code: string): 'accept' | 'reject' {
  const out = spawnSync(which('radtest')!, [user, code, `127.0.0.1:${r.port}`, '0', r.secret], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (/Received Access-Accept/.test(out.stdout)) return 'accept';
  if (/Received Access-Reject/.test(out.stdout)) return 'reject';
  throw new Error(
    `radtest got no answer (${out.status}): ${out.stdout}${out.stderr}\nradiusd:\n${r.log().slice(-3000)}`,
  );
}
