import { z } from 'zod';

export const CreateRegistrationInvite = z
  .object({
    max_uses: z.number().int().min(1).max(10_000).optional().describe('Unlimited when absent.'),
    expires_in_hours: z.number().int().min(1).max(8760).optional().describe('Never expires when absent.'),
  })
  .meta({ id: 'CreateRegistrationInvite' });

export const RegistrationInvite = z
  .object({
    code: z.string(),
    created_by: z.string().nullable(),
    max_uses: z.number().int().nullable(),
    uses: z.number().int(),
    expires_at: z.number().int().nullable(),
    revoked: z.boolean(),
    created_at: z.number().int(),
  })
  .meta({ id: 'RegistrationInvite' });
export const RegistrationInviteList = z
  .object({ invites: z.array(RegistrationInvite) })
  .meta({ id: 'RegistrationInviteList' });

export const AuditEntry = z
  .object({
    id: z.string(),
    action: z.string(),
    actor_id: z.string().nullable(),
    target_id: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    created_at: z.number().int(),
  })
  .meta({ id: 'AuditEntry' });

export const AuditQuery = z.object({
  action: z.string().max(64).optional(),
  user_id: z.string().max(64).optional().describe('Matches the actor or the target.'),
  from: z.coerce.number().int().optional().describe('Milliseconds since the epoch, inclusive.'),
  to: z.coerce.number().int().optional().describe('Milliseconds since the epoch, exclusive.'),
  cursor: z.string().max(128).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const AuditPage = z
  .object({ entries: z.array(AuditEntry), next_cursor: z.string().nullable() })
  .meta({ id: 'AuditPage' });
