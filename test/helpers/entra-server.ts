/**
 * A local stand-in for Microsoft Entra ID's sign-in endpoints and the Microsoft Graph beta API that
 * `tokensmith entra` calls, written from Microsoft's published reference (docs/entra.md lists the pages):
 * hardwareOathDevices list (paged with @odata.nextLink), create one or many (`#$delta`), users by UPN or
 * mail, assign, activate, assignAndActivateBySerialNumber; client credentials (secret or certificate
 * assertion) and the device-code flow. It refuses what Entra refuses (HOTP has no field; a period other
 * than 30/60, a hash other than hmacsha1/hmacsha256, a secret that is not base32 or over 128 characters,
 * a serial that is already there), and checks an activation code by computing TOTP (6 digits) from the
 * uploaded secret, so a wrong code fails and marks the token failedActivation, as Entra does.
 * HTTPS on 127.0.0.1 with a throw-away self-signed certificate (msal refuses http authorities).
 */
import { createHmac, createPublicKey, randomUUID, verify, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeDevice {
  id: string;
  serialNumber: string;
  manufacturer: string;
  model: string;
  displayName: string | null;
  secretKey: string;
  timeIntervalInSeconds: number;
  hashFunction: 'hmacsha1' | 'hmacsha256';
  status: 'available' | 'assigned' | 'activated' | 'failedActivation';
  assignedTo: { id: string; displayName: string } | null;
}

export interface FakeUser {
  id: string;
  userPrincipalName: string;
  mail: string | null;
  displayName: string;
}

/** A forced answer for the n-th request that matches. */
export interface Injection {
  method: string;
  path: RegExp;
  /** Which matching request (1 = the next one). */
  nth?: number;
  status: number;
  retryAfter?: string;
  code?: string;
  /** Let the request do its work first, then answer with the error (the answer is lost, the change is not). */
  afterCommit?: boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  body: string;
}

function base32Decode(s: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of s.toUpperCase().replace(/=+$/, '')) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error('not base32');
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP, 6 digits, as Entra verifies it. */
export function totp6(secretB32: string, hash: 'hmacsha1' | 'hmacsha256', period: number, atMs: number): string {
  const step = Math.floor(atMs / 1000 / period);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac(hash === 'hmacsha256' ? 'sha256' : 'sha1', base32Decode(secretB32))
    .update(msg)
    .digest();
  const o = mac[mac.length - 1]! & 0x0f;
  const n = (mac.readUInt32BE(o) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

/** A self-signed certificate for 127.0.0.1 (a CA for itself: NODE_EXTRA_CA_CERTS trusts it). */
export function makeTestCertificate(): { certFile: string; keyFile: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-entra-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

export class FakeEntra {
  readonly devices = new Map<string, FakeDevice>();
  readonly users: FakeUser[] = [];
  readonly log: LoggedRequest[] = [];
  readonly injections: Injection[] = [];
  /** Items per page of the device list. */
  pageSize = 100;
  clientSecret = '';
  /** The app's certificate (PEM) for client assertions. */
  clientCertificate: string | null = null;
  private readonly accessTokens = new Set<string>();
  private readonly deviceCodes = new Map<string, number>();
  private server: Server | null = null;
  private readonly tls = makeTestCertificate();
  url = '';

  constructor(
    readonly tenant = 'contoso.example',
    readonly clientId = '11111111-2222-3333-4444-555555555555',
  ) {}

  get certFile(): string {
    return this.tls.certFile;
  }

  get graphUrl(): string {
    return `${this.url}/beta`;
  }

  addUser(upn: string, mail: string | null = null, displayName = upn): FakeUser {
    const u = { id: randomUUID(), userPrincipalName: upn, mail, displayName };
    this.users.push(u);
    return u;
  }

  bySerial(serial: string): FakeDevice | undefined {
    return [...this.devices.values()].find((d) => d.serialNumber === serial);
  }

  async start(): Promise<void> {
    this.server = createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const addr = this.server.address() as { port: number };
    this.url = `https://127.0.0.1:${addr.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const send = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
      this.log.push({ method, path, status, body });
      res.writeHead(status, { ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...headers });
      res.end(json === undefined ? undefined : JSON.stringify(json));
    };
    try {
      const inj = this.injectionFor(method, path);
      if (inj && !inj.afterCommit) return sendInjected(send, inj);
      const out = path.startsWith('/beta/')
        ? this.graph(method, path.slice(5), body, req)
        : this.login(method, path.split('?')[0]!, body);
      if (inj) return sendInjected(send, inj);
      send(out.status, out.json, out.headers);
    } catch (err) {
      send(500, { error: { code: 'generalException', message: (err as Error).message } });
    }
  }

  private injectionFor(method: string, path: string): Injection | undefined {
    const i = this.injections.findIndex((x) => x.method === method && x.path.test(path));
    if (i < 0) return undefined;
    const inj = this.injections[i]!;
    if ((inj.nth ?? 1) > 1) {
      inj.nth = (inj.nth ?? 1) - 1;
      return undefined;
    }
    this.injections.splice(i, 1);
    return inj;
  }

  // ---- sign-in (login.microsoftonline.com) ----

  private login(method: string, path: string, body: string): Reply {
    const p = new URLSearchParams(body);
    if (method === 'POST' && path === `/${this.tenant}/oauth2/v2.0/devicecode`) {
      const code = randomUUID();
      this.deviceCodes.set(code, 0);
      return ok(200, {
        device_code: code,
        user_code: 'ABCD-EFGH',
        verification_uri: 'https://microsoft.com/devicelogin',
        expires_in: 900,
        interval: 1,
        message: 'To sign in, open https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate.',
      });
    }
    if (method !== 'POST' || path !== `/${this.tenant}/oauth2/v2.0/token`)
      return graphError(404, 'notFound', `no ${method} ${path}`);
    if (p.get('client_id') !== this.clientId)
      return tokenError('unauthorized_client', 'AADSTS700016: application not found');
    const grant = p.get('grant_type');
    if (grant === 'client_credentials') return this.clientCredentials(p);
    // RFC 8628's grant type, and the short form msal sends (Entra takes both).
    if (grant === 'urn:ietf:params:oauth:grant-type:device_code' || grant === 'device_code')
      return this.deviceCodeGrant(p);
    if (grant === 'refresh_token') return this.userTokens();
    return tokenError('unsupported_grant_type', `AADSTS70003: ${grant}`);
  }

  private clientCredentials(p: URLSearchParams): Reply {
    const assertion = p.get('client_assertion');
    if (assertion) {
      if (!this.clientCertificate || !this.assertionValid(assertion))
        return tokenError('invalid_client', 'AADSTS700027: the client assertion signature is not valid');
    } else if (!this.clientSecret || p.get('client_secret') !== this.clientSecret) {
      return tokenError('invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    }
    return ok(200, {
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: this.newAccessToken(),
    });
  }

  private assertionValid(jwt: string): boolean {
    const [h, pl, sig] = jwt.split('.');
    if (!h || !pl || !sig) return false;
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string };
    const key = createPublicKey(
      new X509Certificate(this.clientCertificate!).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const alg = header.alg === 'PS256' ? { key, padding: 6, saltLength: 32 } : key;
    return verify('sha256', Buffer.from(`${h}.${pl}`), alg as never, Buffer.from(sig, 'base64url'));
  }

  private deviceCodeGrant(p: URLSearchParams): Reply {
    const code = p.get('device_code') ?? '';
    const polls = this.deviceCodes.get(code);
    if (polls === undefined) return tokenError('expired_token', 'AADSTS70019: the code expired');
    this.deviceCodes.set(code, polls + 1);
    // The admin "signs in" between the first and the second poll.
    if (polls === 0) return tokenError('authorization_pending', 'AADSTS70016: pending');
    this.deviceCodes.delete(code);
    return this.userTokens();
  }

  private userTokens(): Reply {
    const now = Math.floor(Date.now() / 1000);
    const oid = '99999999-8888-7777-6666-555555555555';
    const claims = {
      aud: this.clientId,
      iss: `${this.url}/${this.tenant}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      oid,
      sub: oid,
      tid: this.tenant,
      preferred_username: 'admin@contoso.example',
      name: 'Admin',
    };
    return ok(200, {
      token_type: 'Bearer',
      scope:
        'https://graph.microsoft.com/Policy.ReadWrite.AuthenticationMethod https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All https://graph.microsoft.com/User.Read.All',
      expires_in: 3599,
      access_token: this.newAccessToken(),
      refresh_token: `rt-${randomUUID()}`,
      id_token: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`,
      client_info: b64url({ uid: oid, utid: this.tenant }),
    });
  }

  private newAccessToken(): string {
    const t = `at-${randomUUID()}`;
    this.accessTokens.add(t);
    return t;
  }

  // ---- Graph beta ----

  private graph(method: string, path: string, body: string, req: IncomingMessage): Reply {
    const auth = req.headers.authorization ?? '';
    if (!this.accessTokens.has(auth.replace(/^Bearer /, '')))
      return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty or invalid.');
    const [route, query] = path.split('?') as [string, string | undefined];
    const q = new URLSearchParams(query ?? '');
    const json = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    if (route === '/directory/authenticationMethodDevices/hardwareOathDevices') {
      if (method === 'GET') return this.listPage(q);
      if (method === 'POST' || method === 'PATCH') return this.create(json);
    }
    const user = /^\/users\/([^/]+)$/.exec(route);
    if (user && method === 'GET') return this.getUser(decodeURIComponent(user[1]!));
    if (route === '/users' && method === 'GET') return this.findUsers(q.get('$filter') ?? '');
    const m = /^\/users\/([^/]+)\/authentication\/hardwareOathMethods(?:\/([^/]+))?(?:\/(activate))?$/.exec(route);
    if (m && method === 'POST')
      return this.methods(decodeURIComponent(m[1]!), m[2] ? decodeURIComponent(m[2]) : undefined, m[3], json);
    return graphError(400, 'BadRequest', `Resource not found for the segment '${route}'.`);
  }

  private listPage(q: URLSearchParams): Reply {
    const all = [...this.devices.values()];
    const skip = Number(q.get('$skiptoken') ?? '0');
    const page = all.slice(skip, skip + this.pageSize).map(view);
    const next =
      skip + this.pageSize < all.length
        ? `${this.graphUrl}/directory/authenticationMethodDevices/hardwareOathDevices?$skiptoken=${skip + this.pageSize}`
        : undefined;
    return ok(200, {
      '@odata.context': `${this.graphUrl}/$metadata#directory/authenticationMethodDevices/hardwareOathDevices`,
      value: page,
      ...(next ? { '@odata.nextLink': next } : {}),
    });
  }

  private create(json: Record<string, unknown>): Reply {
    const many = json['@context'] === '#$delta';
    const items = (many ? (json.value as Record<string, unknown>[]) : [json]) ?? [];
    const seen = new Set<string>();
    for (const it of items) {
      const bad = invalidDevice(it);
      if (bad) return graphError(400, 'badRequest', bad);
      const serial = String(it.serialNumber);
      if (seen.has(serial) || this.bySerial(serial))
        return graphError(409, 'conflict', `A hardware OATH token with serial number ${serial} already exists.`);
      seen.add(serial);
    }
    const made = items.map((it) => this.addDevice(it));
    if (!many) return ok(201, view(made[0]!));
    return ok(201, {
      value: made.map((d) => ({
        '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethod',
        id: d.id,
        device: view(d),
      })),
    });
  }

  private addDevice(it: Record<string, unknown>): FakeDevice {
    const assignTo = it.assignTo as { id?: string } | undefined;
    const user = assignTo?.id ? this.users.find((u) => u.id === assignTo.id) : undefined;
    const d: FakeDevice = {
      id: randomUUID(),
      serialNumber: String(it.serialNumber),
      manufacturer: String(it.manufacturer),
      model: String(it.model),
      displayName: (it.displayName as string | undefined) ?? null,
      secretKey: String(it.secretKey),
      timeIntervalInSeconds: Number(it.timeIntervalInSeconds),
      hashFunction: (it.hashFunction as FakeDevice['hashFunction'] | undefined) ?? 'hmacsha1',
      status: user ? 'assigned' : 'available',
      assignedTo: user ? { id: user.id, displayName: user.displayName } : null,
    };
    this.devices.set(d.id, d);
    return d;
  }

  private findUser(ref: string): FakeUser | undefined {
    return this.users.find((u) => u.id === ref || u.userPrincipalName.toLowerCase() === ref.toLowerCase());
  }

  private getUser(ref: string): Reply {
    const u = this.findUser(ref);
    return u
      ? ok(200, u)
      : graphError(
          404,
          'Request_ResourceNotFound',
          `Resource '${ref}' does not exist or one of its queried reference-property objects are not present.`,
        );
  }

  private findUsers(filter: string): Reply {
    const m = /^mail eq '(.*)'$/.exec(filter);
    if (!m) return graphError(400, 'BadRequest', 'Unsupported filter');
    const mail = m[1]!.replace(/''/g, "'").toLowerCase();
    return ok(200, { value: this.users.filter((u) => u.mail?.toLowerCase() === mail) });
  }

  private methods(
    userRef: string,
    methodId: string | undefined,
    action: string | undefined,
    json: Record<string, unknown>,
  ): Reply {
    const user = this.findUser(userRef);
    if (!user) return graphError(404, 'Request_ResourceNotFound', `Resource '${userRef}' does not exist.`);
    if (!methodId) {
      const d = this.devices.get(String((json.device as { id?: string } | undefined)?.id));
      if (!d) return graphError(404, 'Request_ResourceNotFound', 'The hardware OATH token does not exist.');
      if (d.status !== 'available')
        return graphError(400, 'badRequest', 'The hardware OATH token is already assigned.');
      d.status = 'assigned';
      d.assignedTo = { id: user.id, displayName: user.displayName };
      return ok(201, { '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethod', id: d.id });
    }
    if (methodId === 'assignAndActivateBySerialNumber') {
      const d = this.bySerial(String(json.serialNumber));
      if (!d) return graphError(404, 'Request_ResourceNotFound', 'No hardware OATH token has this serial number.');
      if (d.status !== 'available')
        return graphError(400, 'badRequest', 'The hardware OATH token is already assigned.');
      d.assignedTo = { id: user.id, displayName: user.displayName };
      return this.activate(d, json);
    }
    const d = this.devices.get(methodId);
    if (!d || d.assignedTo?.id !== user.id || action !== 'activate')
      return graphError(404, 'Request_ResourceNotFound', 'No such method for this user.');
    return this.activate(d, json);
  }

  /** Checks the code against TOTP from the uploaded secret at this server's time (this step or the one before). */
  private activate(d: FakeDevice, json: Record<string, unknown>): Reply {
    const code = String(json.verificationCode ?? '');
    const now = Date.now();
    const good = [0, -1].some(
      (k) =>
        totp6(d.secretKey, d.hashFunction, d.timeIntervalInSeconds, now + k * d.timeIntervalInSeconds * 1000) === code,
    );
    if (!good) {
      d.status = 'failedActivation';
      return graphError(400, 'invalidVerificationCode', 'The verification code is not valid.');
    }
    d.status = 'activated';
    if (json.displayName) d.displayName = String(json.displayName);
    return { status: 204 };
  }
}

interface Reply {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

const ok = (status: number, json: unknown): Reply => ({ status, json });

function graphError(status: number, code: string, message: string): Reply {
  return {
    status,
    json: { error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': randomUUID() } } },
  };
}

function tokenError(error: string, description: string): Reply {
  return {
    status: 400,
    json: { error, error_description: description, error_codes: [1], timestamp: new Date().toISOString() },
  };
}

function sendInjected(send: (s: number, j?: unknown, h?: Record<string, string>) => void, inj: Injection): void {
  const headers: Record<string, string> = inj.retryAfter ? { 'retry-after': inj.retryAfter } : {};
  const code =
    inj.code ??
    (inj.status === 429 ? 'TooManyRequests' : inj.status === 503 ? 'serviceNotAvailable' : 'generalException');
  send(inj.status, { error: { code, message: `forced ${inj.status} by the test` } }, headers);
}

/** What Entra refuses in a create (the reference's required properties and their possible values). */
function invalidDevice(it: Record<string, unknown>): string | null {
  for (const f of ['serialNumber', 'manufacturer', 'model', 'secretKey', 'timeIntervalInSeconds'])
    if (it[f] === undefined || it[f] === null || it[f] === '') return `${f} is required.`;
  const period = Number(it.timeIntervalInSeconds);
  if (period !== 30 && period !== 60) return 'timeIntervalInSeconds must be 30 or 60.';
  const hash = it.hashFunction ?? 'hmacsha1';
  if (hash !== 'hmacsha1' && hash !== 'hmacsha256') return `hashFunction '${String(hash)}' is not supported.`;
  const key = String(it.secretKey);
  if (!/^[A-Za-z2-7]+=*$/.test(key) || key.length > 128) return 'secretKey must be base32, at most 128 characters.';
  return null;
}

function view(d: FakeDevice): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.hardwareOathTokenAuthenticationMethodDevice',
    id: d.id,
    displayName: d.displayName,
    serialNumber: d.serialNumber,
    manufacturer: d.manufacturer,
    model: d.model,
    secretKey: null,
    timeIntervalInSeconds: d.timeIntervalInSeconds,
    status: d.status,
    lastUsedDateTime: null,
    hashFunction: d.hashFunction,
    assignedTo: d.assignedTo,
  };
}
