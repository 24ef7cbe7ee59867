// The legacy HTTP+SSE transport (2024-11-05) as the client's fallback: a server made of the
// official TypeScript SDK's Server and its SSEServerTransport (what servers from before
// 2025-03-26 run: GET opens the event stream and names the POST endpoint; POST on the stream's
// URL is refused), reached by the `mcp` CLI at its one URL. The CLI's POST of `initialize` is
// refused with a 4xx, its GET finds the `endpoint` event, and everything goes on over the
// legacy transport: listing, calling, progress.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { EXAMPLES_DIR, tempDir } from './lib/harness.mjs';

const MCP = join(EXAMPLES_DIR, '..', 'mcp');

function mcp(args, home) {
  return new Promise((resolve) => {
    execFile(MCP, args, { env: { ...process.env, HOME: home, NO_COLOR: '1' }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr }));
  });
}

describe('the client falls back to the legacy HTTP+SSE transport (TypeScript SDK server)', () => {
  let server;
  let url;
  const home = tempDir('mcp-legacy-home-');
  const transports = new Map();

  before(async () => {
    server = http.createServer(async (req, res) => {
      const u = new URL(req.url, 'http://127.0.0.1');
      if (req.method === 'GET' && u.pathname === '/sse') {
        const mcp = new Server({ name: 'legacy-sdk-server', version: '0.9.0' }, { capabilities: { tools: {} } });
        mcp.setRequestHandler(ListToolsRequestSchema, async () => ({
          tools: [
            { name: 'add', description: 'Add two numbers', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } },
            { name: 'count', description: 'Count to three with progress', inputSchema: { type: 'object', properties: {} } },
          ],
        }));
        mcp.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
          const { name, arguments: args } = request.params;
          if (name === 'add') return { content: [{ type: 'text', text: String(args.a + args.b) }] };
          const token = request.params._meta?.progressToken;
          for (let i = 1; i <= 3; i += 1) {
            if (token !== undefined) {
              await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: 3 } });
            }
          }
          return { content: [{ type: 'text', text: 'counted' }] };
        });
        const transport = new SSEServerTransport('/messages', res);
        transports.set(transport.sessionId, transport);
        res.on('close', () => transports.delete(transport.sessionId));
        await mcp.connect(transport);
        return;
      }
      if (req.method === 'POST' && u.pathname === '/messages') {
        const t = transports.get(u.searchParams.get('sessionId'));
        if (!t) return res.writeHead(404).end('unknown session');
        return t.handlePostMessage(req, res);
      }
      // What an old server says to the new transport's POST.
      res.writeHead(405, { allow: 'GET' }).end('Method Not Allowed');
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${server.address().port}/sse`;
  });

  after(async () => {
    server?.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
    home.remove();
  });

  test('mcp tools and mcp call reach it at its one URL', { timeout: 60_000 }, async () => {
    const tools = await mcp(['tools', url, '-o', 'json'], home.path);
    assert.equal(tools.code, 0, tools.stderr);
    const names = JSON.parse(tools.stdout).map((t) => t.name).sort();
    assert.deepEqual(names, ['add', 'count']);
    const add = await mcp(['call', url, 'add', '--arg', 'a=2', '--arg', 'b=40'], home.path);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout.trim(), '42');
    const count = await mcp(['call', url, 'count'], home.path);
    assert.equal(count.code, 0, count.stderr);
    assert.equal(count.stdout.trim().split('\n').at(-1), 'counted');
  });
});
