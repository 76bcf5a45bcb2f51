/**
 * A directory's settings, and the presets that fill them for OpenLDAP and
 * Active Directory: the attribute names, the filter of person entries, how a
 * disabled account looks and how group members are found.
 */
import { UsageError } from '../core/errors.js';

export const PRESETS = ['openldap', 'ad'] as const;
export type Preset = (typeof PRESETS)[number];

/** How a disabled account looks: AD's ACCOUNTDISABLE bit, OpenLDAP ppolicy's lock, any attribute set, or never. */
export type DisabledRule = 'ad-uac' | 'ppolicy' | `attr:${string}` | 'none';
/** How a group's members are found: AD's in-chain rule (nested groups), the memberOf overlay, or the group entry's member/memberUid. */
export const GROUP_MODES = ['in-chain', 'memberof', 'group-entry'] as const;
export type GroupMode = (typeof GROUP_MODES)[number];

export interface DirectoryConfig {
  preset: Preset;
  url: string;
  starttls: boolean;
  caFile: string | null;
  bindDn: string;
  baseDn: string;
  userFilter: string;
  loginAttr: string;
  emailAttr: string;
  phoneAttr: string;
  nameAttr: string;
  disabled: DisabledRule;
  groups: GroupMode;
  /** Each LDAP operation's limit; a sync that runs past it changes nothing. */
  timeoutMs: number;
  pageSize: number;
}

const PRESET_FIELDS: Record<
  Preset,
  Omit<DirectoryConfig, 'url' | 'starttls' | 'caFile' | 'bindDn' | 'baseDn' | 'preset' | 'timeoutMs' | 'pageSize'>
> = {
  openldap: {
    userFilter: '(objectClass=inetOrgPerson)',
    loginAttr: 'uid',
    emailAttr: 'mail',
    phoneAttr: 'telephoneNumber',
    nameAttr: 'displayName',
    disabled: 'ppolicy',
    groups: 'group-entry',
  },
  ad: {
    userFilter: '(&(objectCategory=person)(objectClass=user))',
    loginAttr: 'sAMAccountName',
    emailAttr: 'mail',
    phoneAttr: 'telephoneNumber',
    nameAttr: 'displayName',
    disabled: 'ad-uac',
    groups: 'in-chain',
  },
};

export interface DirectoryOptions {
  preset?: string;
  url: string;
  starttls?: boolean;
  caFile?: string;
  bindDn: string;
  baseDn: string;
  userFilter?: string;
  loginAttr?: string;
  emailAttr?: string;
  phoneAttr?: string;
  nameAttr?: string;
  disabledAttr?: string;
  groups?: string;
  timeoutMs?: number;
  pageSize?: number;
}

const ATTR = /^[A-Za-z][A-Za-z0-9-]*$/;

/** The settings from the command's options: the preset first, each option over it; checked. */
export function directoryConfig(o: DirectoryOptions): DirectoryConfig {
  const preset = (o.preset ?? 'openldap') as Preset;
  if (!PRESETS.includes(preset))
    throw new UsageError(`--preset must be one of ${PRESETS.join(', ')}, got '${o.preset}'`);
  if (!/^ldaps?:\/\/[^/\s]+\/?$/i.test(o.url))
    throw new UsageError(`--url must be ldap://host[:port] or ldaps://host[:port], got '${o.url}'`);
  if (o.starttls && /^ldaps:/i.test(o.url))
    throw new UsageError('--starttls is for ldap:// URLs; ldaps:// is TLS already');
  const base = PRESET_FIELDS[preset];
  const c: DirectoryConfig = {
    preset: preset,
    url: o.url.replace(/\/$/, ''),
    starttls: Boolean(o.starttls),
    caFile: o.caFile ?? null,
    bindDn: o.bindDn,
    baseDn: o.baseDn,
    userFilter: o.userFilter ?? base.userFilter,
    loginAttr: o.loginAttr ?? base.loginAttr,
    emailAttr: o.emailAttr ?? base.emailAttr,
    phoneAttr: o.phoneAttr ?? base.phoneAttr,
    nameAttr: o.nameAttr ?? base.nameAttr,
    disabled: o.disabledAttr ? `attr:${o.disabledAttr}` : base.disabled,
    groups: (o.groups ?? base.groups) as GroupMode,
    timeoutMs: o.timeoutMs ?? 30_000,
    pageSize: o.pageSize ?? 500,
  };
  for (const [flag, v] of [
    ['--login-attr', c.loginAttr],
    ['--email-attr', c.emailAttr],
    ['--phone-attr', c.phoneAttr],
    ['--name-attr', c.nameAttr],
  ] as const)
    if (!ATTR.test(v)) throw new UsageError(`${flag} must be an attribute name, got '${v}'`);
  if (o.disabledAttr && !ATTR.test(o.disabledAttr))
    throw new UsageError(`--disabled-attr must be an attribute name, got '${o.disabledAttr}'`);
  if (!GROUP_MODES.includes(c.groups))
    throw new UsageError(`--groups must be one of ${GROUP_MODES.join(', ')}, got '${o.groups}'`);
  if (!/^\(.*\)$/s.test(c.userFilter))
    throw new UsageError(`--user-filter must be an LDAP filter in parentheses, got '${c.userFilter}'`);
  return c;
}

/** The stored settings back as a DirectoryConfig (they were checked when added). */
export function configOf(stored: Record<string, unknown>): DirectoryConfig {
  return stored as unknown as DirectoryConfig;
}
