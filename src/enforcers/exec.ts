import { spawn } from 'node:child_process';
import { swError } from '../core/errors.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs firewall programs. Always an argv array, never a shell string: a target is an address we validated,
 * but nothing from outside ever reaches a shell. Tests point a runner into a network namespace through
 * `prefix` (`ip netns exec NAME`), so the same enforcer code runs against a real kernel without touching the
 * host's ruleset.
 */
export interface CommandRunner {
  /** Resolves with the output on exit code 0; otherwise rejects with SW_ERR_ENFORCER carrying stderr. */
  run(argv: readonly string[], input?: string): Promise<CommandResult>;
  /** Starts a long-running program (e.g. `nft monitor`); the caller reads its stdout and kills it. */
  spawn(argv: readonly string[], options?: { stdin?: boolean }): ReturnType<typeof spawn>;
}

export function commandRunner(prefix: readonly string[] = [], timeoutMs = 60_000): CommandRunner {
  return {
    run(argv, input) {
      const [command, ...args] = [...prefix, ...argv] as [string, ...string[]];
      return new Promise((resolve, reject) => {
        const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
        child.on('error', (error: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          const missing = error.code === 'ENOENT' ? ` (is ${command} installed and on PATH?)` : '';
          reject(swError('SW_ERR_ENFORCER', `cannot run ${argv[0]}: ${error.message}${missing}`, error));
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          const stdout = Buffer.concat(out).toString('utf8');
          const stderr = Buffer.concat(err).toString('utf8').trim();
          if (code === 0) resolve({ stdout, stderr });
          else {
            const why = signal ? `killed by ${signal}` : `exit code ${code}`;
            reject(swError('SW_ERR_ENFORCER', `${argv.slice(0, 3).join(' ')} failed (${why}): ${stderr.slice(0, 2000) || 'no error output'}`));
          }
        });
        child.stdin.on('error', () => {
          // The program may exit before reading all input; its exit code reports the real problem.
        });
        child.stdin.end(input ?? '');
      });
    },
    spawn(argv, options) {
      const [command, ...args] = [...prefix, ...argv] as [string, ...string[]];
      return spawn(command, args, { stdio: [options?.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    },
  };
}
