import { describe, expect, it } from 'vitest';
import { gatewayStateContract } from './gateway-state-contract.js';
import { MemoryGatewayState } from './memory-gateway-state.js';

const T0 = 1_700_000_000_000;
const TTL = 45_000;

describe('MemoryGatewayState', () => {
  gatewayStateContract(async () => {
    const state = new MemoryGatewayState();
    return [state, state];
  });

  it('forgets users whose sockets all expired, on later writes', async () => {
    const state = new MemoryGatewayState();
    for (let i = 0; i < 100; i++) await state.addSocket(`u${i}`, 's', 8, TTL, T0);
    await state.addSocket('late', 's', 8, TTL, T0 + 10_000);
    expect(state.size.users).toBe(101);
    // Every early user has expired: the next write sweeps them all, the live one stays.
    await state.addSocket('later', 's', 8, TTL, T0 + TTL);
    expect(state.size.users).toBe(2);
    expect(await state.socketCount('late', T0 + TTL)).toBe(1);
    await state.removeSocket('late', 's', T0 + TTL);
    await state.removeSocket('later', 's', T0 + TTL);
    expect(state.size.users).toBe(0);
  });

  it('keeps a status only when it is not the default, and typing entries only for their interval', async () => {
    const state = new MemoryGatewayState();
    await state.setStatus('u', 'dnd');
    await state.setStatus('v', 'invisible');
    expect(state.size.statuses).toBe(2);
    await state.setStatus('u', 'online');
    expect(state.size.statuses).toBe(1);

    for (let i = 0; i < 50; i++) await state.tryTyping(`c${i}`, 'u', 3000, T0);
    expect(state.size.typing).toBe(50);
    await state.tryTyping('c', 'u', 3000, T0 + 3000);
    expect(state.size.typing).toBe(1);
  });

  it('forgets everything when closed', async () => {
    const state = new MemoryGatewayState();
    await state.addSocket('u', 's', 8, TTL, T0);
    await state.setStatus('u', 'idle');
    await state.tryTyping('c', 'u', 3000, T0);
    await state.close();
    expect(state.size).toEqual({ users: 0, statuses: 0, typing: 0 });
  });
});
