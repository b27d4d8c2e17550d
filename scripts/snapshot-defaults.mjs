#!/usr/bin/env node
// Build step: writes the configuration the schema yields for an empty file to dist/default-config.json, so
// `parse` and `test` without a config file start without loading the schema library (about 60 ms of every
// call). The defaults still live only in the schema; src/config/defaults.test.ts checks the snapshot.
import { writeFileSync } from 'node:fs';
const { validateConfig } = await import('../dist/src/config/load.js');
const { node: _node, ...config } = validateConfig({});
writeFileSync(new URL('../dist/default-config.json', import.meta.url), `${JSON.stringify(config, null, 2)}\n`);
