// The stdio transport with software nobody here wrote: the MCP Inspector's CLI starts the
// examples as child processes and talks to them over stdio (tools, resources, prompts; the
// OAuth example with no sign-in, as the specification has it for stdio); and the conformance
// suite's server scenarios (the released line, 0.1.16) run against the `conformance` test
// server over stdio, through a relay made of the TypeScript SDK's own transports
// (lib/stdio-relay.mjs: each HTTP session of the suite is one child process, every message
// relayed unchanged). The scenarios about HTTP itself (DNS rebinding, SSE streams and polling)
// would test the relay, not the server, and are left to conformance.test.mjs.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { exampleBinary, runNodeBin, tempDir } from './lib/harness.mjs';
import { startRelay } from './lib/stdio-relay.mjs';

const STDIO_SCENARIOS = [
  'server-initialize', 'ping', 'logging-set-level', 'completion-complete', 'tools-list',
  'tools-call-simple-text', 'tools-call-image', 'tools-call-audio', 'tools-call-embedded-resource',
  'tools-call-mixed-content', 'tools-call-with-logging', 'tools-call-error',
  'tools-call-with-progress', 'tools-call-sampling', 'tools-call-elicitation',
  'elicitation-sep1034-defaults', 'elicitation-sep1330-enums',
  'resources-list', 'resources-read-text', 'resources-read-binary', 'resources-templates-read',
  'resources-subscribe', 'resources-unsubscribe', 'prompts-list', 'prompts-get-simple',
  'prompts-get-with-args', 'prompts-get-embedded-resource', 'prompts-get-with-image',
];

/** `mcp-inspector --cli -e K=V … <command> --format json …args` with a throwaway HOME. */
async function inspector(env, command, args) {
  const home = tempDir('mcp-inspector-home-');
  try {
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    return await runNodeBin(
      'mcp-inspector',
      ['--cli', ...envArgs, command, '--format', 'json', ...args],
      { env: { HOME: home.path }, timeoutMs: 45_000 },
    );
  } finally {
    home.remove();
  }
}

describe('the MCP Inspector CLI over stdio', () => {
  test('quickstart (MCP_TRANSPORT=stdio): tools/list and tools/call', { timeout: 60_000 }, async () => {
    const bin = exampleBinary('quickstart');
    const list = await inspector({ MCP_TRANSPORT: 'stdio' }, bin, ['--method', 'tools/list']);
    assert.equal(list.code, 0, list.output);
    const names = JSON.parse(list.stdout).result.tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['add', 'count_slowly', 'greet', 'search', 'visit'], list.output);
    const add = await inspector({ MCP_TRANSPORT: 'stdio' }, bin,
      ['--method', 'tools/call', '--tool-name', 'add', '--tool-arg', 'a=2', 'b=40']);
    assert.equal(add.code, 0, add.output);
    assert.deepEqual(JSON.parse(add.stdout).result.content, [{ type: 'text', text: '42' }], add.output);
    const read = await inspector({ MCP_TRANSPORT: 'stdio' }, bin,
      ['--method', 'resources/read', '--uri', 'docs://library/1']);
    assert.equal(read.code, 0, read.output);
    assert.match(JSON.parse(read.stdout).result.contents[0].text, /^The MCP specification/, read.output);
  });

  test('quickstart_oauth over stdio: the protected tool runs for the local user, no sign-in', { timeout: 60_000 }, async () => {
    const run = await inspector({ MCP_TRANSPORT: 'stdio', MCP_STDIO_USER: 'inspector-user' },
      exampleBinary('quickstart_oauth'),
      ['--method', 'tools/call', '--tool-name', 'admin-action', '--tool-arg', 'action=audit']);
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(JSON.parse(run.stdout).result.content,
      [{ type: 'text', text: 'inspector-user performed `audit`' }], run.output);
  });
});

describe('conformance server scenarios over stdio (released line 0.1.16)', () => {
  let relay;

  before(async () => {
    relay = await startRelay(exampleBinary('conformance'), ['--stdio']);
  }, { timeout: 30_000 });

  after(async () => {
    await relay?.stop();
  }, { timeout: 20_000 });

  test('every protocol scenario passes over stdio', { timeout: 300_000 }, async () => {
    const run = await runNodeBin('conformance', ['server', '--url', relay.url], { timeoutMs: 280_000 });
    const failing = [...run.stdout.matchAll(/^✗ (\S+):/gm)].map((m) => m[1]);
    const httpOnly = new Set(['dns-rebinding-protection', 'server-sse-multiple-streams', 'server-sse-polling']);
    assert.deepEqual(failing.filter((s) => !httpOnly.has(s)), [], run.output);
    for (const s of STDIO_SCENARIOS) {
      assert.match(run.stdout, new RegExp(`^✓ ${s}: \\d+ passed, 0 failed`, 'm'), `${s}\n${run.output}`);
    }
  });
});
