// Runs the MCP conformance suite's server scenarios against the `conformance` example server:
// the released line (@modelcontextprotocol/conformance 0.1.16, pinned in package.json), every
// scenario, and the pre-release line (0.2.0-alpha.12, pinned in next/) with the scenarios the
// 2025-11-25 revision requires.
//
//   cd interop && npm test
//
// The example binaries are looked up in ../target/debug/examples (override with MCP_EXAMPLES_DIR).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { INTEROP_DIR, runNodeBin, startServer } from './lib/harness.mjs';

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

/** The scenarios the pre-release line requires of a 2025-11-25 server, beyond the released ones. */
const NEXT_ONLY = ['server-session-lifecycle'];

const CONFORMANCE_NEXT = join(INTEROP_DIR, 'next', 'node_modules', '.bin', 'conformance');

/** Every scenario passed: each listed one with 0 failed, none failing, a total with 0 failed. */
function assertAllPassed(run, scenarios, report) {
  assert.equal(run.code, 0, report);
  assert.deepEqual([...run.stdout.matchAll(/^✗ (\S+):/gm)].map((m) => m[1]), [], report);
  for (const s of scenarios) {
    assert.match(run.stdout, new RegExp(`^✓ ${s}: \\d+ passed, 0 failed`, 'm'), `${s}\n${report}`);
  }
  assert.match(run.stdout, /Total: \d+ passed, 0 failed/, report);
}

/**
 * The tasks scenarios (the io.modelcontextprotocol/tasks extension) of the 2026-07-28
 * requirement set; `tasks-status-notifications` is skipped by this harness (0 checks), so
 * notifications are tested in tests/it/tasks.rs.
 */
const TASKS_2026 = [
  'tasks-lifecycle', 'tasks-capability-negotiation', 'tasks-wire-fields',
  'tasks-request-state-removal', 'tasks-mrtr-input', 'tasks-request-headers',
  'tasks-dispatch-and-envelope', 'tasks-required-task-error', 'tasks-mrtr-composition',
];

describe('conformance suites against testbins/examples/conformance', () => {
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

  test(`released line (0.1.16): --suite all, ${SCENARIOS.length} scenarios`, { timeout: 240_000 }, async () => {
    const run = await runNodeBin('conformance', ['server', '--url', server.url, '--suite', 'all'], { timeoutMs: 230_000 });
    assertAllPassed(run, SCENARIOS, `${run.output}\n--- server log (tail)\n${server.output().slice(-4000)}`);
  });

  test('pre-release line (0.2.0-alpha.12): --requirements 2025-11-25, every scenario', { timeout: 240_000 }, async () => {
    assert.ok(existsSync(CONFORMANCE_NEXT), `${CONFORMANCE_NEXT} is missing: run npm ci in interop/next`);
    const run = await runNodeBin(
      CONFORMANCE_NEXT,
      ['server', '--url', server.url, '--requirements', '2025-11-25'],
      { timeoutMs: 230_000 },
    );
    assertAllPassed(run, [...SCENARIOS, ...NEXT_ONLY], `${run.output}\n--- server log (tail)\n${server.output().slice(-4000)}`);
  });

  test('pre-release line (0.2.0-alpha.12): --requirements 2026-07-28, every scenario', { timeout: 240_000 }, async () => {
    const run = await runNodeBin(
      CONFORMANCE_NEXT,
      ['server', '--url', server.url, '--requirements', '2026-07-28'],
      { timeoutMs: 230_000 },
    );
    const report = `${run.output}\n--- server log (tail)\n${server.output().slice(-4000)}`;
    const passing = [...run.stdout.matchAll(/^✓ (\S+):/gm)].map((m) => m[1]);
    // 50 scenarios in the requirement set.
    assert.equal(passing.length, 50, `${passing.length} scenarios passed\n${report}`);
    assertAllPassed(run, [
      ...TASKS_2026, 'tools-list', 'tools-call-with-progress', 'caching', 'sep-2164-resource-not-found',
      'http-header-validation', 'json-schema-2020-12', 'dns-rebinding-protection', 'completion-complete',
      'server-stateless', 'input-required-result-multi-round', 'input-required-result-tampered-state',
      'input-required-result-multiple-input-requests', 'input-required-result-capability-check',
      'http-custom-header-server-validation', 'input-required-result-non-tool-request'], report);
    // Extension scenarios are reported apart, and must not fail either.
    assert.match(run.stdout, /Not scored for 2026-07-28: \d+ scenario\(s\) run, 0 failing/, report);
  });
});
