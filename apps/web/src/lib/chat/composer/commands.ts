/**
 * Slash commands (PRODUCT.md §4): a message that starts with one of these names is rewritten
 * before it is encrypted. The kaomoji stay text in the message, so other clients need nothing
 * new to show them; /me sends its text with the content's `action` flag (an older client shows
 * the text as a plain message). A message that starts with "/" but names no command is sent as
 * typed.
 *
 * The kaomoji are written as Markdown source (the message renderer reads Markdown): the
 * backslash and underscores of the shrug are escaped so they show as typed.
 */

/** What the composer sends: the text, and whether it is an action ("* Ada waves"). */
export interface Outgoing {
  text: string;
  action: boolean;
}

export interface SlashCommand {
  name: string;
  /** "[message]" — what may follow the name. */
  args: string;
  description: string;
  /** The message to send for `rest` (what followed the name, trimmed), or null to send nothing. */
  run: (rest: string) => Outgoing | null;
}

const SHRUG = '¯\\\\\\_(ツ)\\_/¯';
const TABLEFLIP = '(╯°□°)╯︵ ┻━┻';
const UNFLIP = '┬─┬ノ( º _ ºノ)';
const LENNY = '( ͡° ͜ʖ ͡°)';

/** `rest`, then the face: "/shrug fine" is "fine ¯\_(ツ)_/¯". */
const append = (face: string) => (rest: string) => ({ text: rest ? `${rest} ${face}` : face, action: false });

/** An action ("/me waves"): the text as typed, flagged; the reader shows "* Ada waves". */
const act = (rest: string): Outgoing | null => (rest ? { text: rest, action: true } : null);

export const SLASH_COMMANDS: readonly SlashCommand[] = [
  { name: 'shrug', args: '[message]', description: `Appends ¯\\_(ツ)_/¯ to your message`, run: append(SHRUG) },
  { name: 'tableflip', args: '[message]', description: `Appends ${TABLEFLIP} to your message`, run: append(TABLEFLIP) },
  { name: 'unflip', args: '[message]', description: `Appends ${UNFLIP} to your message`, run: append(UNFLIP) },
  { name: 'lenny', args: '[message]', description: `Appends ${LENNY} to your message`, run: append(LENNY) },
  { name: 'me', args: '<action>', description: 'Sends an action, shown in italics after your name', run: act },
];

/** Commands whose name starts with `query` (the text after "/"), in list order. */
export function matchCommands(query: string): SlashCommand[] {
  const q = query.toLowerCase();
  return SLASH_COMMANDS.filter((c) => c.name.startsWith(q));
}

/**
 * What to send for a message: the command's output when it starts with a known "/name" (followed
 * by a space, a new line or nothing), else the message itself.
 */
export function applySlashCommand(message: string): Outgoing | null {
  const match = /^\/([a-z]+)(?:[ \t\n]+([\s\S]*))?$/i.exec(message);
  if (!match) return { text: message, action: false };
  const command = SLASH_COMMANDS.find((c) => c.name === match[1]!.toLowerCase());
  if (!command) return { text: message, action: false };
  return command.run((match[2] ?? '').trim());
}
