import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { decodeHep, type HepResult } from './decode.js';
import { chunk, encodeHep3, encodeHepLegacy, hep3, sampleChunks, u16, u8, type HepSample } from './testing.js';

/** HEPSPEC rev. 37's example, byte for byte (reference section 4.1). */
const SPEC_EXAMPLE = Buffer.from(
  [
    '48 45 50 33',
    '00 71',
    '00 00 00 01 00 07 02',
    '00 00 00 02 00 07 11',
    '00 00 00 03 00 0a d4 ca 00 01',
    '00 00 00 04 00 0a 52 74 00 d3',
    '00 00 00 07 00 08 2e ea',
    '00 00 00 08 00 08 13 c4',
    '00 00 00 09 00 0a 4e 49 82 cb',
    '00 00 00 0a 00 0a 00 01 d4 c0',
    '00 00 00 0b 00 07 01',
    '00 00 00 0c 00 0a 00 00 00 e4',
    '00 00 00 0f 00 14 49 4e 56 49 54 45 20 73 69 70 3a 62 6f 62',
  ]
    .join(' ')
    .replace(/ /g, ''),
  'hex',
);

const sample: HepSample = { srcIp: '203.0.113.9', dstIp: '192.0.2.1', srcPort: 5080, dstPort: 5060 };

function errorOf(result: HepResult): string {
  assert.equal(result.ok, false, 'expected an error');
  return result.ok ? '' : result.error;
}

function frameOf(result: HepResult) {
  if (!result.ok) assert.fail(`expected a frame, got "${result.error}"`);
  return result.frame;
}

describe('decodeHep: HEPv3', () => {
  it('decodes the spec example to exactly its fields', () => {
    assert.equal(SPEC_EXAMPLE.length, 113);
    assert.deepEqual(frameOf(decodeHep(SPEC_EXAMPLE)), {
      version: 3,
      family: 4,
      protocol: 17,
      srcIp: '212.202.0.1',
      dstIp: '82.116.0.211',
      srcPort: 12010,
      dstPort: 5060,
      timestampMs: 1313440459120,
      protoType: 1,
      captureId: 228,
      payload: Buffer.from('INVITE sip:bob'),
      unknownChunks: 0,
    });
  });

  it('accepts the EEP3 magic', () => {
    const eep = Buffer.from(SPEC_EXAMPLE);
    eep.write('E', 0, 'latin1');
    assert.equal(frameOf(decodeHep(eep)).srcIp, '212.202.0.1');
  });

  it('decodes IPv6 addresses to canonical text, and a mapped IPv4 to IPv4', () => {
    const frame = frameOf(decodeHep(encodeHep3({ srcIp: '2001:db8:0:0:0:0:0:1', dstIp: '2001:db8::5060' })));
    assert.equal(frame.family, 6);
    assert.equal(frame.srcIp, '2001:db8::1');
    assert.equal(frame.dstIp, '2001:db8::5060');
    const mapped = frameOf(decodeHep(encodeHep3({ srcIp: '::ffff:c000:0201', dstIp: '2001:db8::1' })));
    assert.equal(mapped.srcIp, '192.0.2.1');
    assert.equal(mapped.family, 4);
  });

  it('reads the optional chunks and counts vendor and unknown ones', () => {
    const chunks = sampleChunks({ ...sample, correlationId: 'abc@host', nodeName: 'node1', vlan: 42, authKey: 'pw' });
    chunks.splice(2, 0, chunk(0x0001, 'FS', 0x0001), chunk(0x0029, 'group'), chunk(0x0018, u8(0)));
    const frame = frameOf(decodeHep(hep3(chunks)));
    assert.equal(frame.correlationId, 'abc@host');
    assert.equal(frame.nodeName, 'node1');
    assert.equal(frame.vlan, 42);
    assert.equal(JSON.stringify(frame).includes('pw'), false, 'the auth key never reaches the frame');
    assert.equal(frame.unknownChunks, 3);
  });

  it('leaves the timestamp out when the sender sent zero', () => {
    assert.equal(frameOf(decodeHep(encodeHep3({ ...sample, seconds: 0, micros: 0 }))).timestampMs, undefined);
  });

  it('inflates gzip and zlib compressed payloads', () => {
    const sip = 'REGISTER sip:192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.9\r\n\r\n';
    for (const compressedPayload of [gzipSync(sip), deflateSync(sip)]) {
      assert.equal(frameOf(decodeHep(encodeHep3({ ...sample, compressedPayload }))).payload.toString(), sip);
    }
  });

  it('rejects a decompression bomb over the limit', () => {
    const bomb = gzipSync(Buffer.alloc(10_000_000));
    assert.ok(bomb.length < 65_000);
    assert.match(errorOf(decodeHep(encodeHep3({ ...sample, compressedPayload: bomb }))), /inflates beyond the 65535-byte limit/);
    const small = gzipSync(Buffer.alloc(2000));
    assert.match(errorOf(decodeHep(encodeHep3({ ...sample, compressedPayload: small }), { maxBytes: 1000 })), /1000-byte/);
    assert.match(errorOf(decodeHep(encodeHep3({ ...sample, compressedPayload: Buffer.from('nope') }))), /not valid zlib/);
  });
});

describe('decodeHep: auth key', () => {
  it('accepts the configured key', () => {
    assert.equal(frameOf(decodeHep(encodeHep3({ ...sample, authKey: 's3cret' }), { authKey: 's3cret' })).srcIp, sample.srcIp);
  });

  it('rejects a frame without the key, with another key, or with a prefix of it', () => {
    assert.match(errorOf(decodeHep(encodeHep3(sample), { authKey: 's3cret' })), /no 0x000e chunk/);
    for (const authKey of ['wrong!', 's3cre', 's3cret!', '']) {
      assert.equal(errorOf(decodeHep(encodeHep3({ ...sample, authKey }), { authKey: 's3cret' })), 'auth key does not match');
    }
  });

  it('rejects HEPv1/v2 when a key is required, as they cannot carry one', () => {
    assert.match(errorOf(decodeHep(encodeHepLegacy(2, sample), { authKey: 'k' })), /HEPv2 carries no auth key/);
  });
});

describe('decodeHep: malformed frames are errors, never throws', () => {
  const valid = encodeHep3(sample);
  const withTotal = (total: number): Buffer => {
    const copy = Buffer.from(valid);
    copy.writeUInt16BE(total, 4);
    return copy;
  };
  const replace = (type: number, replacement: Buffer[]): Buffer =>
    hep3(sampleChunks(sample).flatMap((c) => (c.readUInt16BE(2) === type ? replacement : [c])));

  const cases: [string, Buffer, RegExp][] = [
    ['bad magic', Buffer.concat([Buffer.from('HEP4'), valid.subarray(4)]), /bad magic/],
    ['empty packet', Buffer.alloc(0), /bad magic/],
    ['header cut short', valid.subarray(0, 5), /shorter than the 6-byte/],
    ['total length bigger than the buffer', withTotal(valid.length + 1), /does not match/],
    ['total length smaller than 6', withTotal(5), /smaller than the 6-byte header/],
    ['total length smaller than the buffer', withTotal(valid.length - 1), /does not match/],
    ['chunk length below 6 (would loop)', hep3([Buffer.from('0000000f0000', 'hex')]), /length 0, below 6/],
    ['chunk overrunning the frame', hep3([...sampleChunks(sample), Buffer.from('0000000f00ff41', 'hex')]), /overruns the frame/],
    ['truncated chunk header', hep3([...sampleChunks(sample), Buffer.from('0000', 'hex')]), /truncated chunk header/],
    ['FreeSWITCH 4-byte IPv6 source', replace(0x0003, [chunk(0x0005, Buffer.from([192, 0, 2, 1]))]), /^ipv6 address chunk of 4 bytes$/],
    ['16-byte IPv4 source', replace(0x0003, [chunk(0x0003, Buffer.alloc(16))]), /^ipv4 address chunk of 16 bytes$/],
    ['3-byte port', replace(0x0007, [chunk(0x0007, Buffer.alloc(3))]), /^port chunk of 3 bytes$/],
    ['missing source address', replace(0x0003, []), /^missing source address$/],
    ['missing destination address', replace(0x0004, []), /^missing destination address$/],
    ['missing payload', replace(0x000f, []), /^missing payload$/],
    ['two payloads', replace(0x000f, [chunk(0x000f, 'a'), chunk(0x0010, deflateSync('b'))]), /both a payload/],
    ['duplicate source address', replace(0x0003, [chunk(0x0003, Buffer.alloc(4)), chunk(0x0003, Buffer.alloc(4))]), /duplicate chunk 0x0003/],
    ['packet over maxBytes', Buffer.alloc(70_000, 0x48), /exceeds the 65535-byte limit/],
  ];
  for (const [name, packet, expected] of cases) {
    it(name, () => assert.match(errorOf(decodeHep(packet)), expected));
  }

  it('random buffers never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const result = decodeHep(Buffer.from(bytes));
        assert.equal(typeof result.ok, 'boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('random buffers behind a HEP3 header never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        decodeHep(hep3([Buffer.from(bytes)]));
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated valid frames never throw', () => {
    const frames = [
      SPEC_EXAMPLE,
      encodeHep3({ srcIp: '2001:db8::1', dstIp: '2001:db8::2', authKey: 'k', correlationId: 'c', vlan: 1 }),
      encodeHep3({ ...sample, compressedPayload: gzipSync('INVITE sip:x SIP/2.0\r\n\r\n') }),
      encodeHepLegacy(1, sample),
      encodeHepLegacy(2, { srcIp: '2001:db8::1', dstIp: '2001:db8::2' }),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...frames),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        (frame, flips, cut) => {
          const mutated = Buffer.from(frame);
          for (const [at, value] of flips) mutated[at % mutated.length] = value;
          decodeHep(mutated, { authKey: 'k' });
          decodeHep(mutated.subarray(0, cut % (mutated.length + 1)));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('decodeHep: HEPv1/v2 (Kamailio siptrace hep_version 1/2)', () => {
  it('decodes HEPv1 over IPv4', () => {
    const frame = frameOf(decodeHep(encodeHepLegacy(1, { ...sample, payload: 'INVITE sip:1@x SIP/2.0\r\n\r\n' })));
    assert.deepEqual(frame, {
      version: 1,
      family: 4,
      protocol: 17,
      srcIp: '203.0.113.9',
      dstIp: '192.0.2.1',
      srcPort: 5080,
      dstPort: 5060,
      protoType: 1,
      captureId: 0,
      payload: Buffer.from('INVITE sip:1@x SIP/2.0\r\n\r\n'),
      unknownChunks: 0,
    });
  });

  it('decodes HEPv2 over IPv6 with its little-endian time header', () => {
    const packet = encodeHepLegacy(2, { srcIp: '2001:db8::9', dstIp: '2001:db8::1', seconds: 1313440459, micros: 120000, captureId: 7 });
    const frame = frameOf(decodeHep(packet));
    assert.equal(frame.version, 2);
    assert.equal(frame.family, 6);
    assert.equal(frame.srcIp, '2001:db8::9');
    assert.equal(frame.timestampMs, 1313440459120);
    assert.equal(frame.captureId, 7);
    assert.ok(frame.payload.toString().startsWith('OPTIONS sip:'));
  });

  it('rejects a short header, an unknown family, a wrong header length and an empty payload', () => {
    assert.match(errorOf(decodeHep(Buffer.from([1, 16, 2]))), /shorter than its 8-byte header/);
    const badFamily = encodeHepLegacy(1, sample);
    badFamily[2] = 7;
    assert.match(errorOf(decodeHep(badFamily)), /address family 7/);
    const badLength = encodeHepLegacy(1, sample);
    badLength[1] = 40;
    assert.match(errorOf(decodeHep(badLength)), /header length 40, expected 16/);
    assert.equal(errorOf(decodeHep(encodeHepLegacy(2, { ...sample, payload: '' }))), 'missing payload');
  });
});

describe('testing encoder', () => {
  it('u16 chunks are 8 bytes long', () => assert.equal(chunk(7, u16(1)).length, 8));
});
