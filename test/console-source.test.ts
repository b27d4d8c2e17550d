import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * What the console must never contain, checked on its source and on the build the daemon serves: HTML sinks for
 * attacker text, token storage that outlives the tab, and anything the Content-Security-Policy would refuse
 * (inline scripts and styles) or that needs the internet.
 */
const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const SOURCE = join(ROOT, 'src/web');
/** The build next to this compiled test: dist/test -> dist/web (dist-xx/web for a developer's own build). */
const BUILT = resolve(here, '../web');

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && keep(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

const FORBIDDEN_IN_SOURCE: [RegExp, string][] = [
  [/dangerouslySetInnerHTML/, 'renders a string as HTML'],
  [/\.(innerHTML|outerHTML)\b/, 'writes HTML'],
  [/insertAdjacentHTML|document\.write|createContextualFragment/, 'writes HTML'],
  [/localStorage|sessionStorage|indexedDB/, 'stores data beyond the tab (the token and CSRF token stay in memory)'],
  [/\beval\(|new Function\(/, 'needs unsafe-eval'],
  [/setAttribute\(\s*['"]style/, 'sets a style attribute, which the CSP refuses'],
  [/https?:\/\//, 'reaches outside the daemon (the console must work with no internet)'],
];

describe('web console: safety of the source and of the build', () => {
  it('the source has no HTML sinks, no persistent storage, no eval and no outside URLs', () => {
    const files = filesUnder(SOURCE, (name) => /\.(ts|tsx|html|css)$/.test(name) && name !== 'vite.config.ts');
    assert.ok(files.length >= 10, `expected the console source under ${SOURCE}`);
    const findings: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const [pattern, why] of FORBIDDEN_IN_SOURCE) {
        if (pattern.test(text)) findings.push(`${file.slice(ROOT.length + 1)}: ${pattern} ${why}`);
      }
    }
    assert.deepEqual(findings, []);
  });

  it('the build has only external scripts and stylesheets from the daemon itself', { skip: existsSync(join(BUILT, 'index.html')) ? false : `no console build at ${BUILT} (npm run build)` }, () => {
    const index = readFileSync(join(BUILT, 'index.html'), 'utf8');
    const scripts = [...index.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length >= 1);
    for (const [, attributes, body] of scripts) {
      assert.match(attributes ?? '', /\bsrc="\/assets\/[\w.-]+\.js"/, 'a script file under /assets/');
      assert.equal(body?.trim(), '', 'no inline script');
    }
    assert.doesNotMatch(index, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or event handler');
    assert.match(index, /<link rel="stylesheet"[^>]*href="\/assets\/[\w.-]+\.css"/);
    const outside = filesUnder(BUILT, () => true)
      .flatMap((file) => [...readFileSync(file, 'latin1').matchAll(/(?:src|href|url)\s*[=(]\s*["']?(https?:)?\/\/[^"') ]+/g)].map((m) => `${file}: ${m[0]}`));
    assert.deepEqual(outside, [], 'nothing loaded from another origin');
  });
});
