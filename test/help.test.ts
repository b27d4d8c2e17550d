import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli } from './helpers.js';

/** Every command the CLI must offer; a command added or dropped without its manual fails here. */
const EXPECTED = [
  'run', 'parse', 'test', 'why', 'list', 'ban', 'unban', 'guard', 'stop', 'doctor',
  'honeypot', 'honeypot report', 'config', 'config check', 'config schema',
  'token', 'token create', 'token list', 'token revoke', 'api', 'api openapi', 'install',
  'feeds', 'feeds status', 'feeds sync', 'allow', 'allow add', 'allow remove', 'allow list',
];
const SECTIONS = ['DESCRIPTION', 'EXAMPLES', 'EXIT STATUS'];

const helpTexts = new Map<string, string>();

/** One CLI run per command: the tests below read the same texts several times. */
function help(path: string[]): string {
  const key = path.join(' ');
  const cached = helpTexts.get(key);
  if (cached !== undefined) return cached;
  const r = cli([...path, '--help']);
  assert.equal(r.status, 0, `${key} --help: ${r.stderr}`);
  helpTexts.set(key, r.stdout);
  return r.stdout;
}

/** The sub-commands the `Commands:` block of a help text lists (commander's own `help` left out). */
function listedCommands(text: string): string[] {
  const start = text.indexOf('\nCommands:\n');
  if (start < 0) return [];
  const block = text.slice(start + '\nCommands:\n'.length).split('\n\n')[0] ?? '';
  return block
    .split('\n')
    .filter((line) => /^ {2}\S/.test(line))
    .map((line) => line.trim().split(/\s+/)[0] as string)
    .filter((name) => name !== 'help');
}

/** Walks the tree the CLI itself reports, from `sipwarden --help` down. */
function discover(path: string[] = [], found: string[] = []): string[] {
  for (const name of listedCommands(help(path))) {
    found.push([...path, name].join(' '));
    discover([...path, name], found);
  }
  return found;
}

function section(text: string, title: string): string {
  const start = text.indexOf(`\n${title}\n`);
  if (start < 0) return '';
  const body = text.slice(start + title.length + 2);
  const end = body.search(/\n\n[A-Z][A-Z ]+\n/);
  return end < 0 ? body : body.slice(0, end);
}

describe('--help', () => {
  const commands = discover();

  it('sipwarden --help lists exactly the registered commands and points to their own help', () => {
    assert.deepEqual([...commands].sort(), [...EXPECTED].sort());
    const top = help([]);
    assert.match(top, /sipwarden <command> --help/);
    for (const title of [...SECTIONS, 'FILES', 'ENVIRONMENT']) assert.ok(section(top, title).trim(), `top level: ${title}`);
  });

  for (const command of EXPECTED) {
    it(`${command} --help is a manual page`, () => {
      const text = help(command.split(' '));
      assert.match(text, new RegExp(`^Usage: sipwarden ${command}`));
      for (const title of SECTIONS) assert.ok(section(text, title).trim(), `${command}: no ${title} section`);
      assert.ok(section(text, 'DESCRIPTION').length > 60, `${command}: DESCRIPTION is a paragraph`);
      const examples = section(text, 'EXAMPLES').split('\n').filter((l) => /^ {2}\S/.test(l));
      assert.ok(examples.length >= 1 && examples.length <= 4, `${command}: ${examples.length} examples`);
      for (const example of examples) assert.match(example, /sipwarden /, `${command}: example ${example}`);
      assert.match(section(text, 'EXIT STATUS'), /^ {2}0 /m);
      assert.match(section(text, 'EXIT STATUS'), /^ {2}2 /m);
      if (/--config <file>/.test(text)) {
        assert.match(section(text, 'FILES'), /\/etc\/sipwarden\/sipwarden\.yaml/, `${command}: FILES`);
        assert.match(section(text, 'ENVIRONMENT'), /SIPWARDEN_CONFIG/, `${command}: ENVIRONMENT`);
      }
    });
  }

  it('every example names a command that exists, with options that command knows', () => {
    for (const command of EXPECTED) {
      const text = help(command.split(' '));
      for (const line of section(text, 'EXAMPLES').split('\n').filter((l) => /^ {2}\S/.test(l))) {
        // The sipwarden invocation inside the line (it may follow sudo, a pipe, or `systemctl stop sipwarden &&`).
        let words: string[] = [];
        let path: string | undefined;
        for (const at of [...line.matchAll(/(?:^|\s)sipwarden (?=\S)/g)].map((m) => m.index + m[0].length)) {
          words = line.slice(at).split(/\s+/);
          path = EXPECTED.filter((c) => words.slice(0, c.split(' ').length).join(' ') === c).sort((a, b) => b.length - a.length)[0];
          if (path) break;
        }
        assert.ok(path, `${command}: the example "${line.trim()}" names no command`);
        const own = help(path.split(' '));
        for (const option of words.filter((w) => /^--[a-z-]+$/.test(w))) {
          assert.ok(own.includes(option), `${command}: the example "${line.trim()}" uses ${option}, which ${path} does not have`);
        }
      }
    }
  });

  it('keeps the options other tools rely on', () => {
    assert.match(help(['ban']), /--for <duration>[\s\S]*--reason <text>[\s\S]*--actor <name>/);
    assert.match(help(['token', 'create']), /--role <role>.*"viewer", "operator", "admin"/s);
    assert.match(help(['install']), /--root <dir>[\s\S]*--dry-run[\s\S]*--force[\s\S]*--no-reload/);
    const badRole = cli(['token', 'create', '--role', 'root', '--name', 'x']);
    assert.equal(badRole.status, 1);
    assert.match(badRole.stderr, /viewer, operator, admin|"viewer", "operator", "admin"/);
  });
});
