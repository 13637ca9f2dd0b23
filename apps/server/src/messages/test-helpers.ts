import { randomUUID } from 'node:crypto';
import { MessageAck, MessagePage } from '@chatalot/protocol';
import type { z } from 'zod';
import { expect } from 'vitest';
import { caller } from '../groups/test-helpers.js';
import type { SpacesWorld } from '../test-support/spaces-world.js';
import type { TestApp } from '../test-support/test-app.js';
import type { TestUser } from '../test-support/users.js';

/** A message body as clients send it: base64 (the server never looks inside). */
export const text = (s: string) => Buffer.from(s).toString('base64');

/** A fresh client nonce. */
export const nonce = (tag = 'm') => `n-${tag}-${randomUUID()}`.slice(0, 64);

export type Ack = z.infer<typeof MessageAck>;
export type Page = z.infer<typeof MessagePage>;

/** REST helpers for the message routes, as one user or another. */
export function messaging(t: TestApp) {
  const call = caller(t);
  return {
    call,
    /** POSTs a message and expects it committed (201). */
    async send(user: TestUser, channelId: string, body: Record<string, unknown> = {}): Promise<Ack> {
      const res = await call(user, 'POST', `/api/channels/${channelId}/messages`, {
        nonce: nonce(),
        ciphertext: text('hello'),
        encryption: { scheme: 'sender_key' },
        ...body,
      });
      expect(res.statusCode, res.body).toBe(201);
      return MessageAck.parse(res.json());
    },
    /** GETs one page of history and expects it (200). */
    async history(user: TestUser, channelId: string, query = ''): Promise<Page> {
      const res = await call(user, 'GET', `/api/channels/${channelId}/messages${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return MessagePage.parse(res.json());
    },
    /** A new text channel in A's public group (every member of A is in it), with settings. */
    async channel(world: SpacesWorld, settings: Record<string, unknown> = {}): Promise<string> {
      const res = await call(world.users.owner, 'POST', `/api/groups/${world.a.publicGroup}/channels`, {
        name: 'talk',
        kind: 'text',
      });
      expect(res.statusCode, res.body).toBe(201);
      const id = (res.json() as { id: string }).id;
      if (Object.keys(settings).length > 0) await this.configure(world, id, settings);
      return id;
    },
    /** Changes a channel's settings as A's owner. */
    async configure(world: SpacesWorld, channelId: string, settings: Record<string, unknown>): Promise<void> {
      const res = await call(world.users.owner, 'PATCH', `/api/channels/${channelId}`, settings);
      expect(res.statusCode, res.body).toBe(200);
    },
  };
}

/** `[from, …, to]`. */
export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
