// Runs selected scenarios of the MCP conformance suite (@modelcontextprotocol/conformance,
// pinned in package.json) against the `conformance` example server.
//
//   cd interop && npm test
//
// The example binaries are looked up in ../target/debug/examples (override with MCP_EXAMPLES_DIR).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { runNodeBin, startServer } from './lib/harness.mjs';

const SCENARIOS = [
  'server-initialize',
  'ping',
  'logging-set-level',
  'tools-list',
  'tools-call-simple-text',
  'tools-call-image',
  'tools-call-audio',
  'tools-call-embedded-resource',
  'tools-call-mixed-content',
  'tools-call-with-logging',
  'tools-call-with-progress',
  'tools-call-error',
  'server-sse-multiple-streams',
  'dns-rebinding-protection',
  'json-schema-2020-12',
  'resources-list',
  'resources-read-text',
  'resources-read-binary',
  'resources-templates-read',
  'resources-subscribe',
  'resources-unsubscribe',
  'prompts-list',
  'prompts-get-simple',
  'prompts-get-with-args',
  'prompts-get-embedded-resource',
  'prompts-get-with-image',
  'tools-call-sampling',
  'tools-call-elicitation',
  'elicitation-sep1034-defaults',
  'elicitation-sep1330-enums',
  'completion-complete',
  'server-sse-polling',
];

const SCENARIO_TIMEOUT_MS = 60_000;

describe('conformance suite against examples/conformance', () => {
  let server;

  before(async () => {
    server = await startServer('conformance');
  }, { timeout: 30_000 });

  after(async () => {
    if (!server) return;
    const { code, signal, ms } = await server.stop();
    // Visible in the TAP output; handy when shutdown gets slow.
    console.log(`conformance server stopped (code ${code}, signal ${signal}) after ${ms} ms`);
  }, { timeout: 20_000 });

  for (const scenario of SCENARIOS) {
    test(scenario, { timeout: SCENARIO_TIMEOUT_MS }, async () => {
      const run = await runNodeBin(
        'conformance',
        ['server', '--url', server.url, '--scenario', scenario],
        // Leave a little slack so our own kill fires before node:test's timeout.
        { timeoutMs: SCENARIO_TIMEOUT_MS - 5_000 },
      );
      const report = `${run.output}\n--- server log (tail)\n${server.output().slice(-4000)}`;
      assert.equal(run.code, 0, `scenario ${scenario} exited with ${run.code}\n${report}`);
      assert.match(run.stdout, /\b0 failed\b/, `scenario ${scenario} did not report "0 failed"\n${report}`);
    });
  }
});
