import { swError } from '../../core/errors.js';
import { newToken, tokenHash } from '../../api/auth.js';
import { ROLES, type Role } from '../../store/types.js';
import { actorName, openStore, requireConfig } from '../context.js';
import { table, when } from '../format.js';

export interface TokenOptions {
  config?: string;
  role?: string;
  name?: string;
  json?: boolean;
  actor?: string;
}

function role(text: string | undefined): Role {
  if (text !== undefined && (ROLES as readonly string[]).includes(text)) return text as Role;
  throw swError('SW_ERR_ARGUMENT', `--role must be one of ${ROLES.join(', ')}${text ? ` (got "${text}")` : ''}`);
}

/** `sipwarden token create`: prints the secret once; only its SHA-256 is stored. */
export async function tokenCreateCommand(options: TokenOptions): Promise<void> {
  const wanted = role(options.role);
  const name = options.name ?? '';
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name)) throw swError('SW_ERR_ARGUMENT', '--name must be 1-64 letters, digits, . _ @ - (who or what uses the token)');
  const store = await openStore(await requireConfig(options.config));
  try {
    const now = Date.now();
    const actor = actorName(options.actor);
    const secret = newToken();
    const token = await store.addToken({ name, role: wanted, hash: tokenHash(secret), createdAt: now, createdBy: actor });
    await store.audit({ at: now, actor, action: 'token-create', target: `token:${name}`, reason: `role ${wanted}`, detail: `token ${token.id}` });
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ token: secret, id: token.id, name, role: wanted })}\n`);
      return;
    }
    process.stdout.write(`${secret}\n`);
    process.stderr.write(`Token ${token.id} "${name}" (${wanted}) created. It is shown only now: store it in a password manager.\n`);
  } finally {
    await store.close();
  }
}

export async function tokenListCommand(options: TokenOptions): Promise<void> {
  const store = await openStore(await requireConfig(options.config));
  try {
    const tokens = await store.tokens();
    if (options.json) {
      process.stdout.write(`${JSON.stringify(tokens)}\n`);
      return;
    }
    if (tokens.length === 0) {
      process.stdout.write('No tokens. Create one: sipwarden token create --role admin --name <you>\n');
      return;
    }
    const rows = tokens.map((t) => [String(t.id), t.name, t.role, when(t.createdAt), t.createdBy, t.lastUsedAt ? when(t.lastUsedAt) : 'never', t.revokedAt ? `revoked ${when(t.revokedAt)}` : 'active']);
    process.stdout.write(`${table([['ID', 'NAME', 'ROLE', 'CREATED', 'BY', 'LAST USED', 'STATE'], ...rows])}\n`);
  } finally {
    await store.close();
  }
}

export async function tokenRevokeCommand(idText: string, options: TokenOptions): Promise<void> {
  const id = Number(idText);
  if (!Number.isSafeInteger(id) || id < 1) throw swError('SW_ERR_ARGUMENT', `"${idText}" is not a token id (see sipwarden token list)`);
  const store = await openStore(await requireConfig(options.config));
  try {
    const now = Date.now();
    const revoked = await store.revokeToken(id, now);
    if (!revoked) throw swError('SW_ERR_NOT_FOUND', `no token ${id} (see sipwarden token list)`);
    await store.audit({ at: now, actor: actorName(options.actor), action: 'token-revoke', target: `token:${revoked.name}`, reason: 'revoked from the command line', detail: `token ${id}` });
    process.stdout.write(`Token ${id} "${revoked.name}" revoked; requests with it now get 401.\n`);
  } finally {
    await store.close();
  }
}
