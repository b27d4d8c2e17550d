/**
 * Dialled numbers as the hotlist keys them. Toll-fraud probes dial one number behind many prefixes (`0`, `00`,
 * `000`, `011`, `9011`, `+`, `++`, `0+`: formats reference §5.3), so every variant must fold to one key: the
 * digits after the international prefix. The fraud detector keys its lookups the same way (this function).
 */

/** E.164 allows at most 15 digits; fewer than 7 is an extension or a service code, not a fraud destination. */
const MIN_DIGITS = 7;
const MAX_DIGITS = 15;

/** `destination` is a Request-URI user as written: percent escapes, visual separators and URI parameters allowed. */
export function normalizeDialled(destination: string): string | undefined {
  let text = destination.length > 64 ? destination.slice(0, 64) : destination;
  const semicolon = text.indexOf(';');
  if (semicolon >= 0) text = text.slice(0, semicolon);
  try {
    text = decodeURIComponent(text);
  } catch {
    // A stray % is left as it is; the character check below then refuses the text.
  }
  text = text.replace(/[-.() ]/g, '');
  if (!/^[0-9+]+$/.test(text)) return undefined;
  for (let before = ''; before !== text; ) {
    before = text;
    text = text.replace(/^\++/, '');
    if (text.startsWith('9011')) text = text.slice(4);
    else if (text.startsWith('011')) text = text.slice(3);
    else text = text.replace(/^0+/, '');
  }
  if (!/^\d+$/.test(text) || text.length < MIN_DIGITS || text.length > MAX_DIGITS) return undefined;
  return text;
}
