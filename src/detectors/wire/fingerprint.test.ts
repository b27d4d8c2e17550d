import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSipMessage } from '../../parsers/sip/message.js';
import { SIPP_REGISTER, SVCRACK_REGISTER, SVMAP_OPTIONS, SVWAR_REGISTER } from '../../parsers/sip/samples.js';
import type { SipMessage } from '../../parsers/sip/types.js';
import { scannerFingerprint } from './fingerprint.js';

function sip(text: string): SipMessage {
  const message = parseSipMessage(text);
  assert.ok(message, 'sample parses');
  return message;
}

/** A sample with its User-Agent replaced, as a scanner that changed its UA would send it. */
function withAgent(text: string, agent: string): SipMessage {
  return sip(text.replace('User-Agent: friendly-scanner', `User-Agent: ${agent}`));
}

describe('scanner fingerprints', () => {
  it('names each SIPVicious tool from its From tag, whatever User-Agent it claims', () => {
    assert.equal(scannerFingerprint(withAgent(SVMAP_OPTIONS, 'Yealink SIP-T46S'))?.tool, 'svmap');
    assert.equal(scannerFingerprint(withAgent(SVWAR_REGISTER, 'Yealink SIP-T46S'))?.tool, 'svwar');
    const crack = scannerFingerprint(withAgent(SVCRACK_REGISTER, 'Yealink SIP-T46S'));
    assert.equal(crack?.tool, 'svcrack');
    assert.equal(crack?.confidence, 'high');
    // The guessed password (1234) is in the tag; it must not reach the reason text.
    assert.doesNotMatch(crack?.reason ?? '', /1234/);
  });

  it('knows svcrack\'s first request by its fixed tag and Contact', () => {
    const first = SVCRACK_REGISTER.replace(/tag=[0-9a-f]+/, 'tag=3206210844').replace(/\r\nAuthorization:[^\r]*/, '');
    assert.equal(scannerFingerprint(withAgent(first, 'Linphone'))?.tool, 'svcrack');
  });

  it('matches the high-confidence User-Agents case-insensitively as substrings', () => {
    const plain = SIPP_REGISTER.replace('CSeq: 1 REGISTER', 'CSeq: 1 REGISTER\r\nUser-Agent: UA');
    for (const [agent, tool] of [['Friendly-Scanner', 'sipvicious'], ['sipcli/v1.8', 'sipcli'], ['VaxSIPUserAgent/3.1', 'vaxsip'], ['pplsip', 'sippts']]) {
      const match = scannerFingerprint(sip(plain.replace('User-Agent: UA', `User-Agent: ${agent}`)));
      assert.equal(match?.tool, tool, agent);
      assert.equal(match?.confidence, 'high', agent);
    }
  });

  it('treats spoofed softphone agents as low confidence and operator lists as high', () => {
    const plain = SIPP_REGISTER.replace('CSeq: 1 REGISTER', 'CSeq: 1 REGISTER\r\nUser-Agent: eyeBeam release 3006o stamp 17551');
    assert.equal(scannerFingerprint(sip(plain))?.confidence, 'low');
    const custom = plain.replace('eyeBeam release 3006o stamp 17551', 'EvilDialer 2.0');
    assert.equal(scannerFingerprint(sip(custom)), undefined);
    assert.equal(scannerFingerprint(sip(custom), ['evildialer'])?.confidence, 'high');
  });

  it('does not flag SIPp, real phones, or responses', () => {
    assert.equal(scannerFingerprint(sip(SIPP_REGISTER)), undefined);
    const phone = SIPP_REGISTER.replace('CSeq: 1 REGISTER', 'CSeq: 1 REGISTER\r\nUser-Agent: Yealink SIP-T46S 66.86.0.15');
    assert.equal(scannerFingerprint(sip(phone)), undefined);
    assert.equal(scannerFingerprint(sip('SIP/2.0 200 OK\r\nUser-Agent: friendly-scanner\r\nCSeq: 1 OPTIONS\r\n\r\n')), undefined);
  });

  it('ignores hex tags that are not SIPVicious-built', () => {
    const phone = SIPP_REGISTER.replace('tag=4242SIPpTag001', 'tag=a1b2c3d4e5f60718293a');
    assert.equal(scannerFingerprint(sip(phone)), undefined);
  });
});
