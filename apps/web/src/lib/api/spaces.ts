/**
 * REST calls for communities, groups, channels, DMs, members and read state, typed by the
 * protocol schemas (the answers are validated against them). They go through the session's
 * AuthClient, so tokens are refreshed as needed and failures are ApiErrors with stable codes.
 */
import { ApiError, type RequestOptions } from '@chatalot/client';
import {
  Channel,
  ChannelList,
  ChannelReadState,
  Community,
  CommunityInvite,
  CommunityInviteList,
  CommunityInvitePreview,
  CommunityJoinResult,
  CommunityBan as CommunityBanSchema,
  CommunityBanList,
  CommunityList,
  CommunityMember as CommunityMemberSchema,
  CommunityMemberList,
  DiscoverableGroupList,
  Dm,
  DmList,
  ErrorResponse,
  Group,
  GroupInvite,
  GroupInviteList,
  GroupJoinResult,
  GroupList,
  GroupMember,
  GroupMemberList,
  ReadStateList,
  UserSearchResults,
  type CommunityMember,
  type CreateChannel,
  type CreateCommunity,
  type CreateCommunityInvite,
  type CreateGroup,
  type UpdateChannel,
  type UpdateCommunity,
  type UpdateCommunityMember,
  type UpdateGroup,
} from '@chatalot/protocol';
import type { z } from 'zod';
import { session } from '$lib/session.svelte';

export type {
  Channel,
  Community,
  CommunityInvite,
  CommunityMember,
  GroupMember,
  Dm,
  Group,
  ChannelReadState as ReadState,
} from '@chatalot/protocol';
export type InvitePreview = z.infer<typeof CommunityInvitePreview>;
export type DiscoverableGroup = z.infer<typeof DiscoverableGroupList>['groups'][number];
export type UserCard = z.infer<typeof UserSearchResults>['users'][number];
export type ReadStateT = z.infer<typeof ChannelReadState>;
export type GroupInviteT = z.infer<typeof GroupInvite>;
export type CommunityUpdate = z.input<typeof UpdateCommunity>;
export type CommunityBan = z.infer<typeof CommunityBanSchema>;
export type GroupUpdate = z.input<typeof UpdateGroup>;
export type ChannelUpdate = z.input<typeof UpdateChannel>;
export type MemberUpdate = z.input<typeof UpdateCommunityMember>;

const id = (value: string) => encodeURIComponent(value);
const authed = <S extends z.ZodType>(path: string, options: RequestOptions<S> = {}) =>
  session.client.authed(path, options);

// Communities

export async function listCommunities(): Promise<Community[]> {
  return (await authed('/api/communities', { response: CommunityList })).communities;
}

export function getCommunity(communityId: string): Promise<Community> {
  return authed(`/api/communities/${id(communityId)}`, { response: Community });
}

export function createCommunity(input: z.input<typeof CreateCommunity>): Promise<Community> {
  return authed('/api/communities', { method: 'POST', body: input, response: Community });
}

export function updateCommunity(communityId: string, update: CommunityUpdate): Promise<Community> {
  return authed(`/api/communities/${id(communityId)}`, { method: 'PATCH', body: update, response: Community });
}

export async function deleteCommunity(communityId: string): Promise<void> {
  await authed(`/api/communities/${id(communityId)}`, { method: 'DELETE' });
}

export async function leaveCommunity(communityId: string): Promise<void> {
  await authed(`/api/communities/${id(communityId)}/leave`, { method: 'POST' });
}

/** All members, page by page (500 a page), up to `max`. */
export async function listMembers(communityId: string, max = 5_000): Promise<CommunityMember[]> {
  const members: CommunityMember[] = [];
  let after: string | null = null;
  do {
    const query: string = after ? `?limit=500&after=${id(after)}` : '?limit=500';
    const page: z.infer<typeof CommunityMemberList> = await authed(
      `/api/communities/${id(communityId)}/members${query}`,
      {
        response: CommunityMemberList,
      },
    );
    members.push(...page.members);
    after = page.next_cursor;
  } while (after && members.length < max);
  return members;
}

/** Changes a member's role (admins, on members below them) or nickname (own, or others' for moderators). */
export function updateMember(communityId: string, userId: string, update: MemberUpdate): Promise<CommunityMember> {
  return authed(`/api/communities/${id(communityId)}/members/${id(userId)}`, {
    method: 'PATCH',
    body: update,
    response: CommunityMemberSchema,
  });
}

/** Hands the community to another member (owner only); the old owner becomes an admin. */
export function transferCommunity(communityId: string, userId: string): Promise<Community> {
  return authed(`/api/communities/${id(communityId)}/transfer`, {
    method: 'POST',
    body: { user_id: userId },
    response: Community,
  });
}

/** Kicks a member out of the community and all its groups; they can come back with an invite. */
export async function kickMember(communityId: string, userId: string): Promise<void> {
  await authed(`/api/communities/${id(communityId)}/members/${id(userId)}`, { method: 'DELETE' });
}

// Community bans

export function banUser(communityId: string, userId: string, reason: string): Promise<CommunityBan> {
  return authed(`/api/communities/${id(communityId)}/bans`, {
    method: 'POST',
    body: { user_id: userId, ...(reason ? { reason } : {}) },
    response: CommunityBanSchema,
  });
}

export async function listBans(communityId: string): Promise<CommunityBan[]> {
  return (await authed(`/api/communities/${id(communityId)}/bans`, { response: CommunityBanList })).bans;
}

export async function unbanUser(communityId: string, userId: string): Promise<void> {
  await authed(`/api/communities/${id(communityId)}/bans/${id(userId)}`, { method: 'DELETE' });
}

// Community invites

export function createInvite(
  communityId: string,
  input: z.input<typeof CreateCommunityInvite>,
): Promise<CommunityInvite> {
  return authed(`/api/communities/${id(communityId)}/invites`, {
    method: 'POST',
    body: input,
    response: CommunityInvite,
  });
}

export async function listInvites(communityId: string): Promise<CommunityInvite[]> {
  return (await authed(`/api/communities/${id(communityId)}/invites`, { response: CommunityInviteList })).invites;
}

export async function revokeInvite(communityId: string, code: string): Promise<void> {
  await authed(`/api/communities/${id(communityId)}/invites/${id(code)}`, { method: 'DELETE' });
}

/** What an invite leads to; public, so it works signed out too. */
export function previewInvite(code: string): Promise<InvitePreview> {
  return session.client.http.request(`/api/invites/${id(code)}`, { response: CommunityInvitePreview });
}

export function joinByInvite(code: string): Promise<z.infer<typeof CommunityJoinResult>> {
  return authed(`/api/invites/${id(code)}/join`, { method: 'POST', response: CommunityJoinResult });
}

/** The shareable link of a community invite. */
export function inviteLink(code: string): string {
  return `${location.origin}/invite/${encodeURIComponent(code)}`;
}

/** Takes a pasted invite link or a bare code and returns the code, or null when it is neither. */
export function parseInviteCode(input: string): string | null {
  const text = input.trim();
  if (!text) return null;
  const fromPath = /\/invite\/([A-Za-z0-9_-]{4,64})\/?(?:[?#].*)?$/.exec(text);
  if (fromPath) return fromPath[1]!;
  if (/^[A-Za-z0-9_-]{4,64}$/.test(text)) return text;
  return null;
}

// Groups and channels

export async function listGroups(communityId: string): Promise<Group[]> {
  return (await authed(`/api/communities/${id(communityId)}/groups`, { response: GroupList })).groups;
}

export async function discoverGroups(communityId: string): Promise<DiscoverableGroup[]> {
  return (await authed(`/api/communities/${id(communityId)}/groups/discover`, { response: DiscoverableGroupList }))
    .groups;
}

export function createGroup(communityId: string, input: z.input<typeof CreateGroup>): Promise<Group> {
  return authed(`/api/communities/${id(communityId)}/groups`, { method: 'POST', body: input, response: Group });
}

export function joinGroup(groupId: string): Promise<z.infer<typeof GroupJoinResult>> {
  return authed(`/api/groups/${id(groupId)}/join`, { method: 'POST', response: GroupJoinResult });
}

export async function leaveGroup(groupId: string): Promise<void> {
  await authed(`/api/groups/${id(groupId)}/leave`, { method: 'POST' });
}

export function joinGroupByInvite(code: string): Promise<z.infer<typeof GroupJoinResult>> {
  return authed(`/api/group-invites/${id(code)}/join`, { method: 'POST', response: GroupJoinResult });
}

export function createGroupInvite(groupId: string, input: { max_uses?: number; expires_in_hours?: number }) {
  return authed(`/api/groups/${id(groupId)}/invites`, { method: 'POST', body: input, response: GroupInvite });
}

export function getGroup(groupId: string): Promise<Group> {
  return authed(`/api/groups/${id(groupId)}`, { response: Group });
}

export function updateGroup(groupId: string, update: GroupUpdate): Promise<Group> {
  return authed(`/api/groups/${id(groupId)}`, { method: 'PATCH', body: update, response: Group });
}

export async function deleteGroup(groupId: string): Promise<void> {
  await authed(`/api/groups/${id(groupId)}`, { method: 'DELETE' });
}

export async function listGroupMembers(groupId: string): Promise<GroupMember[]> {
  return (await authed(`/api/groups/${id(groupId)}/members`, { response: GroupMemberList })).members;
}

export function setGroupRole(groupId: string, userId: string, role: 'admin' | 'member'): Promise<GroupMember> {
  return authed(`/api/groups/${id(groupId)}/members/${id(userId)}`, {
    method: 'PATCH',
    body: { role },
    response: GroupMember,
  });
}

export async function removeGroupMember(groupId: string, userId: string): Promise<void> {
  await authed(`/api/groups/${id(groupId)}/members/${id(userId)}`, { method: 'DELETE' });
}

export async function listGroupInvites(groupId: string): Promise<GroupInviteT[]> {
  return (await authed(`/api/groups/${id(groupId)}/invites`, { response: GroupInviteList })).invites;
}

export async function revokeGroupInvite(groupId: string, code: string): Promise<void> {
  await authed(`/api/groups/${id(groupId)}/invites/${id(code)}`, { method: 'DELETE' });
}

export async function listChannels(groupId: string): Promise<Channel[]> {
  return (await authed(`/api/groups/${id(groupId)}/channels`, { response: ChannelList })).channels;
}

export function createChannel(groupId: string, input: z.input<typeof CreateChannel>): Promise<Channel> {
  return authed(`/api/groups/${id(groupId)}/channels`, { method: 'POST', body: input, response: Channel });
}

export function getChannel(channelId: string): Promise<Channel> {
  return authed(`/api/channels/${id(channelId)}`, { response: Channel });
}

export function updateChannel(channelId: string, update: ChannelUpdate): Promise<Channel> {
  return authed(`/api/channels/${id(channelId)}`, { method: 'PATCH', body: update, response: Channel });
}

export async function deleteChannel(channelId: string): Promise<void> {
  await authed(`/api/channels/${id(channelId)}`, { method: 'DELETE' });
}

// DMs and people

export async function listDms(): Promise<Dm[]> {
  return (await authed('/api/dms', { response: DmList })).dms;
}

export function openDm(userId: string): Promise<Dm> {
  return authed('/api/dms', { method: 'POST', body: { user_id: userId }, response: Dm });
}

export function createGroupDm(userIds: string[], name?: string): Promise<Dm> {
  return authed('/api/dms/group', {
    method: 'POST',
    body: { user_ids: userIds, ...(name ? { name } : {}) },
    response: Dm,
  });
}

export async function searchUsers(q: string, signal?: AbortSignal): Promise<UserCard[]> {
  const query = `?q=${encodeURIComponent(q)}&limit=10`;
  return (await authed(`/api/users/search${query}`, { response: UserSearchResults, ...(signal ? { signal } : {}) }))
    .users;
}

// Read state

export async function readStates(): Promise<ReadStateT[]> {
  return (await authed('/api/read-states', { response: ReadStateList })).channels;
}

export function markReadRest(channelId: string, seq: number): Promise<ReadStateT> {
  return authed(`/api/channels/${id(channelId)}/read`, { method: 'PUT', body: { seq }, response: ChannelReadState });
}

// Images

/**
 * Uploads an image as the raw request body (`PUT /api/communities/:id/icon` and the like), which
 * the JSON client does not do: the token comes from the AuthClient, one retry after a refresh.
 */
export async function uploadImage(path: string, file: Blob): Promise<void> {
  const send = async (fresh: boolean) => {
    const token = await session.client.getAccessToken({ fresh });
    try {
      return await fetch(path, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': file.type || 'application/octet-stream',
          accept: 'application/json',
        },
        body: file,
      });
    } catch {
      throw new ApiError('network_error', 'The server could not be reached', 0);
    }
  };
  let res = await send(false);
  if (res.status === 401) res = await send(true);
  if (res.ok) return;
  const body = ErrorResponse.safeParse(await res.json().catch(() => undefined));
  if (!body.success) throw new ApiError('bad_response', `The server answered ${res.status}`, res.status);
  throw new ApiError(body.data.error.code, body.data.error.message, res.status, body.data.error.details ?? []);
}

export async function removeImage(path: string): Promise<void> {
  await authed(path, { method: 'DELETE' });
}
