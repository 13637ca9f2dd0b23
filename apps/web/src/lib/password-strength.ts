/**
 * A rough strength estimate shown while typing a new password. It is only a hint: the server
 * decides (8–128 characters, not among the most common passwords, not the username).
 */
export interface Strength {
  score: 0 | 1 | 2 | 3 | 4;
  label: string;
  hint: string;
}

export function passwordStrength(password: string, username = ''): Strength {
  if (password.length === 0)
    return { score: 0, label: '', hint: 'At least 8 characters. A few unrelated words work well.' };
  if (password.length < 8) {
    return {
      score: 1,
      label: 'Too short',
      hint: `${8 - password.length} more character${password.length === 7 ? '' : 's'} needed.`,
    };
  }
  if (username && password.toLowerCase() === username.toLowerCase()) {
    return { score: 1, label: 'Too weak', hint: 'The password must not be your username.' };
  }
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  const unique = new Set(password).size;
  let points = 0;
  if (password.length >= 12) points++;
  if (password.length >= 16) points++;
  if (classes >= 3) points++;
  if (unique < 5) points -= 2;
  if (/^(.)\1+$/.test(password) || /^(?:0123|1234|abcd|qwer|pass)/i.test(password)) points -= 1;
  if (points <= 0) return { score: 2, label: 'Fair', hint: 'Longer is stronger: try 12 characters or more.' };
  if (points === 1) return { score: 3, label: 'Good', hint: 'A good password. Longer still is even better.' };
  return { score: 4, label: 'Strong', hint: 'A strong password.' };
}
