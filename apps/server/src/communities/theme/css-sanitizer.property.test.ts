import * as csstree from 'css-tree';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { ASSET, S, sanitize } from './css-sanitizer.fixtures.js';

const TOKENS = [
  ...'abcxyz-_0123456789 \n\t{}();:,./*"\'\\@!#%+~><=[]|&^$?'.split(''),
  '.a',
  '#b',
  'div',
  '*',
  ':root',
  'html',
  'body',
  ':hover',
  '::before',
  ':not(',
  ':has(',
  '[data-x="y"]',
  'color:red;',
  'color',
  'red',
  'background:',
  'position',
  'fixed',
  'z-index',
  'expression(',
  'ex/**/pression(',
  'url(',
  `url(${ASSET})`,
  'url(https://evil.example/x.png)',
  'url(javascript:alert(1))',
  'image-set(',
  '@import',
  '@\\69mport',
  '@media screen',
  '@supports (display:grid)',
  '@keyframes k',
  '@font-face',
  'animation:k 1s;',
  '!important',
  '\\75rl(',
  'u\\72l(',
  '\\0',
  '</style>',
  '<!--',
  '-->',
  '/*',
  '*/',
  'var(--x)',
  '--x:',
  'content:"',
  'attr(',
  '.a{color:red}',
  'body{',
  '}',
];

const cssish = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((parts) => parts.join(''));

function assertSafe(out: string): void {
  expect(out.toLowerCase()).not.toContain('</');
  let errors = 0;
  const ast = csstree.parse(out, { parseValue: true, parseCustomProperty: true, onParseError: () => errors++ });
  expect(errors).toBe(0);
  csstree.walk(ast, {
    enter(node: csstree.CssNode, _item: unknown, _list: unknown) {
      if (node.type === 'Atrule') expect(['media', 'supports', 'keyframes']).toContain(node.name);
      if (node.type === 'Declaration') {
        expect(node.property).not.toBe('position');
        expect(node.property).not.toBe('z-index');
        expect(node.important).toBe(false);
      }
      if (node.type === 'Function') expect(node.name).not.toMatch(/expression|url|attr/i);
      if (node.type === 'Url') expect(node.value).toMatch(/^\/api\/assets\/[0-9a-f]{64}\.(?:webp|gif|png)$/);
    },
  });
  // Every style rule outside @keyframes is scoped.
  const visit = (container: csstree.StyleSheet | csstree.Block) =>
    container.children.forEach((node) => {
      if (node.type === 'Rule' && node.prelude.type === 'SelectorList') {
        node.prelude.children.forEach((sel) => expect(csstree.generate(sel).startsWith(S)).toBe(true));
      } else if (node.type === 'Atrule' && node.name !== 'keyframes' && node.block) {
        visit(node.block);
      }
    });
  if (ast.type === 'StyleSheet') visit(ast);
  // And textually: no url( other than our assets, no @import. A string's text is data (a font
  // name, a custom property's value) and may spell either, so strings are emptied first.
  csstree.walk(ast, {
    enter(node: csstree.CssNode, _item: unknown, _list: unknown) {
      if (node.type === 'String') node.value = '';
    },
  });
  const lowered = csstree.generate(ast).toLowerCase();
  expect(lowered).not.toContain('@import');
  for (const m of lowered.matchAll(/url\(/g)) {
    expect(lowered.slice(m.index + 4)).toMatch(/^\/api\/assets\/[0-9a-f]{64}\.(?:webp|gif|png)\)/);
  }
}

describe('sanitizeCommunityCss: property', () => {
  it('either refuses with validation_error or returns safe, scoped CSS', () => {
    let accepted = 0;
    fc.assert(
      fc.property(cssish, (css) => {
        let out: string;
        try {
          out = sanitize(css);
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          expect(err.code).toBe('validation_error');
          return;
        }
        accepted++;
        assertSafe(out);
        // Sanitising is idempotent up to re-scoping: the output is itself acceptable input.
        expect(() => sanitize(out)).not.toThrow();
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(50);
  });

  it('accepted output of legitimate rules is safe', () => {
    const rule = fc
      .tuple(
        fc.constantFrom('.a', 'body .b', ':root', '*', 'li:nth-child(2n)', 'a:hover', '.c::after'),
        fc.constantFrom('color:red', `background:url(${ASSET})`, 'margin:0 4px', 'opacity:.5', '--x:1px'),
      )
      .map(([sel, decl]) => `${sel}{${decl}}`);
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 8 }), fc.boolean(), (rules, wrap) => {
        const css = wrap ? `@media screen{${rules.join('')}}` : rules.join('');
        let out: string;
        try {
          out = sanitize(css);
        } catch (err) {
          // Only moving/resizing the scope element itself may be refused here.
          expect((err as AppError).details![0]!.message).toMatch(/on the community view itself/);
          return;
        }
        assertSafe(out);
      }),
    );
  });
});
