/**
 * A pairwise session record: the current session with one device plus a few archived ones
 * (kept to decrypt messages still in flight after a reset or a simultaneous initiation).
 */
import { compareBytes, equalBytes } from './bytes.js';
import type { RatchetState } from './double-ratchet.js';
import { deserializeState, serializeState } from './serialize.js';

/** Archived sessions kept per address. */
export const MAX_ARCHIVED_SESSIONS = 5;
const RECORD_VERSION = 1;

/** Sent in every message until the initiator hears back, so the responder can run X3DH. */
export interface PendingPreKey {
  signedPreKeyId: number;
  oneTimePreKeyId: number | undefined;
}

export interface SessionState {
  /** The X3DH base key (initiator's ephemeral public key): the session's id. */
  baseKey: Uint8Array;
  /** Whether we ran X3DH as the initiator. */
  initiator: boolean;
  /** Whether this session was started by an explicit reset (wins over the current session). */
  reset: boolean;
  theirIdentity: Uint8Array;
  ratchet: RatchetState;
  /** Present while we initiated and have not yet received a message in this session. */
  pending: PendingPreKey | undefined;
  createdAt: number;
}

export interface SessionRecord {
  current: SessionState | undefined;
  archived: SessionState[];
}

export function emptyRecord(): SessionRecord {
  return { current: undefined, archived: [] };
}

export function serializeRecord(r: SessionRecord): Uint8Array {
  return serializeState(RECORD_VERSION, r);
}

export function deserializeRecord(b: Uint8Array): SessionRecord {
  const r = deserializeState<SessionRecord>(RECORD_VERSION, b);
  // JSON drops `undefined`; normalise.
  return { current: r.current ?? undefined, archived: r.archived ?? [] };
}

/** Moves `current` to the archive and makes `next` current. */
export function promote(r: SessionRecord, next: SessionState): SessionRecord {
  const archived = r.current ? [r.current, ...r.archived] : [...r.archived];
  return {
    current: next,
    archived: archived.filter((s) => !equalBytes(s.baseKey, next.baseKey)).slice(0, MAX_ARCHIVED_SESSIONS),
  };
}

/** Adds `s` to the archive (newest first), keeping `current`. */
export function archive(r: SessionRecord, s: SessionState): SessionRecord {
  return { current: r.current, archived: [s, ...r.archived].slice(0, MAX_ARCHIVED_SESSIONS) };
}

/**
 * Installs a session created from an incoming prekey message. Rules, identical on both
 * sides so that simultaneous initiation converges:
 * - no current session, or the current one belongs to another (since replaced) identity
 *   key: the new one becomes current;
 * - the new one is an explicit reset and ours is not a pending reset: the new one wins;
 * - otherwise (concurrent initiations): the session with the lexicographically lower base
 *   key wins; the other is archived and still decrypts messages already in flight.
 */
export function installIncoming(r: SessionRecord, incoming: SessionState): SessionRecord {
  const cur = r.current;
  if (!cur || !equalBytes(cur.theirIdentity, incoming.theirIdentity)) return promote(r, incoming);
  const ourPendingReset = cur.reset && cur.pending !== undefined;
  if (incoming.reset && !ourPendingReset) return promote(r, incoming);
  return compareBytes(incoming.baseKey, cur.baseKey) < 0 ? promote(r, incoming) : archive(r, incoming);
}

/** All sessions, current first. */
export function allSessions(r: SessionRecord): SessionState[] {
  return r.current ? [r.current, ...r.archived] : [...r.archived];
}
