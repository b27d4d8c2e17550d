import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { cli } from './helpers.js';
import { chromiumMissing, launchChromium, screenshot, watchPage } from './console/browser.js';
import { authFailed, authOk, HOSTILE_ACCOUNT, HOSTILE_USER_AGENT, startConsoleDaemon, type ConsoleDaemon } from './console/daemon.js';

/**
 * The web console in headless Chromium against a real `sipwarden run`: bans come from a Kamailio log the daemon
 * tails, the console is the one `npm run build` put in dist/web, and every check reads what a user would see.
 * Screenshots of each page land in var/artifacts/console.
 */
const times = (n: number, line: string): string[] => Array.from({ length: n }, () => line);
const activeTargets = (config: string): string[] =>
  (JSON.parse(cli(['list', '--json', '--config', config]).stdout) as { target: string }[]).map((d) => d.target);

async function untilGone(rows: Locator, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await rows.count()) > 0) {
    if (Date.now() > deadline) throw new Error(`still shown after ${timeoutMs} ms: ${(await rows.allTextContents()).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('web console in headless Chromium', { skip: chromiumMissing() }, () => {
  let sw: ConsoleDaemon;
  let browser: Browser;
  let page: Page;
  let seen: ReturnType<typeof watchPage>;

  before(async () => {
    sw = await startConsoleDaemon();
    sw.attack([
      authOk('192.0.2.20', '100'),
      ...times(6, authFailed('203.0.113.50', HOSTILE_ACCOUNT, HOSTILE_USER_AGENT)),
      ...times(5, authFailed('198.51.100.10', '100', 'friendly-scanner')),
      ...times(5, authFailed('198.51.100.11', '101', 'friendly-scanner')),
      ...times(2, authFailed('203.0.113.60', '102', 'sipcli/v1.8')),
    ]);
    for (const target of ['203.0.113.50', '198.51.100.10', '198.51.100.11']) await sw.waitForBan(target);
    // A hand-made ban of an address that logged in successfully: the ticket the dashboard must put first.
    const manual = await fetch(`${sw.url}/api/v1/decisions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sw.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ target: '192.0.2.20', duration: '1h', reason: 'blocked by hand during an incident' }),
    });
    assert.equal(manual.status, 201, await manual.text());
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    seen = watchPage(page);
  });

  after(async () => {
    await browser?.close();
    await sw?.daemon.stop();
  });

  it('logs in with a token; the token is kept nowhere the page can read', async () => {
    await page.goto(sw.url);
    await page.locator('#token').waitFor();
    await screenshot(page, 'login');
    await page.fill('#token', sw.token);
    await page.click('button[type=submit]');
    await page.locator('.top-bar').waitFor();
    const stored = await page.evaluate<string>('JSON.stringify([document.cookie, location.href, {...localStorage}, {...sessionStorage}])');
    assert.ok(!stored.includes(sw.token), `token visible to scripts: ${stored}`);
  });

  it('the dashboard renders the chart, top sources, known-good bans and health with data', async () => {
    await page.locator('[data-testid=top-sources] li').first().waitFor();
    assert.ok(await page.locator('[data-testid=attack-chart] canvas').count() >= 1, 'uPlot canvas');
    const sources = await page.locator('[data-testid=top-sources] li').allTextContents();
    assert.ok(sources.some((row) => row.includes('203.0.113.50') && row.includes('banned')), sources.join('\n'));
    assert.ok(Number(await page.locator('[data-testid=active-bans]').textContent()) >= 4);
    assert.match(await page.locator('#kg-title').locator('..').textContent() ?? '', /192\.0\.2\.20/);
    assert.match(await page.locator('[data-testid=health]').textContent() ?? '', /kam/);
    await screenshot(page, 'dashboard');
  });

  it('search shows the story; the HTML in the User-Agent and account is shown as text', async () => {
    await page.fill('input[type=search]', '203.0.113.50');
    await page.press('input[type=search]', 'Enter');
    await page.locator('[data-testid=verdict]', { hasText: 'BANNED' }).waitFor();
    assert.ok(await page.locator('[data-testid=timeline] li').count() >= 2);
    assert.equal(await page.locator('td.ua').first().textContent(), HOSTILE_USER_AGENT);
    assert.ok((await page.locator('[data-testid=events-table]').textContent() ?? '').includes(HOSTILE_ACCOUNT));
    assert.equal(await page.locator('img').count(), 0, 'no <img> injected');
    assert.equal(await page.evaluate<boolean>("[...document.scripts].some((s) => s.textContent.includes('alert'))"), false);
    assert.deepEqual(seen.dialogs, []);
    await screenshot(page, 'explain');
  });

  it('one-click unban asks for a reason, lifts the ban, and the story shows the audit entry', async () => {
    await page.locator('[data-testid=active-ban] button', { hasText: 'Unban' }).click();
    const dialog = page.locator('dialog[open]');
    assert.equal(await dialog.locator('button.danger').isDisabled(), true, 'no unban without a reason');
    await dialog.locator('textarea').fill('ticket 4711: the customer fixed the phone password');
    await dialog.locator('button.danger').click();
    await page.locator('[data-testid=verdict]', { hasText: 'not banned' }).waitFor();
    const audit = await page.locator('[data-testid=audit]').textContent() ?? '';
    assert.match(audit, /ticket 4711: the customer fixed the phone password/);
    assert.match(audit, /token:console-test/);
    assert.ok(!activeTargets(sw.config).includes('203.0.113.50'), 'the store no longer holds the ban');
    await screenshot(page, 'explain-unbanned');
  });

  it('the decisions list filters, and bulk-unbans every active ban in a prefix', async () => {
    await page.goto(`${sw.url}/#/decisions?active=true`);
    await page.locator('[data-testid=decisions-table]').waitFor();
    const before = await page.locator('[data-testid=decisions-table] tbody').textContent() ?? '';
    assert.match(before, /198\.51\.100\.10/);
    assert.doesNotMatch(before, /203\.0\.113\.50/, 'the revoked ban is not active');
    await page.fill('input[name=bulk-target]', '198.51.100.0/24');
    await page.click('form[aria-label="Bulk unban"] button[type=submit]');
    const dialog = page.locator('dialog[open]');
    await dialog.locator('textarea').fill('scanner range was our own pentest');
    await dialog.locator('button.danger').click();
    await dialog.locator('.outcome', { hasText: 'Revoked 2 bans' }).waitFor();
    await screenshot(page, 'decisions-bulk-unban');
    await dialog.locator('button', { hasText: 'Close' }).click();
    await untilGone(page.locator('[data-testid=decisions-table] tbody tr', { hasText: '198.51.100.' }));
    assert.ok(!activeTargets(sw.config).some((t) => t.startsWith('198.51.100.')));
    await screenshot(page, 'decisions');
  });

  it('the decisions list pages with next: two at a time, then the older ones', async () => {
    await page.goto(`${sw.url}/#/decisions?limit=2`);
    const ids = async (): Promise<string[]> => page.locator('[data-testid=decisions-table] tbody td[data-label="#"]').allTextContents();
    await page.locator('[data-testid=decisions-table]').waitFor();
    const first = await ids();
    assert.equal(first.length, 2);
    await page.click('.pager a:text("Older")');
    await page.waitForFunction(`!location.hash.endsWith('limit=2')`);
    await page.locator('.pager a:text("Newest")').waitFor();
    const second = await ids();
    assert.ok(second.length >= 1 && second.every((id) => Number(id) < Math.min(...first.map(Number))), `${first} then ${second}`);
  });

  it('a new ban reaches the open dashboard through the event stream', async () => {
    await page.goto(`${sw.url}/#/dashboard`);
    await page.locator('[data-testid=recent-decisions]').waitFor();
    sw.attack(times(5, authFailed('203.0.113.70', '103', 'friendly-scanner')));
    await page.locator('[data-testid=recent-decisions] li', { hasText: '203.0.113.70' }).waitFor({ timeout: 15_000 });
  });

  it('a mutation without the CSRF header is refused', async () => {
    const status = await page.evaluate<number>(
      "fetch('/api/v1/unban', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rule: 'bruteforce', reason: 'x' }) }).then((r) => r.status)",
    );
    assert.equal(status, 403);
  });

  it('on a phone screen the navigation folds and nothing scrolls sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const pages = [
      ['#/dashboard', '[data-testid=top-sources] li', 'phone-dashboard'],
      ['#/explain/203.0.113.50', '[data-testid=events-table]', 'phone-explain'],
      ['#/decisions', '[data-testid=decisions-table]', 'phone-decisions'],
    ] as const;
    for (const [route, ready, name] of pages) {
      await page.goto(`${sw.url}/${route}`);
      await page.locator(ready).first().waitFor();
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      assert.ok(overflow <= 0, `${route} scrolls sideways by ${overflow}px`);
      await screenshot(page, name);
    }
    assert.equal(await page.locator('nav#nav').isVisible(), false);
    await page.click('.menu-toggle');
    assert.equal(await page.locator('nav#nav').isVisible(), true);
  });

  it('a viewer reads the story but is offered no unban', async () => {
    const context = await browser.newContext();
    const viewer = await context.newPage();
    const viewerSeen = watchPage(viewer);
    await viewer.goto(`${sw.url}/#/explain/192.0.2.20`);
    await viewer.fill('#token', sw.viewerToken);
    await viewer.click('button[type=submit]');
    await viewer.locator('[data-testid=active-ban]').waitFor();
    assert.equal(await viewer.locator('button', { hasText: /unban/i }).count(), 0);
    await viewer.goto(`${sw.url}/#/decisions`);
    await viewer.locator('[data-testid=decisions-table]').waitFor();
    assert.equal(await viewer.locator('form[aria-label="Bulk unban"]').count(), 0);
    assert.deepEqual([...viewerSeen.dialogs, ...viewerSeen.errors], []);
    await context.close();
  });

  it('logging out ends the session: a reload shows the login again', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${sw.url}/#/dashboard`);
    await page.click('.top-bar button.link');
    await page.locator('#token').waitFor();
    await page.reload();
    await page.locator('#token').waitFor();
    assert.equal(await page.locator('.top-bar').count(), 0);
  });

  it('nothing fired a dialog, threw, or broke the Content-Security-Policy', () => {
    assert.deepEqual(seen.dialogs, []);
    assert.deepEqual(seen.errors, []);
  });
});
