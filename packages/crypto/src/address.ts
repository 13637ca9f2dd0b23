/** A device of a user: sessions are per address (user id + device id), Signal-style. */
import { CryptoError } from './errors.js';

export interface ProtocolAddress {
  /** Stable user id assigned by the server. */
  userId: string;
  /** Device id, unique per user (u32). */
  deviceId: number;
}

/** A canonical string key for maps and stores: `<deviceId>.<userId>`. */
export function addressKey(a: ProtocolAddress): string {
  if (!Number.isInteger(a.deviceId) || a.deviceId < 0 || a.deviceId > 0xffffffff) {
    throw new CryptoError('invalid_parameters', 'deviceId must be a u32');
  }
  return `${a.deviceId}.${a.userId}`;
}

/** Inverse of {@link addressKey}. */
export function parseAddressKey(key: string): ProtocolAddress {
  const dot = key.indexOf('.');
  const deviceId = Number(key.slice(0, dot));
  if (dot <= 0 || !Number.isInteger(deviceId)) throw new CryptoError('invalid_parameters', 'bad address key');
  return { userId: key.slice(dot + 1), deviceId };
}

export function sameAddress(a: ProtocolAddress, b: ProtocolAddress): boolean {
  return a.userId === b.userId && a.deviceId === b.deviceId;
}
