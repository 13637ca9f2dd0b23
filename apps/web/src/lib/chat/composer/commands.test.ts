import { describe, expect, it } from 'vitest';
import { markdownToHtml } from '../markdown';
import { SLASH_COMMANDS, applySlashCommand, matchCommands } from './commands';

/** What a message shows once rendered (tags dropped). */
const shown = (source: string) => markdownToHtml(source).replace(/<[^>]+>/g, '');
/** The text a message would carry (null: nothing is sent). */
const sent = (message: string) => applySlashCommand(message)?.text ?? null;

describe('slash commands', () => {
  it('lists exactly the commands of this build, with descriptions', () => {
    expect(SLASH_COMMANDS.map((c) => c.name)).toEqual(['shrug', 'tableflip', 'unflip', 'lenny', 'me']);
    for (const c of SLASH_COMMANDS) expect(c.description.length).toBeGreaterThan(5);
    expect(matchCommands('').length).toBe(5);
    expect(matchCommands('T').map((c) => c.name)).toEqual(['tableflip']);
    expect(matchCommands('poll')).toEqual([]);
    expect(matchCommands('giphy')).toEqual([]);
  });

  it('appends the kaomoji, which renders as typed despite the Markdown in it', () => {
    expect(shown(sent('/shrug')!)).toBe('¯\\_(ツ)_/¯');
    expect(shown(sent('/shrug  oh well ')!)).toBe('oh well ¯\\_(ツ)_/¯');
    expect(shown(sent('/SHRUG')!)).toBe('¯\\_(ツ)_/¯');
    expect(shown(sent('/tableflip')!)).toBe('(╯°□°)╯︵ ┻━┻');
    expect(shown(sent('/unflip calm')!)).toBe('calm ┬─┬ノ( º _ ºノ)');
    expect(shown(sent('/lenny')!)).toBe('( ͡° ͜ʖ ͡°)');
  });

  it('turns /me into an action: the text as typed, flagged', () => {
    expect(applySlashCommand('/me waves')).toEqual({ text: 'waves', action: true });
    expect(applySlashCommand('/ME  waves at snake_case ')).toEqual({ text: 'waves at snake_case', action: true });
    expect(applySlashCommand('/me one\n\ntwo')).toEqual({ text: 'one\n\ntwo', action: true });
    expect(applySlashCommand('/shrug')?.action).toBe(false);
    expect(applySlashCommand('hello')).toEqual({ text: 'hello', action: false });
    // Nothing to do: nothing is sent.
    expect(applySlashCommand('/me')).toBeNull();
    expect(applySlashCommand('/me   ')).toBeNull();
  });

  it('sends other text starting with "/" as typed', () => {
    expect(sent('/usr/bin is a folder')).toBe('/usr/bin is a folder');
    expect(sent('/poll lunch?')).toBe('/poll lunch?');
    expect(sent('/shrugs')).toBe('/shrugs');
    expect(sent('hello /shrug')).toBe('hello /shrug');
  });
});
