/**
 * User and host of the SIP URI inside a To/From value as Asterisk prints it: `<sip:301@example.com>`,
 * `"100" <sip:100@1.2.3.4>`, `"100"sip:100@1.2.3.4`, `sip:bob@192.0.2.1;tag=x`. The value is client-chosen, so
 * these only ever fill `account` and `domain`, never `ip`. The display name comes first and may itself contain
 * `sip:`, so the last URI scheme wins.
 */
export interface UriParts {
  user?: string;
  host?: string;
}

export function uriParts(text: string): UriParts {
  const scheme = Math.max(text.lastIndexOf('sip:'), text.lastIndexOf('sips:'));
  if (scheme < 0) return {};
  const start = text.indexOf(':', scheme) + 1;
  let end = start;
  for (; end < text.length; end++) {
    const c = text.charCodeAt(end);
    if (c === 62 /* > */ || c === 59 /* ; */ || c === 63 /* ? */) break;
  }
  const uri = text.slice(start, end);
  const at = uri.lastIndexOf('@');
  const hostPort = at < 0 ? uri : uri.slice(at + 1);
  let host = hostPort;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close > 0) host = hostPort.slice(0, close + 1);
  } else {
    const colon = hostPort.indexOf(':');
    if (colon >= 0) host = hostPort.slice(0, colon);
  }
  const parts: UriParts = {};
  // `sip:user:password@host` is legal; the password is not an account name.
  if (at > 0) {
    const colon = uri.indexOf(':');
    parts.user = colon >= 0 && colon < at ? uri.slice(0, colon) : uri.slice(0, at);
  }
  if (host) parts.host = host;
  return parts;
}
