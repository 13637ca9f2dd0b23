/**
 * The rows of the composer's popup for one trigger (see triggers.ts), the same shape for emoji,
 * people and commands, and what picking one does to the text.
 */
import { matchCommands } from './commands';
import { searchEmoji, type EmojiIndex } from './emoji';
import { matchMentions, mentionText, type Mentionable } from './mentions';
import { replaceRange, type Trigger } from './triggers';

export interface Suggestion {
  /** Unique within the list (used for the option's element id). */
  key: string;
  kind: Trigger['kind'];
  /** Shown first: the emoji, the person's initial, "@" or "/". */
  lead: string;
  title: string;
  detail: string;
  /** The detail is a sentence: on a narrow screen it goes under the title instead of beside it. */
  sentence: boolean;
  /** Replaces the trigger's text. */
  insert: string;
}

export interface SuggestionSources {
  emoji: EmojiIndex | null;
  members: readonly Mentionable[];
  /** Whether @everyone, @here and @channel are offered (channels, not DMs). */
  everyone: boolean;
}

export const MAX_SUGGESTIONS = 8;

/** The element id of a popup row (for aria-activedescendant). */
export function optionId(listId: string, index: number): string {
  return `${listId}-option-${index}`;
}

export function suggestionsFor(trigger: Trigger | null, sources: SuggestionSources): Suggestion[] {
  if (!trigger) return [];
  if (trigger.kind === 'emoji') {
    if (!sources.emoji) return [];
    return searchEmoji(sources.emoji, trigger.query, MAX_SUGGESTIONS).map(({ entry, shortcode }) => ({
      key: `e-${shortcode}`,
      kind: 'emoji',
      lead: entry.emoji,
      title: `:${shortcode}:`,
      detail: entry.label,
      sentence: false,
      insert: entry.emoji,
    }));
  }
  if (trigger.kind === 'mention') {
    return matchMentions(sources.members, trigger.query, { everyone: sources.everyone, limit: MAX_SUGGESTIONS }).map(
      (option) =>
        option.kind === 'user'
          ? {
              key: `u-${option.user.id}`,
              kind: 'mention',
              lead: [...option.user.name.trim()][0]?.toUpperCase() ?? '@',
              title: option.user.name,
              detail: `@${option.user.username}`,
              sentence: false,
              insert: mentionText(option),
            }
          : {
              key: `w-${option.word}`,
              kind: 'mention',
              lead: '@',
              title: `@${option.word}`,
              detail: option.description,
              sentence: true,
              insert: mentionText(option),
            },
    );
  }
  return matchCommands(trigger.query).map((command) => ({
    key: `c-${command.name}`,
    kind: 'command',
    lead: '/',
    title: `/${command.name} ${command.args}`,
    detail: command.description,
    sentence: true,
    insert: `/${command.name}`,
  }));
}

/**
 * The text after picking `suggestion` for `trigger`: the trigger replaced, then one space
 * (unless one follows already) so typing goes on naturally.
 */
export function pickSuggestion(
  text: string,
  trigger: Trigger,
  suggestion: Suggestion,
): { text: string; caret: number } {
  const spaced = /^\s/.test(text.slice(trigger.end)) ? suggestion.insert : `${suggestion.insert} `;
  const out = replaceRange(text, trigger.start, trigger.end, spaced);
  // With a space already there, step over it.
  return { text: out.text, caret: spaced === suggestion.insert ? out.caret + 1 : out.caret };
}
