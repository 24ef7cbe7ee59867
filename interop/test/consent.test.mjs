// The OAuth proxy's consent page and the development server's sign-in page in a real
// browser: headless Chromium (Debian's package, installed by scripts/test) driven by
// puppeteer-core (pinned). The proxy's page renders with the server's and the client's names
// and where it sends the user back; "Allow" goes on to the identity provider (oidc-provider)
// and ends at the client's callback with a code; a form posted without the cookie that was
// set with it is refused. Pressing Enter in the sign-in page's user-name field approves
// nothing. Both pages pass axe-core's WCAG 2.1 A/AA and best-practice rules (pinned).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { createRequire } from 'node:module';

import puppeteer from 'puppeteer-core';

import { startServer } from './lib/harness.mjs';
import { startProxy } from './lib/oidc.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core's violations on the page (WCAG 2.0/2.1 A and AA, and best practices). */
async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => globalThis.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.html).join(' | ')}`);
}

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** A client's redirect URI on 127.0.0.1 that records each arrival in `arrivals`. */
async function startCallback(arrivals) {
  const callback = createServer((req, res) => {
    arrivals.push(new URL(req.url, 'http://127.0.0.1'));
    res.end('signed in');
  });
  await new Promise((r) => callback.listen(0, '127.0.0.1', r));
  return callback;
}

/** Headless Chromium (Debian's package). */
function launchBrowser() {
  assert.ok(CHROMIUM, 'Chromium is missing: scripts/test installs it (apt-get install chromium)');
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
}

describe('the consent page in headless Chromium', () => {
  let proxy;
  let browser;
  let callback;
  let mcpUrl = '';
  const arrivals = [];

  before(async () => {
    callback = await startCallback(arrivals);
    proxy = await startProxy({ autoApprove: false });
    mcpUrl = proxy.server.url;
    browser = await launchBrowser();
  }, { timeout: 60_000 });

  after(async () => {
    await browser?.close();
    if (proxy) await proxy.stop();
    callback?.close();
  }, { timeout: 20_000 });

  async function authorizeUrl() {
    const origin = new URL(mcpUrl).origin;
    const redirect = `http://127.0.0.1:${callback.address().port}/cb`;
    const reg = await fetch(`${origin}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [redirect], token_endpoint_auth_method: 'none', client_name: 'Browser <Test> Client' }),
    });
    const body = await reg.text();
    assert.equal(reg.status, 201, body);
    const { client_id: clientId } = JSON.parse(body);
    const url = new URL(`${origin}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: redirect, state: 'browser-state',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
      scope: 'openid profile email', resource: mcpUrl,
    }).toString();
    return url.toString();
  }

  test('it renders, and Allow signs in at the provider and returns to the client', { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    const resp = await page.goto(await authorizeUrl());
    assert.equal(resp.status(), 200);
    assert.equal(await page.title(), 'Allow access to oauth-proxy');
    const text = await page.$eval('body', (b) => b.innerText);
    assert.match(text, /Allow access to oauth-proxy\?/, 'the page names the server');
    assert.match(text, /Browser <Test> Client/, 'the client name, shown as text');
    assert.match(text, /sent back to 127\.0\.0\.1/);
    assert.equal(resp.headers()['x-frame-options'], 'DENY');
    const cookies = await browser.cookies();
    assert.ok(cookies.some((c) => c.name === '__Host-mcp-csrf' && c.secure && c.httpOnly),
      `the browser kept the CSRF cookie: ${JSON.stringify(cookies.map((c) => c.name))}`);
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.click('button[value=approve]'),
    ]);
    await page.waitForFunction(() => document.body.innerText.includes('signed in'), { timeout: 30_000 });
    const back = arrivals.filter((u) => u.pathname === '/cb').at(-1);
    assert.ok(back?.searchParams.get('code'), `the client got a code: ${back}`);
    assert.equal(back.searchParams.get('state'), 'browser-state');
    assert.ok((await browser.cookies()).some((c) => c.name === '__Host-mcp-consent'), 'the approval is remembered');
    await page.close();
  });

  test('the form is refused without its cookie', { timeout: 60_000 }, async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.goto(await authorizeUrl());
    assert.equal(await page.title(), 'Allow access to oauth-proxy');
    await context.deleteCookie(...(await context.cookies()));
    const [resp] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.click('button[value=approve]'),
    ]);
    assert.equal(resp.status(), 403);
    assert.match(await page.$eval('body', (b) => b.innerText), /security token is missing or wrong/);
    await context.close();
  });

  test('the consent page passes an automated accessibility check (axe-core)', { timeout: 60_000 }, async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    // The page's Content-Security-Policy runs no script; the checker is injected around it.
    await page.setBypassCSP(true);
    await page.goto(await authorizeUrl());
    assert.equal(await page.title(), 'Allow access to oauth-proxy');
    assert.deepEqual(await axeViolations(page), []);
    await context.close();
  });
});

describe('the development server\'s sign-in page in headless Chromium', () => {
  let server;
  let browser;
  let callback;
  const arrivals = [];

  before(async () => {
    callback = await startCallback(arrivals);
    server = await startServer('quickstart_oauth');
    browser = await launchBrowser();
  }, { timeout: 60_000 });

  after(async () => {
    await browser?.close();
    if (server) await server.stop();
    callback?.close();
  }, { timeout: 20_000 });

  async function signInUrl() {
    const origin = new URL(server.url).origin;
    const redirect = `http://127.0.0.1:${callback.address().port}/cb`;
    const reg = await fetch(`${origin}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [redirect], token_endpoint_auth_method: 'none', client_name: 'Keyboard Client' }),
    });
    const body = await reg.text();
    assert.equal(reg.status, 201, body);
    const { client_id: clientId } = JSON.parse(body);
    const url = new URL(`${origin}/oauth/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: redirect, state: 'keyboard',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
      scope: 'openid', resource: server.url,
    }).toString();
    return url.toString();
  }

  test('Enter in the user-name field approves nothing; the Approve button does', { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    const resp = await page.goto(await signInUrl());
    assert.equal(resp.status(), 200);
    assert.equal(await page.title(), 'Sign in to Quickstart with OAuth');
    const signInPage = page.url();
    await page.focus('#username');
    await page.keyboard.type('mallory');
    await page.keyboard.press('Enter');
    // Implicit submission would have navigated at once; give it time to show itself.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(page.url(), signInPage, 'still on the sign-in page');
    assert.equal(arrivals.filter((u) => u.pathname === '/cb').length, 0, 'no code reached the client');
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.click('button[value=approve]'),
    ]);
    const back = arrivals.filter((u) => u.pathname === '/cb').at(-1);
    assert.ok(back?.searchParams.get('code'), `Approve sends a code: ${back}`);
    assert.equal(back.searchParams.get('state'), 'keyboard');
    await page.close();
  });

  test('the sign-in page passes an automated accessibility check (axe-core)', { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    await page.setBypassCSP(true);
    await page.goto(await signInUrl());
    assert.equal(await page.title(), 'Sign in to Quickstart with OAuth');
    assert.deepEqual(await axeViolations(page), []);
    await page.close();
  });
});
