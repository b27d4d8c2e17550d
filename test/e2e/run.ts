import { spawn } from 'node:child_process';

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when the deadline killed it. */
  timedOut: boolean;
  ms: number;
}

/** A program started in the background: its pid, its result once it ends, and a way to end it early. */
export interface StartedTool {
  pid: number;
  /** Resolves when it ends, however it ends (on its own, by kill(), or by the deadline). */
  result: Promise<ToolResult & { signal: NodeJS.Signals | null }>;
  /** SIGKILL by pid, if it is still running; resolves once it is gone. */
  kill(): Promise<void>;
}

/**
 * Starts one program, never to run longer than `timeoutMs` (then SIGKILL): every attack tool and probe in the
 * end-to-end test is bounded, so a tool that waits for an answer the firewall now drops cannot hang the suite.
 */
export function startTool(argv: readonly string[], options: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv }): StartedTool {
  const started = Date.now();
  const [command, ...args] = argv as [string, ...string[]];
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  let ended = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const result = new Promise<ToolResult & { signal: NodeJS.Signals | null }>((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      ended = true;
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}${error.message}`, timedOut, ms: Date.now() - started });
    });
    child.on('close', (code, signal) => {
      ended = true;
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
  return {
    pid: child.pid ?? -1,
    result,
    async kill() {
      if (ended) return;
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await result;
    },
  };
}

/** Runs one program to its end (see startTool for the deadline). Resolves whatever the exit code; the caller decides what a failure means. */
export function runTool(argv: readonly string[], options: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<ToolResult> {
  return startTool(argv, options).result;
}

/** Polls `probe` until it yields a value, or fails naming `what` and the last value seen. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
