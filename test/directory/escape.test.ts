import { describe, expect, it } from 'vitest';
import { escapeDnValue, escapeFilterValue, normaliseDn } from '../../src/directory/escape.js';

describe('RFC 4515 filter values', () => {
  it('escapes * ( ) \\ and NUL, and nothing else', () => {
    expect(escapeFilterValue('*')).toBe('\\2a');
    expect(escapeFilterValue('admin)(|(uid=*')).toBe('admin\\29\\28|\\28uid=\\2a');
    expect(escapeFilterValue('\\00')).toBe('\\5c00');
    expect(escapeFilterValue('a\u0000b')).toBe('a\\00b');
    expect(escapeFilterValue('jörg.o-brien@x')).toBe('jörg.o-brien@x');
  });
});

describe('RFC 4514 DN values', () => {
  it('escapes the special characters, a leading # or space and a trailing space', () => {
    expect(escapeDnValue('Smith, John')).toBe('Smith\\, John');
    expect(escapeDnValue('a+b="c"<d>;e\\')).toBe('a\\+b\\=\\"c\\"\\<d\\>\\;e\\\\');
    expect(escapeDnValue('#1 ')).toBe('\\#1\\ ');
    expect(escapeDnValue(' x')).toBe('\\ x');
    expect(escapeDnValue('nul\u0000')).toBe('nul\\00');
  });
  it('compares DNs without case and spaces around separators', () => {
    expect(normaliseDn('CN=VPN, OU=Groups,dc=Example ,DC=org')).toBe('cn=vpn,ou=groups,dc=example,dc=org');
  });
});
