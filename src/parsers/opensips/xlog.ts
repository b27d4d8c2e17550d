/**
 * The opensips.cfg lines the README documents (OpenSIPS 3.x syntax). They print the same `sipwarden: ...` lines
 * as the Kamailio snippet; only the return codes differ, and the `opensips` format knows OpenSIPS's codes.
 */
export const OPENSIPS_RECOMMENDED_XLOG = `# sipwarden: script log lines for OpenSIPS 3.x.
# Keep log_prefix free of request variables ($ci, $fu, $tu, $ua, $hdr(...)): sipwarden trusts the text
# before the log level to be written by OpenSIPS.

# Main request route, before authentication: log the scanner drop.
if ($ua =~ "friendly|scanner|sipcli|sipvicious|VaxSIPUserAgent|pplsip") {
    xlog("L_WARN", "sipwarden: scanner src=$si port=$sp proto=$pr method=$rm ua=[$ua]\\n");
    exit;
}

# Where requests are authenticated (proxy_authorize/proxy_challenge for non-REGISTER requests work the same way).
www_authorize("", "subscriber");
$var(rc) = $rc;
if ($var(rc) < 0) {
    # -3 stale nonce and -4 no credentials are the normal first leg of a digest exchange.
    if ($var(rc) != -3 && $var(rc) != -4) {
        xlog("L_WARN", "sipwarden: auth-failed src=$si port=$sp proto=$pr rc=$var(rc) method=$rm user=[$au] realm=[$ar] ua=[$ua]\\n");
    }
    www_challenge("", "auth");
    exit;
}
xlog("L_NOTICE", "sipwarden: auth-ok src=$si port=$sp proto=$pr method=$rm user=[$au] realm=[$ar] ua=[$ua]\\n");
`;
