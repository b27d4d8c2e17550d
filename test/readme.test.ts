import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { KAMAILIO_RECOMMENDED_XLOG } from '../src/parsers/kamailio/index.js';
import { OPENSIPS_RECOMMENDED_XLOG } from '../src/parsers/opensips/index.js';

const readme = readFileSync('README.md', 'utf8');

it('README shows the two newcomer commands on its first screen', () => {
  const firstScreen = readme.split('\n').slice(0, 20).join('\n');
  assert.match(firstScreen, /npm install && npm start/);
  assert.match(firstScreen, /npm test/);
});

it('README documents the exact recommended Kamailio and OpenSIPS xlog lines the parsers understand', () => {
  assert.ok(readme.includes(KAMAILIO_RECOMMENDED_XLOG.trimEnd()), 'Kamailio snippet is out of date in README.md');
  assert.ok(readme.includes(OPENSIPS_RECOMMENDED_XLOG.trimEnd()), 'OpenSIPS snippet is out of date in README.md');
});
