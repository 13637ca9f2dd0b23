import type { AuditLog } from '../audit/audit-log.js';
import type { UsersRepo } from './repo.js';

/**
 * `ADMIN_USERNAME`: when the instance has no admin at all, the named user (if registered)
 * becomes one. Run at start; registration applies the same rule to a newcomer of that name.
 */
export async function grantConfiguredAdmin(
  users: UsersRepo,
  audit: AuditLog,
  username: string | undefined,
): Promise<boolean> {
  if (!username || (await users.anyAdmin())) return false;
  const user = await users.findByUsername(username);
  if (!user) return false;
  await users.update(user.id, { instance_role: 'admin', updated_at: Date.now() });
  await audit.record(
    'admin_granted',
    { ip: null, userAgent: null },
    { targetId: user.id, details: { via: 'ADMIN_USERNAME' } },
  );
  return true;
}
