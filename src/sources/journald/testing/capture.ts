import { fileURLToPath } from 'node:url';

/** The recorded `journalctl -o json` capture, read from the source tree: compiled tests run from a build directory. */
export const CAPTURE = fileURLToPath(new URL('../../../../../src/sources/journald/testdata/asterisk.journal.ndjson', import.meta.url));
