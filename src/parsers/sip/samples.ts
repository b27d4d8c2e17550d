/**
 * Messages shaped like the tools in the formats reference §5 and RFC 3261 examples, written with CRLF line
 * ends. Test data only.
 */
const crlf = (lines: string[]): string => lines.join('\r\n');

export const SVMAP_OPTIONS = crlf([
  'OPTIONS sip:100@127.0.0.1 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:15060;branch=z9hG4bK-3202958379;rport',
  'Max-Forwards: 70',
  'To: "sipvicious"<sip:100@1.1.1.1>',
  'From: "sipvicious"<sip:100@1.1.1.1>;tag=3766303030303031313363340133303131333632333334',
  'User-Agent: friendly-scanner',
  'Call-ID: 991958991173954026818935',
  'Contact: sip:100@127.0.0.1:15060',
  'CSeq: 1 OPTIONS',
  'Accept: application/sdp',
  'Content-Length: 0',
  '', '',
]);

export const SVWAR_REGISTER = crlf([
  'REGISTER sip:127.0.0.1 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:15061;branch=z9hG4bK-88254416;rport',
  'Max-Forwards: 70',
  'To: "3271232680"<sip:3271232680@127.0.0.1>',
  'From: "3271232680"<sip:3271232680@127.0.0.1>;tag=333237313233323638300131343639333933303536',
  'User-Agent: friendly-scanner',
  'Call-ID: 3992849615',
  'Contact: sip:3271232680@127.0.0.1',
  'CSeq: 1 REGISTER',
  'Accept: application/sdp',
  'Content-Length: 0',
  '', '',
]);

export const SVCRACK_REGISTER = crlf([
  'REGISTER sip:127.0.0.1 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:15063;branch=z9hG4bK-508790575;rport',
  'Max-Forwards: 70',
  'To: "100" <sip:100@127.0.0.1>',
  'From: "100" <sip:100@127.0.0.1>;tag=3130303a3132333401333432373234323235',
  'User-Agent: friendly-scanner',
  'Call-ID: 1054825643',
  'Contact: sip:123@1.1.1.1',
  'CSeq: 2 REGISTER',
  'Accept: application/sdp',
  'Content-Length: 0',
  'Authorization: Digest username="100",realm="127.0.0.1",nonce="awFTsGsBUoSEvMUgy12f2Np6dVzypcGe",uri="sip:127.0.0.1",algorithm=MD5,qop=auth,response="4d7db21200596c16778d175a20f38ce3"',
  '', '',
]);

export const SIPP_REGISTER = crlf([
  'REGISTER sip:192.0.2.10:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.55:5061;branch=z9hG4bK-4242-1-0',
  'From: sipp <sip:sipp@192.0.2.55:5061>;tag=4242SIPpTag001',
  'To: service <sip:service@192.0.2.10:5060>',
  'Call-ID: 1-4242@192.0.2.55',
  'CSeq: 1 REGISTER',
  'Contact: sip:sipp@192.0.2.55:5061',
  'Max-Forwards: 70',
  'Subject: Performance Test',
  'Expires: 3600',
  'Content-Length: 0',
  '', '',
]);

export const CHALLENGE_401 = crlf([
  'SIP/2.0 401 Unauthorized',
  'Via: SIP/2.0/UDP 127.0.0.1:15063;branch=z9hG4bK-508790575;rport=15063;received=203.0.113.9',
  'From: "100" <sip:100@127.0.0.1>;tag=3130303a3132333401333432373234323235',
  'To: "100" <sip:100@127.0.0.1>;tag=as1f2e3d4c',
  'Call-ID: 1054825643',
  'CSeq: 1 REGISTER',
  'Server: Asterisk PBX 18.20.0',
  'WWW-Authenticate: Digest realm="asterisk", nonce="1712345678/0a1b2c3d4e5f", opaque="5c1e7d2a", algorithm=md5, qop="auth"',
  'Content-Length: 0',
  '', '',
]);

export const FORBIDDEN_403 = crlf([
  'SIP/2.0 403 Forbidden',
  'Via: SIP/2.0/UDP 127.0.0.1:15063;branch=z9hG4bK-508790575;rport=15063;received=203.0.113.9',
  'From: "100" <sip:100@127.0.0.1>;tag=3130303a3132333401333432373234323235',
  'To: "100" <sip:100@127.0.0.1>;tag=as7a8b9c0d',
  'Call-ID: 1054825643',
  'CSeq: 2 REGISTER',
  'Server: FreeSWITCH-mod_sofia/1.10.11',
  'Content-Length: 0',
  '', '',
]);

export const REGISTER_OK = crlf([
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bKnashds7;received=198.51.100.20',
  'From: Bob <sips:bob@biloxi.example.com>;tag=a73kszlfl',
  'To: Bob <sips:bob@biloxi.example.com>;tag=1410948204',
  'Call-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com',
  'CSeq: 1 REGISTER',
  'Contact: <sips:bob@client.biloxi.example.com:5061>;expires=3600, <sip:bob@192.0.2.4>;expires=120',
  'Server: Kamailio (5.7.4 (x86_64/linux))',
  'Content-Length: 0',
  '', '',
]);

const SDP = crlf([
  'v=0',
  'o=- 1 1 IN IP4 192.0.2.101',
  's=-',
  'c=IN IP4 192.0.2.101',
  't=0 0',
  'm=audio 49172 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
]);

export const INVITE_WITH_SDP = crlf([
  'INVITE sip:011972598285108@192.0.2.10 SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: <sip:011972598285108@192.0.2.10>',
  'From: "1001" <sip:1001@192.0.2.10>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:1001@192.0.2.101>',
  'User-Agent: sipcli/v1.8',
  'Content-Type: application/sdp',
  `Content-Length: ${Buffer.byteLength(SDP)}`,
  '',
  SDP,
]);
export const INVITE_SDP_BODY = SDP;
