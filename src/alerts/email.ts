import nodemailer, { type Transporter } from 'nodemailer';
import type { AlertChannel } from './channel.js';
import type { EmailConfig } from './config.js';
import { alertText, alertTime, oneLine } from './render.js';
import type { Alert } from './types.js';

const SEVERITY_COLOUR = { info: '#2b6cb0', warning: '#b7791f', critical: '#c53030' } as const;

/** Alerts by mail: a plain-text part, and an HTML part in which every string is escaped (all may be attacker text). */
export class EmailChannel implements AlertChannel {
  readonly name = 'email';
  private readonly transport: Transporter;

  constructor(private readonly config: EmailConfig, timeoutMs: number) {
    const { smtp } = config;
    this.transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: smtp.starttls === 'always',
      ignoreTLS: smtp.starttls === 'never',
      ...(smtp.user !== undefined ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
      tls: { rejectUnauthorized: smtp.rejectUnauthorized },
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      // nodemailer's own logger would print the SMTP dialogue, AUTH lines included.
      logger: false,
      debug: false,
    });
  }

  async deliver(alert: Alert): Promise<void> {
    await this.transport.sendMail({
      from: this.config.from,
      to: this.config.to,
      subject: `[sipwarden] ${oneLine(alert.subject)}`,
      text: alertText(alert),
      html: alertHtml(alert),
      headers: { 'X-Sipwarden-Kind': alert.kind, 'X-Sipwarden-Severity': alert.severity },
    });
  }

  /** Connects, says EHLO, upgrades and logs in as configured, and sends nothing (`sipwarden doctor`). */
  async verify(): Promise<void> {
    await this.transport.verify();
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function alertHtml(alert: Alert): string {
  const parts = [
    `<h2 style="color:${SEVERITY_COLOUR[alert.severity]};font-size:18px">${escapeHtml(alert.subject)}</h2>`,
    `<p>${escapeHtml(alert.what)}</p>`,
    '<h3 style="font-size:15px">Evidence</h3>',
    `<ul>${alert.evidence.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`,
  ];
  if (alert.undo) {
    parts.push('<h3 style="font-size:15px">Undo</h3>', `<pre style="background:#f4f4f4;padding:8px;white-space:pre-wrap">${escapeHtml(alert.undo)}</pre>`);
  }
  // Only http(s): a link is built from the configured console URL, and nothing else may become an href.
  if (alert.link && /^https?:\/\//.test(alert.link)) {
    parts.push(`<p><a href="${escapeHtml(alert.link)}">Open in the sipwarden console</a></p>`);
  }
  parts.push(`<p style="color:#718096;font-size:12px">sipwarden ${escapeHtml(alert.kind)} (${alert.severity}) at ${alertTime(alert.at)}</p>`);
  return `<!doctype html><html><body style="font-family:sans-serif">${parts.join('\n')}</body></html>`;
}
