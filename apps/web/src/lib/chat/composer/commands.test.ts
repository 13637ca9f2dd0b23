import { describe, expect, it } from 'vitest';
import { markdownToHtml } from '../markdown';
import { SLASH_COMMANDS, actionText, applySlashCommand, matchCommands } from './commands';

/** What a message shows once rendered (tags dropped). */
const shown = (source: string) => markdownToHtml(source).replace(/<[^>]+>/g, '');

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
    expect(shown(applySlashCommand('/shrug')!)).toBe('¯\\_(ツ)_/¯');
    expect(shown(applySlashCommand('/shrug  oh well ')!)).toBe('oh well ¯\\_(ツ)_/¯');
    expect(shown(applySlashCommand('/SHRUG')!)).toBe('¯\\_(ツ)_/¯');
    expect(shown(applySlashCommand('/tableflip')!)).toBe('(╯°□°)╯︵ ┻━┻');
    expect(shown(applySlashCommand('/unflip calm')!)).toBe('calm ┬─┬ノ( º _ ºノ)');
    expect(shown(applySlashCommand('/lenny')!)).toBe('( ͡° ͜ʖ ͡°)');
  });

  it('turns /me into an italic action, line by line', () => {
    expect(applySlashCommand('/me waves')).toBe('_waves_');
    expect(markdownToHtml(applySlashCommand('/me waves at snake_case')!)).toBe('<p><em>waves at snake_case</em></p>');
    expect(actionText('one\n\ntwo')).toBe('_one_\n\n_two_');
    // Nothing to do: nothing is sent.
    expect(applySlashCommand('/me')).toBeNull();
    expect(applySlashCommand('/me   ')).toBeNull();
  });

  it('sends other text starting with "/" as typed', () => {
    expect(applySlashCommand('/usr/bin is a folder')).toBe('/usr/bin is a folder');
    expect(applySlashCommand('/poll lunch?')).toBe('/poll lunch?');
    expect(applySlashCommand('/shrugs')).toBe('/shrugs');
    expect(applySlashCommand('hello /shrug')).toBe('hello /shrug');
  });
});
