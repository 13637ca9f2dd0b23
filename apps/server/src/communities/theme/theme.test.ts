import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { CommunityTheme, communityThemeScope, normalizeColor, normalizeTheme } from './theme.js';

const SCOPE = communityThemeScope('c1');

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('validation_error');
    return err as AppError;
  }
  throw new Error('expected a validation_error');
}

describe('normalizeColor', () => {
  it.each([
    ['#abc', '#abc'],
    ['#ABCD', '#abcd'],
    ['#5865F2', '#5865f2'],
    ['#5865f280', '#5865f280'],
    ['  #fff  ', '#fff'],
    ['rgb(1, 2, 3)', 'rgb(1,2,3)'],
    ['RGBA(1,2,3,.5)', 'rgba(1,2,3,.5)'],
    ['rgb(10% 20% 30%)', 'rgb(10% 20% 30%)'],
    ['rgb(1 2 3 / 50%)', 'rgb(1 2 3/50%)'],
    ['hsl(120, 50%, 50%)', 'hsl(120,50%,50%)'],
    ['hsl(120deg 50% 50% / 0.25)', 'hsl(120deg 50% 50%/0.25)'],
    ['hsla(0.5turn, 10%, 10%, 1)', 'hsla(0.5turn,10%,10%,1)'],
  ])('accepts %s', (input, expected) => {
    expect(normalizeColor(input)).toBe(expected);
  });

  it.each([
    '',
    'red',
    'transparent',
    '#ab',
    '#abcde',
    '#ggg',
    'rgb(1,2)',
    'rgb(1,2,3,4,5)',
    'rgb(256,0,0)',
    'rgb(-1,0,0)',
    'rgb(1,2%,3)',
    'rgb(1 2,3)',
    'rgb(1,2,3/.5)',
    'rgb(1 2 3 .5)',
    'rgba(1,2,3,2)',
    'hsl(120,50,50)',
    'hsl(120px 50% 50%)',
    'rgb(var(--x),0,0)',
    'rgb(calc(1),0,0)',
    'r\\67 b(1,2,3)',
    'url(/x.png)',
    'rgb(1,2,3);background:url(//evil)',
    'rgb(1,2,3) red',
    'expression(alert(1))',
    `#${'f'.repeat(70)}`,
  ])('refuses %s', (input) => {
    expect(normalizeColor(input)).toBeUndefined();
  });
});

describe('communityThemeScope', () => {
  it('builds the attribute selector and refuses odd ids', () => {
    expect(communityThemeScope('0f8b2c1e-aaaa-4bbb-8ccc-000000000000')).toBe(
      '[data-community-theme="0f8b2c1e-aaaa-4bbb-8ccc-000000000000"]',
    );
    expect(() => communityThemeScope('a"]{}*{')).toThrow(Error);
  });
});

describe('normalizeTheme', () => {
  it('returns the stored form of a full theme', () => {
    const theme = normalizeTheme(
      {
        colors: {
          background: '#101010',
          surface: '#1E1E1E',
          text: 'rgb(240, 240, 240)',
          muted: 'hsl(0 0% 60%)',
          accent: '#5865f2',
          accent_text: '#fff',
          border: 'rgba(255,255,255,.1)',
        },
        css: 'body .message { border-radius: 8px }',
      },
      SCOPE,
    );
    expect(theme).toEqual({
      colors: {
        background: '#101010',
        surface: '#1e1e1e',
        text: 'rgb(240,240,240)',
        muted: 'hsl(0 0% 60%)',
        accent: '#5865f2',
        accent_text: '#fff',
        border: 'rgba(255,255,255,.1)',
      },
      css: `${SCOPE} .message{border-radius:8px}`,
    });
  });

  it('accepts any subset of the fields', () => {
    expect(normalizeTheme({}, SCOPE)).toEqual({ colors: {}, css: '' });
    expect(normalizeTheme({ colors: { accent: '#f00' } }, SCOPE)).toEqual({ colors: { accent: '#f00' }, css: '' });
    expect(normalizeTheme({ css: '' }, SCOPE)).toEqual({ colors: {}, css: '' });
  });

  it('names every bad colour and unknown field', () => {
    const err = thrown(() =>
      normalizeTheme({ colors: { accent: 'red', border: 'url(x)', shadow: '#000' }, extra: 1 }, SCOPE),
    );
    const paths = err.details!.map((d) => d.path).sort();
    expect(paths).toEqual(['', 'colors', 'colors.accent', 'colors.border']);
  });

  it('refuses CSS that is not a string or too long', () => {
    expect(thrown(() => normalizeTheme({ css: 42 }, SCOPE)).details![0]!.path).toBe('css');
    expect(thrown(() => normalizeTheme({ css: 'a'.repeat(4097) }, SCOPE)).details![0]!.path).toBe('css');
    // 4096 characters but more bytes: the sanitiser counts bytes.
    const err = thrown(() => normalizeTheme({ css: `/*${'é'.repeat(4000)}*/` }, SCOPE));
    expect(err.message).toMatch(/limit is 4096/);
  });

  it('passes sanitiser refusals through with the css path (prefixed when asked)', () => {
    const err = thrown(() =>
      normalizeTheme({ css: '.x{position:fixed}' }, SCOPE, { path: 'theme', assetUrlPrefix: '/api/assets/' }),
    );
    expect(err.details).toEqual([
      { path: 'theme.css', message: 'line 1, column 4: ".x" > position: property "position" is not allowed' },
    ]);
    const colorErr = thrown(() => normalizeTheme({ colors: { text: 'blue' } }, SCOPE, { path: 'theme' }));
    expect(colorErr.details![0]!.path).toBe('theme.colors.text');
  });

  it('exposes the schema for the API document', () => {
    expect(CommunityTheme.safeParse({ colors: { text: '#000' }, css: 'a{}' }).success).toBe(true);
    expect(CommunityTheme.safeParse({ colors: { text: 'black' } }).success).toBe(false);
  });
});
