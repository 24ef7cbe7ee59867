#!/usr/bin/env node
// A "browser" for the `mcp` CLI's sign-in (give it as BROWSER="<node> browser.mjs"): follows the
// authorization URL's redirects, keeping cookies, through the identity provider's auto-approved
// login and consent, until it has loaded the loopback callback named in `redirect_uri`. Each
// URL it is given is appended to $BROWSER_LOG, so tests can count sign-ins.

import { appendFileSync } from 'node:fs';

import { followRedirects } from './oidc.mjs';

const url = process.argv[2];
if (!url) {
  console.error('usage: browser.mjs <authorization url>');
  process.exit(2);
}
if (process.env.BROWSER_LOG) appendFileSync(process.env.BROWSER_LOG, `${url}\n`);
const callback = new URL(url).searchParams.get('redirect_uri');
try {
  await followRedirects(url, callback, { fetchStop: true });
} catch (e) {
  console.error(`browser.mjs: ${e.message}`);
  process.exit(1);
}
