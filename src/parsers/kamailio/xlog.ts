/**
 * The kamailio.cfg lines the README documents. The parser's samples and tests feed the lines these statements
 * produce back through the built-in `kamailio` format, so the two cannot drift apart.
 */
export const KAMAILIO_RECOMMENDED_XLOG = `# sipwarden: script log lines for Kamailio (tested with 5.6).
# Keep the core log_prefix free of request pseudo-variables ($ci, $fu, $tu, $ua, $hdr(...)): sipwarden trusts
# the text between the log level and the "<script>: " marker to be written by Kamailio.

# route[REQINIT]: log the scanner drop instead of dropping silently.
if ($ua =~ "friendly|scanner|sipcli|sipvicious|VaxSIPUserAgent|pplsip") {
    xlog("L_WARN", "sipwarden: scanner src=$si port=$sp proto=$pr method=$rm ua=[$ua]\\n");
    exit;
}

# route[AUTH]: replaces "if (!auth_check("$fd", "subscriber", "1")) { auth_challenge("$fd", "0"); exit; }".
$var(rc) = auth_check("$fd", "subscriber", "1");
if ($var(rc) < 0) {
    # -4 stale nonce and -5 no credentials are the normal first leg of a digest exchange.
    if ($var(rc) != -4 && $var(rc) != -5) {
        xlog("L_WARN", "sipwarden: auth-failed src=$si port=$sp proto=$pr rc=$var(rc) method=$rm user=[$au] realm=[$ar] ua=[$ua]\\n");
    }
    auth_challenge("$fd", "0");
    exit;
}
xlog("L_NOTICE", "sipwarden: auth-ok src=$si port=$sp proto=$pr method=$rm user=[$au] realm=[$ar] ua=[$ua]\\n");
`;
