import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { assertWellFormed, fieldWith, fuzzCtx, injectedIp, mutated, TRUE_IP } from '../fuzz-support.js';
import { loadSamples } from '../samples.js';
import { createAsteriskParser } from './index.js';

const D = '[2024-01-01 12:00:00] ';
const A = TRUE_IP;

/**
 * Every template with its client-controlled fields as parameters (To, From, Call-ID, method, user, extension,
 * AOR, peer, dialled extension in the `Ext.` file field). The server-written address is always TRUE_IP.
 */
const TEMPLATES: ReadonlyArray<(f: readonly string[]) => string> = [
  (f) => `${D}NOTICE[1] chan_sip.c: Registration from '${f[0]}' failed for '${A}:5060' - Wrong password`,
  (f) => `${D}NOTICE[1] chan_sip.c: Registration from '<sip:${f[0]}@pbx>' failed for '${A}' - No matching peer found`,
  (f) => `${D}NOTICE[1][C-00000001] chan_sip.c: Call from '${f[0]}' (${A}:5060) to extension '${f[1]}' rejected because extension not found in context 'default'.`,
  (f) => `${D}NOTICE[1] res_pjsip/pjsip_distributor.c: Request '${f[2]}' from '${f[0]}' failed for '${A}:5062' (callid: ${f[1]}) - Failed to authenticate`,
  (f) => `${D}NOTICE[1] res_pjsip/pjsip_distributor.c: Request from '${f[0]}' failed for '${A}:5062' (callid: ${f[1]}) - No matching endpoint found after 5 tries in 2.5 ms`,
  (f) => `${D}NOTICE[1] res_pjsip_session.c: Call from 'anonymous' (UDP:${A}:5060) to extension '${f[0]}' rejected because extension not found in context 'default'.`,
  (f) => `${D}NOTICE[1] res_pjsip_session.c:  anonymous: Call (TCP:${A}:5060) to extension '${f[0]}' rejected because extension not found in context 'default'.`,
  (f) => `${D}WARNING[1] res_pjsip_registrar.c: AOR '${f[0]}' not found for endpoint 'phone1' (${A}:5062)`,
  (f) => `${D}WARNING[1] res_pjsip_registrar.c: AOR '${f[0]}' has no configured max_contacts. Endpoint 'phone1' (${A}:5062) unable to register`,
  (f) => `${D}NOTICE[1] manager.c: ${A} failed to authenticate as '${f[0]}'`,
  (f) => `${D}NOTICE[1] manager.c: ${A} tried to authenticate with nonexistent user '${f[0]}'`,
  (f) => `${D}NOTICE[1] manager.c: ${A} failed to pass IP ACL as '${f[0]}'`,
  (f) => `${D}NOTICE[1] chan_iax2.c: Host ${A} failed to authenticate as ${f[0]}`,
  (f) => `${D}NOTICE[1] chan_iax2.c: Host ${A} failed MD5 authentication for '${f[0]}' (${f[1]} != abc)`,
  (f) => `${D}NOTICE[1] chan_iax2.c: No registration for peer '${f[0]}' (from ${A})`,
  (f) => `${D}WARNING[1][C-00000001] Ext. ${f[0]}: "Rejecting unknown SIP connection from ${A}:5060"`,
  (f) => `${D}VERBOSE[1] chan_sip.c: Registered SIP '100' at ${A}:5060`,
];

describe('asterisk parser: fuzz', () => {
  const parser = createAsteriskParser();

  it('never attributes an address injected into a client-controlled field', () => {
    const cases = fc.tuple(injectedIp, fc.nat(TEMPLATES.length - 1)).chain(([ip, template]) =>
      fc.tuple(fieldWith(ip), fieldWith(ip), fieldWith(ip), fc.nat(3)).map(([x, y, z, mask]) => {
        // Inject into one field or into all of them; the others keep a harmless value.
        const fields = mask === 3 ? [x, y, z] : [x, y, z].map((v, i) => (i === mask ? v : 'INVITE'));
        return { ip, line: (TEMPLATES[template] as (f: readonly string[]) => string)(fields) };
      }),
    );
    fc.assert(
      fc.property(cases, ({ ip, line }) => {
        for (const event of parser.parse(line, fuzzCtx)) {
          assert.notEqual(event.ip, ip, line);
          if (event.ip !== undefined) assert.equal(event.ip, TRUE_IP, line);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on mutated samples, and keeps its invariants', () => {
    const lines = loadSamples('src/parsers/asterisk/asterisk.samples.log').map((s) => s.line);
    fc.assert(fc.property(mutated(lines), (line) => assertWellFormed(parser, line)), { numRuns: 3000 });
  });

  it('never throws on random text behind each known prefix', () => {
    const heads = ['', D, `${D}NOTICE[1] `, `${D}NOTICE[1] chan_sip.c: `, `${D}NOTICE[1] res_pjsip/pjsip_distributor.c: Request '`,
      `${D}WARNING[1] res_pjsip_registrar.c: AOR '`, `${D}WARNING[1] Ext. `, `${D}NOTICE[1] manager.c: `, `${D}NOTICE[1] chan_iax2.c: Host `,
      'Jan  1 12:00:00 pbx asterisk[1]: NOTICE[1]: chan_sip.c:1 in f: ', '<13>', '[', '2024-01-01T'];
    const tail = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 200 }));
    fc.assert(fc.property(fc.constantFrom(...heads), tail, (head, text) => assertWellFormed(parser, head + text)), { numRuns: 3000 });
  });
});
