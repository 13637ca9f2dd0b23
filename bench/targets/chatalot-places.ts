// Places on a Chatalot server, made over REST as people would: the owner creates a community
// with a public group (whose #general is the room) and an invite; members join with the invite;
// 1:1 DMs are opened by one of the two. Every call comes from its own made-up client address, so
// the per-IP rate limits see many clients, each within its allowance.
import { pool } from '../lib/stats.js';
import { fakeIp, Rest } from '../lib/rest.js';
import type { Account, Room } from './target.js';

const CONCURRENCY = 8;
/** 1:1 DMs share a place (the server lets you DM whom you share a community with): this many pairs per place. */
const PAIRS_PER_PLACE = 10;

export interface Place {
  /** The #general channel of the place's public group. */
  channelId: string;
  inviteCode: string;
}

export class Places {
  private next = 0;
  private nextClient = 100_000;

  /** `rests[i]`: REST to server process i (accounts say which process is theirs). */
  constructor(
    private readonly rests: Rest[],
    private readonly ownerToken: string,
  ) {}

  private from(): string {
    return fakeIp(this.nextClient++);
  }

  /** A community with a public group and an invite; resolves with its #general channel. */
  async create(name = `Bench ${this.next++}`): Promise<Place> {
    const rest = this.rests[0]!;
    const token = this.ownerToken;
    const community = await rest.call<{ id: string }>('POST', '/api/communities', {
      token,
      body: { name },
      from: this.from(),
    });
    const group = await rest.call<{ id: string }>('POST', `/api/communities/${community.id}/groups`, {
      token,
      body: { name: 'Everyone', visibility: 'public' },
      from: this.from(),
    });
    const { channels } = await rest.call<{ channels: { id: string; name: string }[] }>(
      'GET',
      `/api/groups/${group.id}/channels`,
      { token, from: this.from() },
    );
    const channelId = channels.find((c) => c.name === 'general')?.id;
    if (!channelId) throw new Error('the public group has no #general channel');
    const invite = await rest.call<{ code: string }>('POST', `/api/communities/${community.id}/invites`, {
      token,
      body: {},
      from: this.from(),
    });
    return { channelId, inviteCode: invite.code };
  }

  /** Every account joins the place with its invite. */
  async join(place: Place, accounts: Account[], concurrency = CONCURRENCY): Promise<void> {
    const results = await pool(accounts, concurrency, (account) =>
      this.rests[account.process]!.call('POST', `/api/invites/${place.inviteCode}/join`, {
        token: account.token,
        from: this.from(),
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw new Error(`joining a place failed: ${String(failed.reason)}`);
  }

  /** `count` places of `size` members each (the accounts, in order). */
  async rooms(count: number, size: number, accounts: Account[]): Promise<Room[]> {
    const results = await pool(
      Array.from({ length: count }, (_, i) => accounts.slice(i * size, (i + 1) * size)),
      CONCURRENCY,
      async (members) => {
        const place = await this.create();
        await this.join(place, members, 1);
        return { id: place.channelId, members };
      },
    );
    return settled(results);
  }

  /** `accounts.length / 2` DMs between consecutive accounts, PAIRS_PER_PLACE pairs sharing a place. */
  async dmPairs(accounts: Account[]): Promise<Room[]> {
    const pairs = Math.floor(accounts.length / 2);
    const perPlace = PAIRS_PER_PLACE * 2;
    const groups = Array.from({ length: Math.ceil(pairs / PAIRS_PER_PLACE) }, (_, i) =>
      accounts.slice(i * perPlace, Math.min((i + 1) * perPlace, pairs * 2)),
    );
    settled(
      await pool(groups, CONCURRENCY, async (members) => {
        const place = await this.create();
        await this.join(place, members, 2);
      }),
    );
    const results = await pool(
      Array.from({ length: pairs }, (_, i) => [accounts[2 * i]!, accounts[2 * i + 1]!] as const),
      CONCURRENCY,
      async ([a, b]) => {
        const dm = await this.rests[a.process]!.call<{ id: string }>('POST', '/api/dms', {
          token: a.token,
          body: { user_id: b.id },
          from: this.from(),
        });
        return { id: dm.id, members: [a, b] };
      },
    );
    return settled(results);
  }
}

function settled<T>(results: PromiseSettledResult<T>[]): T[] {
  return results.map((r) => {
    if (r.status === 'rejected') throw r.reason instanceof Error ? r.reason : new Error(String(r.reason));
    return r.value;
  });
}
