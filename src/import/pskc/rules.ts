/**
 * What a PSKC key must say for tokensmith to serve it, checked as python-pskc
 * reads it: the container Version, xs:boolean and xs:int values, the hash of
 * the Suite, and the Policy of RFC 6030 section 5 (a key the policy forbids
 * for OTPs, or a policy we do not understand, is refused with the reason).
 */
import { DataError } from '../../core/errors.js';
import { attr, childrenNamed, textOf, type XmlNode } from '../xml.js';

/** RFC 6030 containers are Version="1.0"; python-pskc also takes "1". */
export function checkVersion(root: { attrs: Record<string, string> }, where: string): void {
  const v = root.attrs.Version ?? root.attrs.version;
  if (v !== undefined && v !== '1.0' && v !== '1') {
    throw new DataError(`${where}: PSKC Version '${v}' is not supported (tokensmith reads version 1.0, RFC 6030)`, {
      code: 'unsupported-version',
      where,
    });
  }
}

/** An xs:boolean attribute (true/false/1/0, any case as python-pskc reads it), or undefined when absent. */
export function boolAttr(node: XmlNode | undefined, name: string): boolean | undefined {
  const v = attr(node, name);
  if (v === undefined || v === '') return undefined;
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw new DataError(`<${node!.name} ${name}="${v}">: '${v}' is not a boolean (true, false, 1 or 0)`, {
    code: 'bad-boolean',
  });
}

/** An xs:int attribute, or undefined when absent. */
export function intAttr(node: XmlNode | undefined, name: string): number | undefined {
  const v = attr(node, name);
  if (v === undefined || v === '') return undefined;
  return strictInt(v, `<${node!.name} ${name}="${v}">`);
}

/** An element whose text must be an integer (NumberOfTransactions ...), or undefined when absent. */
export function intText(node: XmlNode | undefined): number | undefined {
  const v = textOf(node);
  return v === undefined ? undefined : strictInt(v, `<${node!.name}>${v}</${node!.name}>`);
}

function strictInt(v: string, what: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new DataError(`${what}: '${v}' is not a whole number`, { code: 'bad-number' });
  return Number(v);
}

/** The hash an HOTP/TOTP Suite names; an unknown Suite (MD5, a misspelling) is refused with its value, never taken as SHA-1. */
export function hashOfSuite(suite: string | undefined): 'sha1' | 'sha256' | 'sha512' | undefined {
  if (!suite) return undefined;
  const m = /^(?:hmac[-_]?)?sha-?(1|224|256|384|512)$/i.exec(suite.trim());
  if (!m)
    throw new DataError(`Suite '${suite}' is not a hash tokensmith knows: use HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512`, {
      code: 'unsupported-algorithm',
    });
  const alg = `sha${m[1]}`;
  if (alg === 'sha224' || alg === 'sha384')
    throw new DataError(
      `Suite '${suite}': ${alg} tokens cannot be served (tokensmith serves sha1, sha256 and sha512)`,
      { code: 'unsupported-algorithm' },
    );
  return alg as 'sha1' | 'sha256' | 'sha512';
}

const POLICY_CHILDREN = new Set(['startdate', 'expirydate', 'numberoftransactions', 'keyusage', 'pinpolicy']);
const PIN_POLICY_ATTRIBUTES = new Set([
  'pinkeyid',
  'pinusagemode',
  'maxfailedattempts',
  'minlength',
  'maxlength',
  'pinencoding',
]);

/**
 * RFC 6030 section 5: a key whose policy we do not understand, or that may not be used for OTPs
 * now (KeyUsage without OTP, StartDate ahead, ExpiryDate past), must not go into stock.
 */
export function checkPolicy(
  policy: XmlNode | undefined,
  now: Date = new Date(),
  opts: { allowExpired?: boolean } = {},
): void {
  if (!policy) return;
  for (const c of policy.children) {
    if (!POLICY_CHILDREN.has(c.lower))
      throw policyError(
        `the key's Policy holds <${c.name}>, which tokensmith does not understand (RFC 6030 section 5: such a key must not be used)`,
      );
  }
  const pin = childrenNamed(policy, 'PINPolicy')[0];
  if (pin) {
    const unknown = Object.keys(pin.attrs).filter(
      (a) => !PIN_POLICY_ATTRIBUTES.has(a.toLowerCase()) && !a.includes(':') && a !== 'xmlns',
    );
    if (unknown.length > 0 || pin.children.length > 0)
      throw policyError(
        `the key's PINPolicy holds ${unknown.length ? `attribute ${unknown[0]}` : `<${pin.children[0]!.name}>`}, which tokensmith does not understand`,
      );
    for (const a of ['MaxFailedAttempts', 'MinLength', 'MaxLength']) intAttr(pin, a);
  }
  const transactions = intText(childrenNamed(policy, 'NumberOfTransactions')[0]);
  if (transactions !== undefined)
    throw policyError(
      `the key's Policy limits it to ${transactions} transactions (NumberOfTransactions), which tokensmith cannot enforce`,
    );
  const usage = childrenNamed(policy, 'KeyUsage').map((u) => textOf(u) ?? '');
  if (usage.length > 0 && !usage.includes('OTP'))
    throw policyError(
      `the key's Policy allows it only for ${usage.join(', ')}, not for one-time passwords (KeyUsage OTP)`,
    );
  const start = dateOf(childrenNamed(policy, 'StartDate')[0]);
  if (start && start.getTime() > now.getTime())
    throw policyError(`the key may be used only from ${start.toISOString()} (Policy StartDate): import it then`);
  const expiry = dateOf(childrenNamed(policy, 'ExpiryDate')[0]);
  if (expiry && expiry.getTime() < now.getTime() && !opts.allowExpired)
    throw policyError(
      `the key expired on ${expiry.toISOString()} (Policy ExpiryDate); to import it knowingly (the token may still work), give --allow-expired`,
    );
}

function dateOf(node: XmlNode | undefined): Date | undefined {
  const v = textOf(node);
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw policyError(`the key's Policy date '${v}' is not a date`);
  return d;
}

function policyError(message: string): DataError {
  return new DataError(message, { code: 'unusable-policy' });
}
