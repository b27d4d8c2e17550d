import type { AlertChannel } from './channel.js';
import type { WebhookConfig } from './config.js';
import { alertTime, oneLine } from './render.js';
import type { Alert } from './types.js';

/**
 * Alerts by HTTP POST: the alert object as JSON, a Slack message, or a Teams message with an Adaptive Card.
 * The URL is never logged or put into an error: Slack and Teams webhook URLs are credentials. Redirects are
 * refused, so the configured headers (a bearer token) never travel to another address.
 */
export class WebhookChannel implements AlertChannel {
  readonly name: string;
  private readonly host: string;

  constructor(private readonly config: WebhookConfig, index: number, private readonly timeoutMs: number) {
    this.name = `webhook[${index}]`;
    this.host = new URL(config.url).host;
  }

  async deliver(alert: Alert): Promise<void> {
    const response = await fetch(this.config.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.config.headers },
      body: JSON.stringify(webhookBody(alert, this.config.format)),
      redirect: 'error',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    // Read the answer to the end so the connection can be reused; its content does not matter.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new Error(`webhook ${this.host} answered HTTP ${response.status}`);
  }

  async close(): Promise<void> {}
}

export function webhookBody(alert: Alert, format: WebhookConfig['format']): unknown {
  if (format === 'slack') return slackBody(alert);
  if (format === 'teams') return teamsBody(alert);
  return alert;
}

/** Slack mrkdwn reads `<...>` as links and mentions (`<!channel>`): attacker text gets &, < and > escaped. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// Slack refuses a section text longer than 3000 characters.
const clip = (text: string, max = 2900): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function slackBody(alert: Alert): unknown {
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text) } });
  const blocks: unknown[] = [
    section(`*${slackEscape(oneLine(alert.subject))}*\n${slackEscape(alert.what)}`),
    section(`*Evidence*\n${alert.evidence.map((line) => `• ${slackEscape(line)}`).join('\n')}`),
  ];
  if (alert.undo) blocks.push(section(`*Undo*\n\`\`\`${slackEscape(alert.undo)}\`\`\``));
  if (alert.link && /^https?:\/\/[^\s<>|]+$/.test(alert.link)) blocks.push(section(`<${alert.link}|Open in the sipwarden console>`));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `sipwarden ${alert.kind} (${alert.severity}) at ${alertTime(alert.at)}` }] });
  // `text` is what notifications and clients without blocks show.
  return { text: slackEscape(oneLine(alert.subject)), blocks };
}

const TEAMS_COLOUR = { info: 'Accent', warning: 'Warning', critical: 'Attention' } as const;

/**
 * Teams incoming webhooks (Workflows) take a message with an Adaptive Card attachment. Text goes in TextRuns,
 * which Teams never reads as markdown, so attacker text cannot make links or formatting.
 */
function teamsBody(alert: Alert): unknown {
  const text = (value: string, style: Record<string, string | boolean> = {}) => ({
    type: 'RichTextBlock',
    inlines: [{ type: 'TextRun', text: value, ...style }],
  });
  const body = [
    text(oneLine(alert.subject), { weight: 'Bolder', size: 'Medium', color: TEAMS_COLOUR[alert.severity] }),
    text(alert.what),
    text('Evidence', { weight: 'Bolder' }),
    ...alert.evidence.map((line) => text(`• ${line}`)),
  ];
  if (alert.undo) body.push(text('Undo', { weight: 'Bolder' }), text(alert.undo, { fontType: 'Monospace' }));
  body.push(text(`sipwarden ${alert.kind} (${alert.severity}) at ${alertTime(alert.at)}`, { isSubtle: true, size: 'Small' }));
  const actions = alert.link && /^https?:\/\//.test(alert.link) ? [{ type: 'Action.OpenUrl', title: 'Open in the sipwarden console', url: alert.link }] : [];
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body,
          actions,
        },
      },
    ],
  };
}
