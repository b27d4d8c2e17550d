import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * JSON lines on stdout, which journald stores as they are. Keys that can hold secrets are redacted
 * wherever they appear, so a logged config or error object cannot leak an AMI secret or a password.
 */
export function createLogger(level: string, node?: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: node ? { node } : {},
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['secret', 'password', 'token', 'authKey', 'authorization', 'cookie', '*.secret', '*.password', '*.token', '*.authKey', '*.authorization', '*.cookie'], censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
