// The OAuth proxy's consent page in a real browser: headless Chromium (Debian's package,
// installed by scripts/test) driven by puppeteer-core (pinned). The page renders with the
// client's name and where it sends the user back; "Allow" goes on to the identity provider
// (oidc-provider) and ends at the client's callback with a code; a form posted without the
// cookie that was set with it is refused.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import puppeteer from 'puppeteer-core';

import { startProxy } from './lib/oidc.mjs';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

describe('the consent page in headless Chromium', () => {
  let proxy;
  let browser;
  let callback;
  let mcpUrl = '';
  const arrivals = [];

  before(async () => {
    assert.ok(CHROMIUM, 'Chromium is missing: scripts/test installs it (apt-get install chromium)');
    callback = createServer((req, res) => {
      arrivals.push(new URL(req.url, 'http://127.0.0.1'));
      res.end('signed in');
    });
    await new Promise((r) => callback.listen(0, '127.0.0.1', r));
    proxy = await startProxy({ autoApprove: false });
    mcpUrl = proxy.server.url;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
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
    assert.equal(await page.title(), 'Allow access');
    const text = await page.$eval('body', (b) => b.innerText);
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
    assert.equal(await page.title(), 'Allow access');
    await context.deleteCookie(...(await context.cookies()));
    const [resp] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.click('button[value=approve]'),
    ]);
    assert.equal(resp.status(), 403);
    assert.match(await page.$eval('body', (b) => b.innerText), /security token is missing or wrong/);
    await context.close();
  });
});
