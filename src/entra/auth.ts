/**
 * Access tokens for Microsoft Graph through @azure/msal-node: client credentials (a secret or a
 * certificate) for an app, or the device-code flow for an admin at a workstation (its token cache,
 * refresh token included, is what the store keeps sealed). A non-default authority URL is trusted
 * through knownAuthorities and given its metadata, so msal makes no instance-discovery call (tests
 * point it at a local HTTPS server; msal refuses plain http authorities).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { ConfidentialClientApplication, PublicClientApplication, type Configuration } from '@azure/msal-node';
import { DataError, UsageError } from '../core/errors.js';
import type { EntraConnection } from '../store/entra-types.js';

export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com/beta';
export const DEFAULT_AUTHORITY_URL = 'https://login.microsoftonline.com';
/** App-only: the permissions granted to the app registration. */
const APP_SCOPES = ['https://graph.microsoft.com/.default'];
/** Delegated (device code): what push and status need, and a refresh token. */
export const DELEGATED_SCOPES = [
  'https://graph.microsoft.com/Policy.ReadWrite.AuthenticationMethod',
  'https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All',
  'https://graph.microsoft.com/User.Read.All',
  'offline_access',
];

type Conn = Pick<EntraConnection, 'tenant' | 'clientId' | 'authorityUrl'>;

/** msal's auth options for the tenant at this authority; a local authority gets its endpoints spelled out. */
function authOptions(c: Conn): Configuration['auth'] {
  const base = c.authorityUrl.replace(/\/$/, '');
  if (!/^https:\/\//i.test(base)) throw new UsageError('--authority-url must be an https:// URL (msal refuses others)');
  const authority = `${base}/${c.tenant}`;
  if (base.toLowerCase() === DEFAULT_AUTHORITY_URL) return { clientId: c.clientId, authority };
  const host = new URL(base).host;
  const metadata = {
    token_endpoint: `${authority}/oauth2/v2.0/token`,
    device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
    authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
    issuer: `${authority}/v2.0`,
    jwks_uri: `${authority}/discovery/v2.0/keys`,
  };
  const discovery = {
    tenant_discovery_endpoint: `${authority}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
  return {
    clientId: c.clientId,
    authority,
    knownAuthorities: [host],
    authorityMetadata: JSON.stringify(metadata),
    cloudDiscoveryMetadata: JSON.stringify(discovery),
  };
}

/** The private key and SHA-256 thumbprint from a PEM file that holds both the certificate and its key. */
export function certificateCredential(pem: string): { privateKey: string; thumbprintSha256: string } {
  const key = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(pem)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!key || !cert)
    throw new UsageError('--certificate: the PEM file must hold the certificate and its private key (unencrypted)');
  const der = new X509Certificate(cert).raw;
  return { privateKey: key, thumbprintSha256: createHash('sha256').update(der).digest('hex') };
}

/** Turns msal's failure into a DataError with its code and description (never the credential). */
function authFailed(err: unknown): DataError {
  const e = err as { errorCode?: unknown; errorMessage?: unknown; message?: string };
  const code = typeof e.errorCode === 'string' ? e.errorCode : 'error';
  const message = typeof e.errorMessage === 'string' && e.errorMessage ? e.errorMessage : (e.message ?? '');
  return new DataError(`sign-in to Entra failed: ${code}: ${message.split('\n')[0]!.slice(0, 300)}`, {
    code: 'entra-auth',
  });
}

/** A token for the app itself (client secret or certificate). */
export async function appToken(c: Conn, auth: 'secret' | 'certificate', credential: string): Promise<string> {
  const base = authOptions(c);
  const app = new ConfidentialClientApplication({
    auth:
      auth === 'secret'
        ? { ...base, clientSecret: credential }
        : { ...base, clientCertificate: certificateCredential(credential) },
  });
  try {
    const r = await app.acquireTokenByClientCredential({ scopes: APP_SCOPES });
    if (!r?.accessToken) throw new DataError('sign-in to Entra gave no access token', { code: 'entra-auth' });
    return r.accessToken;
  } catch (err) {
    throw err instanceof DataError ? err : authFailed(err);
  }
}

/** The device-code flow: shows the code to the person, waits for them; returns the token cache to keep. */
export async function deviceCodeSignIn(c: Conn, show: (message: string) => void): Promise<string> {
  const app = new PublicClientApplication({ auth: authOptions(c) });
  try {
    await app.acquireTokenByDeviceCode({
      scopes: DELEGATED_SCOPES,
      deviceCodeCallback: (r) => show(r.message),
    });
  } catch (err) {
    throw authFailed(err);
  }
  return app.getTokenCache().serialize();
}

/** A delegated token from the kept cache (refreshing it); the cache after, to keep again. */
export async function cachedUserToken(c: Conn, cache: string): Promise<{ token: string; cache: string }> {
  const app = new PublicClientApplication({ auth: authOptions(c) });
  app.getTokenCache().deserialize(cache);
  const [account] = await app.getTokenCache().getAllAccounts();
  if (!account)
    throw new DataError('the kept Entra sign-in has no account: run `tokensmith entra connect --device-code` again', {
      code: 'entra-auth',
    });
  try {
    const r = await app.acquireTokenSilent({ account, scopes: DELEGATED_SCOPES });
    return { token: r.accessToken, cache: app.getTokenCache().serialize() };
  } catch (err) {
    throw authFailed(err);
  }
}
