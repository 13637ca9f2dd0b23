import { ApiError } from '@chatalot/client';

/** Which form the error happened in: some codes read differently per screen. */
export type ErrorContext = 'login' | 'register' | 'recover' | 'account';

/** The form field an error belongs to, so it can be shown next to that field. */
export type ErrorField = 'username' | 'password' | 'email' | 'invite' | 'code' | 'recovery' | 'current_password';

export interface ShownError {
  message: string;
  field?: ErrorField;
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** "2 minutes", "45 seconds": a Retry-After wait in words. */
export function formatWait(seconds: number): string {
  if (seconds < 90) return plural(Math.max(1, Math.round(seconds)), 'second');
  return plural(Math.ceil(seconds / 60), 'minute');
}

/** Turns anything a call threw into a sentence fit to show, and the field it concerns. */
export function describeError(err: unknown, context: ErrorContext = 'account'): ShownError {
  if (!(err instanceof ApiError)) return { message: 'Something went wrong. Try again.' };
  switch (err.code) {
    case 'network_error':
      return { message: 'The server could not be reached. Check your connection and try again.' };
    case 'rate_limited':
      return {
        message: err.retryAfterSecs
          ? `Too many attempts. Wait ${formatWait(err.retryAfterSecs)} and try again.`
          : 'Too many attempts. Wait a moment and try again.',
      };
    case 'invalid_credentials':
      if (context === 'login') return { message: 'Wrong username or password.' };
      if (context === 'recover') return { message: 'Wrong username or recovery code.' };
      return { message: 'That password is not correct.', field: 'current_password' };
    case 'invalid_totp':
      return {
        message: 'That code is not valid. Use the current code from your authenticator app, or an unused backup code.',
        field: 'code',
      };
    case 'totp_required':
      return { message: 'Two-factor authentication is on: enter a code from your authenticator app.', field: 'code' };
    case 'weak_password':
      return { message: err.message, field: 'password' };
    case 'username_taken':
      return { message: 'That username (or email address) is already taken.', field: 'username' };
    case 'email_taken':
      return { message: 'That email address is already used by another account.', field: 'email' };
    case 'invite_required':
      return { message: 'This server needs an invite code to create an account.', field: 'invite' };
    case 'invalid_invite':
      return { message: 'That invite code is not valid, used up or expired.', field: 'invite' };
    case 'registration_closed':
      return { message: 'Registration is closed on this server. Ask the person who runs it.' };
    case 'account_suspended':
      return { message: 'This account is suspended.' };
    case 'session_revoked':
    case 'invalid_token':
    case 'token_expired':
    case 'unauthorized':
      return { message: 'Your session has ended. Sign in again.' };
    case 'forbidden':
      return { message: err.message || 'You are not allowed to do that.' };
    case 'validation_error': {
      const issue = err.details[0];
      if (!issue) return { message: err.message };
      const field = validationField(issue.path);
      return { message: issue.message, ...(field ? { field } : {}) };
    }
    default:
      return { message: err.message || 'Something went wrong. Try again.' };
  }
}

function validationField(path: string): ErrorField | undefined {
  const head = path.split('.')[0];
  switch (head) {
    case 'username':
      return 'username';
    case 'password':
    case 'new_password':
      return 'password';
    case 'email':
      return 'email';
    case 'invite_code':
      return 'invite';
    case 'totp_code':
    case 'code':
      return 'code';
    case 'recovery_code':
      return 'recovery';
    case 'current_password':
      return 'current_password';
    default:
      return undefined;
  }
}
