// Drives the `quickstart` example server with the MCP Inspector CLI
// (@modelcontextprotocol/inspector, pinned in package.json).
//
// Each Inspector run gets a fresh temporary HOME, because the CLI writes
// ~/.mcp-inspector/storage/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { runNodeBin, startServer, tempDir } from './lib/harness.mjs';

const RUN_TIMEOUT_MS = 45_000;
const TEST_TIMEOUT_MS = 60_000;

/** `mcp-inspector --cli URL --transport http --format json ...args` with a throwaway HOME. */
async function inspector(url, args) {
  const home = tempDir('mcp-inspector-home-');
  try {
    return await runNodeBin(
      'mcp-inspector',
      ['--cli', url, '--transport', 'http', '--format', 'json', ...args],
      { env: { HOME: home.path }, timeoutMs: RUN_TIMEOUT_MS },
    );
  } finally {
    home.remove();
  }
}

/** Parse the single JSON document the CLI prints on stdout with --format json. */
function parseStdout(run) {
  try {
    return JSON.parse(run.stdout);
  } catch (err) {
    assert.fail(`stdout is not one JSON document (${err.message})\n${run.output}`);
  }
}

/** The JSON object lines on stderr (the CLI mixes them with plain-text warnings). */
function stderrJson(run) {
  return run.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });
}

describe('inspector CLI against examples/quickstart', () => {
  let server;

  before(async () => {
    server = await startServer('quickstart');
  }, { timeout: 30_000 });

  after(async () => {
    if (!server) return;
    const { code, signal, ms } = await server.stop();
    console.log(`quickstart server stopped (code ${code}, signal ${signal}) after ${ms} ms`);
  }, { timeout: 20_000 });

  test('tools/list lists the five tools; add requires a and b', { timeout: TEST_TIMEOUT_MS }, async () => {
    const run = await inspector(server.url, ['--method', 'tools/list']);
    assert.equal(run.code, 0, run.output);
    const { result } = parseStdout(run);
    assert.ok(Array.isArray(result?.tools), `result.tools is not an array\n${run.output}`);

    const names = result.tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['add', 'count_slowly', 'greet', 'search', 'visit'], run.output);

    // No schema-portability warnings (the CLI reports them on stderr).
    assert.doesNotMatch(run.stderr, /[1-9]\d* warnings?/, run.output);

    const add = result.tools.find((t) => t.name === 'add');
    assert.equal(add.inputSchema?.type, 'object', run.output);
    assert.deepEqual([...add.inputSchema.required].sort(), ['a', 'b'], run.output);
    assert.equal(add.inputSchema.properties?.a?.type, 'integer', run.output);
    assert.equal(add.inputSchema.properties?.b?.type, 'integer', run.output);
  });

  test('tools/call add a=2 b=40 returns "42"', { timeout: TEST_TIMEOUT_MS }, async () => {
    const run = await inspector(server.url, [
      '--method', 'tools/call', '--tool-name', 'add', '--tool-arg', 'a=2', 'b=40',
    ]);
    assert.equal(run.code, 0, run.output);
    const { result } = parseStdout(run);
    assert.notEqual(result.isError, true, run.output);
    assert.deepEqual(result.content, [{ type: 'text', text: '42' }], run.output);
  });

  test('tools/call greet {"name":"Ada","excited":true} returns "Hello, Ada!"', { timeout: TEST_TIMEOUT_MS }, async () => {
    const run = await inspector(server.url, [
      '--method', 'tools/call', '--tool-name', 'greet',
      '--tool-args-json', JSON.stringify({ name: 'Ada', excited: true }),
    ]);
    assert.equal(run.code, 0, run.output);
    const { result } = parseStdout(run);
    assert.notEqual(result.isError, true, run.output);
    assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }], run.output);
  });

  test('tools/call search query=rust returns structuredContent', { timeout: TEST_TIMEOUT_MS }, async () => {
    const run = await inspector(server.url, [
      '--method', 'tools/call', '--tool-name', 'search', '--tool-arg', 'query=rust',
    ]);
    assert.equal(run.code, 0, run.output);
    const { result } = parseStdout(run);
    const expected = { titles: ['Rust async book', 'Rust API guidelines'], total: 2 };
    assert.notEqual(result.isError, true, run.output);
    assert.deepEqual(result.structuredContent, expected, run.output);
    // The same data is mirrored as JSON text for clients that ignore structuredContent.
    const text = result.content?.find((c) => c.type === 'text')?.text;
    assert.ok(text, `no text content\n${run.output}`);
    assert.deepEqual(JSON.parse(text), expected, run.output);
  });

  test('tools/call count_slowly steps=200 is a tool error (exit 5)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const run = await inspector(server.url, [
      '--method', 'tools/call', '--tool-name', 'count_slowly', '--tool-arg', 'steps=200',
    ]);
    assert.equal(run.code, 5, `expected exit code 5 (tool returned isError)\n${run.output}`);
    const { result } = parseStdout(run);
    assert.equal(result.isError, true, run.output);
    assert.deepEqual(result.content, [{ type: 'text', text: 'steps must be at most 100' }], run.output);
    const errors = stderrJson(run).map((o) => o.error?.code);
    assert.ok(errors.includes('tool_is_error'), `stderr lacks {"error":{"code":"tool_is_error"}}\n${run.output}`);
  });

  test('resources/list and resources/templates/list list the library (#[mcp_resource])', { timeout: TEST_TIMEOUT_MS }, async () => {
    const run = await inspector(server.url, ['--method', 'resources/list']);
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(parseStdout(run).result.resources, [{
      name: 'library', uri: 'docs://library', mimeType: 'text/plain',
      description: "The titles of the library's documents, one per line.",
    }], run.output);
    const templates = await inspector(server.url, ['--method', 'resources/templates/list']);
    assert.equal(templates.code, 0, templates.output);
    assert.deepEqual(parseStdout(templates).result.resourceTemplates, [{
      name: 'document', uriTemplate: 'docs://library/{number}', mimeType: 'text/plain',
      description: 'One document of the library, by number.',
    }], templates.output);
  });

  test('resources/read docs://library/1 reads one document; docs://library/9 is an error', { timeout: TEST_TIMEOUT_MS }, async () => {
    const run = await inspector(server.url, ['--method', 'resources/read', '--uri', 'docs://library/1']);
    assert.equal(run.code, 0, run.output);
    const [content] = parseStdout(run).result.contents;
    assert.equal(content.uri, 'docs://library/1', run.output);
    assert.match(content.text, /^The MCP specification/, run.output);
    const missing = await inspector(server.url, ['--method', 'resources/read', '--uri', 'docs://library/9']);
    assert.notEqual(missing.code, 0, missing.output);
    assert.match(missing.output, /no document 9; the library has 5/, missing.output);
  });

  test('prompts/list and prompts/get summarize (#[mcp_prompt], arguments from parameters)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const run = await inspector(server.url, ['--method', 'prompts/list']);
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(parseStdout(run).result.prompts, [{
      name: 'summarize',
      description: 'Ask the model to summarize a document for an audience.',
      arguments: [
        { name: 'title', description: "The document's title", required: true },
        { name: 'audience', description: 'Who the summary is for (default: engineers)', required: false },
      ],
    }], run.output);
    const got = await inspector(server.url, [
      '--method', 'prompts/get', '--prompt-name', 'summarize', '--prompt-args', 'title=Rust API guidelines', 'audience=managers',
    ]);
    assert.equal(got.code, 0, got.output);
    assert.deepEqual(parseStdout(got).result.messages, [{
      role: 'user',
      content: { type: 'text', text: 'Summarize "Rust API guidelines" in five bullet points for managers.' },
    }], got.output);
  });
});
