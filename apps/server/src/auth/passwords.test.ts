import { argon2id } from '@noble/hashes/argon2.js';
import { describe, expect, it } from 'vitest';
import { assertAcceptablePassword, hashPassword, verifyAgainstDummy, verifyPassword } from './passwords.js';

describe('password hashing', () => {
  it('stores Argon2id m=65536 t=3 p=4 as a PHC string that an independent implementation verifies', async () => {
    const phc = await hashPassword('correct horse battery');
    const match = /^\$argon2id\$v=19\$m=65536,t=3,p=4\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
    expect(match).not.toBeNull();
    const salt = Buffer.from(match![1]!, 'base64');
    const expected = Buffer.from(match![2]!, 'base64');
    // @noble/hashes is a separate, pure-JS Argon2 implementation.
    const recomputed = argon2id('correct horse battery', salt, {
      m: 65536,
      t: 3,
      p: 4,
      dkLen: expected.length,
      version: 0x13,
    });
    expect(Buffer.from(recomputed).equals(expected)).toBe(true);
  });

  it('verifies the right password only, and never throws on a malformed hash', async () => {
    const phc = await hashPassword('correct horse battery');
    expect(await verifyPassword(phc, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(phc, 'correct horse batterY')).toBe(false);
    expect(await verifyPassword('not a hash', 'x')).toBe(false);
    expect(await verifyAgainstDummy('anything')).toBe(false);
  });

  it('refuses common passwords and the username as password', () => {
    expect(() => assertAcceptablePassword('password1', 'alice')).toThrow(/most common/);
    expect(() => assertAcceptablePassword('Granite-Harbor-77', 'alice')).not.toThrow();
    expect(() => assertAcceptablePassword('qwertyuiop', 'alice')).toThrow(/most common/);
    expect(() => assertAcceptablePassword('Alice.Smith', 'alice.smith')).toThrow(/username/);
    expect(() => assertAcceptablePassword('a long and unusual phrase', 'alice')).not.toThrow();
  });
});
