import { describe, expect, it } from 'vitest';
import { hashPassword, isPasswordHash, verifyPassword } from '../../src/core/password.js';

describe('password hashing (scrypt)', () => {
  it('writes a PHC-like string with a random salt and verifies only the right password', async () => {
    const h1 = await hashPassword('correct horse', { ln: 10 });
    const h2 = await hashPassword('correct horse', { ln: 10 });
    expect(h1).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(h1).not.toBe(h2);
    expect(h1).not.toContain('correct');
    expect(await verifyPassword('correct horse', h1)).toBe(true);
    expect(await verifyPassword('correct horsf', h1)).toBe(false);
    expect(await verifyPassword('', h1)).toBe(false);
    expect(isPasswordHash(h1)).toBe(true);
  });

  it('uses ln=15 by default and verifies it', async () => {
    const h = await hashPassword('pässwörd');
    expect(h.startsWith('$scrypt$ln=15,r=8,p=1$')).toBe(true);
    // NFC and NFD spellings of the same password are the same password.
    expect(await verifyPassword('pa\u0308sswo\u0308rd', h)).toBe(true);
  });

  it('refuses an empty password and a hash it did not write', async () => {
    await expect(hashPassword('')).rejects.toThrow(/empty/);
    await expect(verifyPassword('x', 'plaintext')).rejects.toThrow(/\$scrypt\$/);
    expect(isPasswordHash('$scrypt$ln=99,r=8,p=1$AA==$AA==')).toBe(false);
  });
});
