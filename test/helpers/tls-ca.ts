/**
 * Throw-away certificate authorities for TLS tests, made with openssl: a CA and
 * a server certificate it signs for 127.0.0.1 (IP and DNS SANs).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A CA named `name` in `dir` and a server certificate for `host` (an IP address) signed by it. */
export function makeCa(dir: string, name: string, host = '127.0.0.1'): TestCa {
  const f = (x: string) => join(dir, `${name}-${x}`);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ossl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name} test CA`,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  );
  ossl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${host}`,
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
  );
  writeFileSync(f('ext.cnf'), `subjectAltName=IP:${host},DNS:localhost\nextendedKeyUsage=serverAuth\n`);
  ossl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('server.pem'),
  );
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key') };
}
