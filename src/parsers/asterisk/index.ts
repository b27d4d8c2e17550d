import type { SecurityEvent } from '../../core/event.js';
import { LogLine, Level } from '../asterisk-security/prefix.js';
import { parseSecurityEvent, SECURITY_PATTERNS } from '../asterisk-security/security-event.js';
import type { LineParser, ParseContext } from '../types.js';
import { NO_EVENTS } from '../types.js';
import { parseChanSip } from './chan-sip.js';
import { parseDialplanMiss } from './dialplan.js';
import { FREEPBX_PATTERNS, parseFreepbx } from './freepbx.js';
import { IAX_PATTERNS, parseIax } from './iax.js';
import { MANAGER_PATTERNS, parseManager } from './manager.js';
import { parsePjsipRegistrar, REGISTRAR_PATTERNS } from './pjsip-registrar.js';
import { parsePjsipRequest } from './pjsip-request.js';

const PATTERNS: readonly string[] = [
  'chan_sip-register-failed',
  'chan_sip-dialplan-miss',
  'chan_sip-registered',
  'pjsip-request-failed',
  'pjsip-request-failed-repeated',
  'pjsip-dialplan-miss',
  ...REGISTRAR_PATTERNS,
  ...MANAGER_PATTERNS,
  ...IAX_PATTERNS,
  ...FREEPBX_PATTERNS,
  ...SECURITY_PATTERNS,
];

/**
 * The Asterisk `messages` or `full` log. Most lines are noise (VERBOSE dialplan execution, DEBUG, RTP), so a
 * line is sorted by level and by its source-file field with index checks alone; only a known file and a known
 * message start reach the pattern code. The file field also keeps client text out of the way: a dialplan
 * NoOp() that echoes `Registration from ...` is not chan_sip.c and is never read as one.
 */
export function createAsteriskParser(): LineParser {
  const view = new LogLine();
  return {
    format: 'asterisk',
    server: 'asterisk',
    patterns: PATTERNS,
    parse(line: string, ctx: ParseContext): readonly SecurityEvent[] {
      if (!view.locate(line)) return NO_EVENTS;
      const level = view.level;
      const alert = level === Level.Notice || level === Level.Warning || level === Level.Error;
      let msg: number;
      switch (line.charCodeAt(view.fileStart)) {
        case 99 /* c */:
          if ((msg = view.messageOf('chan_sip.c')) >= 0) {
            return alert || level === Level.Verbose ? parseChanSip(view, msg, ctx) : NO_EVENTS;
          }
          if (alert && (msg = view.messageOf('chan_iax2.c')) >= 0) return parseIax(view, msg, ctx);
          return NO_EVENTS;
        case 114 /* r */:
          if (level === Level.Security) {
            msg = view.messageOf('res_security_log.c');
            return msg >= 0 ? parseSecurityEvent(line, msg, view.at(ctx), ctx) : NO_EVENTS;
          }
          if (!alert) return NO_EVENTS;
          if ((msg = view.messageOf('res_pjsip/pjsip_distributor.c')) >= 0) return parsePjsipRequest(view, msg, ctx);
          if ((msg = view.messageOf('res_pjsip_session.c')) >= 0) return parseDialplanMiss(view, msg, ctx, 'pjsip');
          if ((msg = view.messageOf('res_pjsip_registrar.c')) >= 0) return parsePjsipRegistrar(view, msg, ctx);
          return NO_EVENTS;
        case 109 /* m */:
          return alert && (msg = view.messageOf('manager.c')) >= 0 ? parseManager(view, msg, ctx) : NO_EVENTS;
        case 69 /* E */:
          return alert && line.startsWith('Ext. ', view.fileStart) ? parseFreepbx(view, ctx) : NO_EVENTS;
        default:
          return NO_EVENTS;
      }
    },
  };
}
