// A Streamable HTTP front for a stdio server, made of the official TypeScript SDK's own
// transports: each HTTP session (the SDK's StreamableHTTPServerTransport) starts its own child
// process (the SDK's StdioClientTransport) and every JSON-RPC message is relayed unchanged
// both ways. It lets the conformance suite, which speaks HTTP only, test a server's protocol
// over stdio: what it checks is what the server wrote on its standard output.
//
// Messages from the server are attached to the HTTP request they belong to (an answer by its
// id, progress by its token, a server request or log during a call to the newest call still
// open), as the server would over HTTP.

import { randomUUID } from 'node:crypto';
import http from 'node:http';

import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

import { childEnv } from './harness.mjs';

export async function startRelay(command, args = [], env = {}) {
  const sessions = new Map();
  const children = new Set();

  async function open() {
    const child = new StdioClientTransport({ command, args, env: childEnv(env), stderr: 'pipe' });
    const inFlight = [];
    const tokens = new Map();
    const front = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => sessions.set(id, front),
    });
    front.onmessage = (msg) => {
      if (msg.method !== undefined && msg.id !== undefined) {
        inFlight.push(msg.id);
        const token = msg.params?._meta?.progressToken;
        if (token !== undefined) tokens.set(token, msg.id);
      }
      child.send(msg).catch(() => {});
    };
    front.onclose = () => {
      if (front.sessionId) sessions.delete(front.sessionId);
      child.close().catch(() => {});
      children.delete(child);
    };
    child.onmessage = (msg) => {
      if (msg.method === undefined) {
        // An answer: to its own request.
        const i = inFlight.indexOf(msg.id);
        if (i >= 0) inFlight.splice(i, 1);
        front.send(msg, { relatedRequestId: msg.id }).catch(() => {});
        return;
      }
      const token = msg.params?.progressToken;
      const related = token !== undefined && tokens.has(token)
        ? tokens.get(token)
        : inFlight[inFlight.length - 1];
      front.send(msg, related === undefined ? {} : { relatedRequestId: related }).catch(() => {});
    };
    child.stderr?.on('data', () => {});
    await child.start();
    children.add(child);
    return front;
  }

  const server = http.createServer(async (req, res) => {
    try {
      const id = req.headers['mcp-session-id'];
      let front = id ? sessions.get(id) : undefined;
      if (!front) {
        if (req.method !== 'POST' || id) {
          res.writeHead(id ? 404 : 400).end();
          return;
        }
        front = await open();
      }
      await front.handleRequest(req, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    async stop() {
      for (const c of children) await c.close().catch(() => {});
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections?.();
    },
  };
}
