import type { Config } from '../config/schema.js';
import { swError } from '../core/errors.js';
import { createAsteriskParser } from './asterisk/index.js';
import { createAsteriskSecurityParser } from './asterisk-security/index.js';
import { createAsteriskCdrParser } from './asterisk-cdr/index.js';
import { createCustomParser } from './custom/index.js';
import { createFreeswitchParser } from './freeswitch/index.js';
import { createFreeswitchCdrParser } from './freeswitch-cdr/index.js';
import { createKamailioParser } from './kamailio/index.js';
import { createOpensipsParser } from './opensips/index.js';
import { guardParser } from './guard.js';
import { BUILTIN_FORMATS, type LineParser } from './types.js';

export type BuiltinFormat = (typeof BUILTIN_FORMATS)[number];

const BUILTIN: Record<BuiltinFormat, () => LineParser> = {
  asterisk: createAsteriskParser,
  'asterisk-security': createAsteriskSecurityParser,
  'asterisk-cdr': createAsteriskCdrParser,
  freeswitch: createFreeswitchParser,
  'freeswitch-cdr': createFreeswitchCdrParser,
  kamailio: createKamailioParser,
  opensips: createOpensipsParser,
};

export function isBuiltinFormat(format: string): format is BuiltinFormat {
  return (BUILTIN_FORMATS as readonly string[]).includes(format);
}

/**
 * A fresh parser for one stream of lines (one per source): a built-in format, or a custom format from the
 * config (which may extend a built-in), wrapped so the line after a tampered one is not trusted. Throws
 * SW_ERR_ARGUMENT naming the known formats for an unknown name.
 */
export function createParser(format: string, config?: Config): LineParser {
  return guardParser(createBareParser(format, config));
}

function createBareParser(format: string, config?: Config): LineParser {
  if (isBuiltinFormat(format)) return BUILTIN[format]();
  const custom = config?.formats[format];
  if (!custom) {
    const known = [...BUILTIN_FORMATS, ...Object.keys(config?.formats ?? {})];
    throw swError('SW_ERR_ARGUMENT', `unknown format "${format}"; expected one of ${known.join(', ')}`);
  }
  const base = custom.extends ? BUILTIN[custom.extends]() : undefined;
  return createCustomParser({ name: format, patterns: custom.patterns }, base);
}
