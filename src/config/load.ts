import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { hostname } from 'node:os';
import type { z } from 'zod';
import { isSipwardenError, swError } from '../core/errors.js';
import { createCustomParser } from '../parsers/custom/index.js';
import { BUILTIN_FORMATS, configSchema, type Config } from './schema.js';


/**
 * `${NAME}` in a string value takes the value of an environment variable, so secrets stay out of the file.
 * Done on parsed values, not on the text, so comments and keys are never rewritten.
 */
function substituteEnv(node: unknown, env: NodeJS.ProcessEnv, file: string): unknown {
  if (typeof node === 'string') {
    return node.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, key: string) => {
      const value = env[key];
      if (value === undefined) throw swError('SW_ERR_CONFIG', `${file}: environment variable ${key} is not set`);
      return value;
    });
  }
  if (Array.isArray(node)) return node.map((item) => substituteEnv(item, env, file));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, substituteEnv(value, env, file)]));
  }
  return node;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
  return out === '' ? '(top level)' : out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

type AnySchema = { _zod: { def: Record<string, unknown> } };

/** The object keys the schema allows at a path, for "unknown key" messages. */
function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let node = configSchema as unknown as AnySchema;
  const unwrap = (): void => {
    for (let i = 0; i < 10; i++) {
      const def = node._zod.def;
      const inner = (def.innerType ?? def.in ?? undefined) as AnySchema | undefined;
      if (!inner || def.type === 'object') return;
      node = inner;
    }
  };
  unwrap();
  for (const part of path) {
    const def = node._zod.def;
    if (def.type === 'object') node = (def.shape as Record<string, AnySchema>)[String(part)] as AnySchema;
    else if (def.type === 'array') node = def.element as AnySchema;
    else if (def.type === 'record') node = def.valueType as AnySchema;
    else return [];
    if (!node) return [];
    unwrap();
  }
  const def = node._zod.def;
  return def.type === 'object' ? Object.keys(def.shape as object) : [];
}

/**
 * Paths whose values can hold secrets (passwords, tokens, keys, webhook and database URLs that embed one, headers):
 * an error names the path and what is expected, never the value, because start-up errors reach the journal.
 */
const SECRET_PATH = /(secret|password|token|authKey|webhooks\[\d+\]\.url|headers|store\.postgres)/i;

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(issue.path);
    return `${where}: unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed keys: ${allowed.join(', ')}`;
  }
  const value = valueAt(input, issue.path);
  const shown = value === undefined ? 'nothing' : SECRET_PATH.test(where) && value !== null && value !== '' ? '(a value, not shown: it may be a secret)' : JSON.stringify(value);
  if (issue.code === 'invalid_value') {
    return `${where}: got ${shown}, expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  const expected = issue.message.replace(/^Invalid input: /, '');
  return `${where}: got ${shown}, ${expected}`;
}

/**
 * Validates a parsed YAML document. Throws SW_ERR_CONFIG listing every problem, each with its path, the
 * value found and what is allowed. Cross-field checks (formats that sources name, duplicate ids) run here
 * too, so an invalid config fails at start-up and never on the hundredth event.
 */
export function validateConfig(input: unknown, file = 'config'): Config {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${describeIssue(issue, input)}`);
    throw swError('SW_ERR_CONFIG', `${file} is invalid:\n${lines.join('\n')}`);
  }
  const config = result.data;
  const problems: string[] = [];
  const known = new Set<string>([...BUILTIN_FORMATS, ...Object.keys(config.formats)]);
  const ids = new Set<string>();
  config.sources.forEach((source, i) => {
    const formats = source.type === 'file' ? [['format', source.format]] : source.type === 'syslog' || source.type === 'journald' ? source.routes.map((r, j) => [`routes[${j}].format`, r.format]) : [];
    for (const [where, format] of formats as [string, string][]) {
      if (!known.has(format)) problems.push(`  sources[${i}].${where}: got "${format}", expected one of ${[...known].join(', ')}`);
    }
    if (source.type === 'syslog' && !source.udp && !source.tcp) problems.push(`  sources[${i}]: a syslog source needs udp and/or tcp (host:port)`);
    if (ids.has(source.id)) problems.push(`  sources[${i}].id: "${source.id}" is used twice; ids must be unique`);
    ids.add(source.id);
  });
  for (const [name, format] of Object.entries(config.formats)) {
    if ((BUILTIN_FORMATS as readonly string[]).includes(name)) {
      problems.push(`  formats.${name}: the name of a built-in format; choose another name`);
    }
    try {
      createCustomParser({ name, patterns: format.patterns });
    } catch (error) {
      if (!isSipwardenError(error, 'SW_ERR_PATTERN')) throw error;
      problems.push(`  ${error.message}`);
    }
  }
  for (const [name, rule] of Object.entries(config.rules)) {
    // Fleet counters live in PostgreSQL; on SQLite the rule would silently count one node only.
    if (rule.scope === 'fleet' && config.store.postgres === undefined) {
      problems.push(`  rules.${name}.scope: "fleet" needs store.postgres (fleet mode), where the nodes add up their counters; use scope: node with store.sqlite`);
    }
    // Nodes send their counts every half second: a shorter window than a few flushes would count next to nothing.
    if (rule.scope === 'fleet' && rule.window < 10_000) {
      problems.push(`  rules.${name}.window: got ${rule.window / 1000}s, a fleet rule needs a window of at least 10s`);
    }
  }
  if (problems.length > 0) throw swError('SW_ERR_CONFIG', `${file} is invalid:\n${problems.join('\n')}`);
  if (!config.node) config.node = hostname().split('.')[0] ?? 'sipwarden';
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    if (error instanceof YAMLParseError) throw swError('SW_ERR_CONFIG', `${file}: YAML syntax error: ${error.message}`, error);
    throw error;
  }
  return validateConfig(substituteEnv(doc, env, file), file);
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw swError('SW_ERR_CONFIG_READ', `cannot read config ${file}: ${(error as Error).message}`, error);
  }
  return parseConfigText(text, file, env);
}

/** The built-in configuration used by `parse`/`test --format` when no file is given. */
export function defaultConfig(): Config {
  return validateConfig({});
}
