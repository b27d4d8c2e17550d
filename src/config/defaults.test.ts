import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defaultConfigSnapshot } from './defaults.js';
import { defaultConfig } from './load.js';

it('the build-time snapshot of the defaults equals what the schema yields', () => {
  const snapshot = defaultConfigSnapshot();
  assert.ok(snapshot, 'dist/default-config.json is missing: run npm run build');
  assert.deepEqual(JSON.parse(JSON.stringify(snapshot)), JSON.parse(JSON.stringify(defaultConfig())));
});
