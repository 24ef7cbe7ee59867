#!/usr/bin/env python3
"""Mixed traffic for scripts/soak: one thread per kind of caller, each in a loop until the
deadline, counting the answers it gets by status. Writes the counts as JSON to argv[2].

Kinds: a cached valid token, a fresh token per call (k1, then k2 once the file `k2-live`
exists beside the token files), a bad signature, an expired token, a garbage token, the
step-up challenge (a tool that needs a scope the token lacks), a client that hangs up during
a 200 ms call, and one that sends half a request and hangs up.
"""

import http.client
import json
import os
import socket
import sys
import threading
import time

PORT = int(os.environ.get("SOAK_PORT", "3306"))
work, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + seconds


def read(name):
    with open(os.path.join(work, name)) as f:
        return [line.strip() for line in f if line.strip()]


valid, k1, k2 = read("valid.txt")[0], read("k1.txt"), read("k2.txt")
bad, expired = read("bad.txt")[0], read("expired.txt")[0]

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "soak", "version": "1"},
}


def body(tool, arguments):
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": tool, "arguments": arguments, "_meta": META}})


def headers(tool, token):
    return {"content-type": "application/json",
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call",
            "mcp-name": tool, "authorization": f"Bearer {token}"}


counts = {}
lock = threading.Lock()


def count(kind, status):
    with lock:
        per = counts.setdefault(kind, {})
        per[str(status)] = per.get(str(status), 0) + 1


def caller(kind, pick):
    conn, n = None, 0
    while time.monotonic() < deadline:
        tool, token, timeout = pick(n)
        n += 1
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
            args = {"a": 40, "b": 2} if tool == "add" else {}
            conn.request("POST", "/mcp", body(tool, args), headers(tool, token))
            resp = conn.getresponse()
            resp.read()
            count(kind, resp.status)
            if resp.status >= 500:
                count(kind + " 5xx at second", int(seconds - (deadline - time.monotonic())))
        except (socket.timeout, TimeoutError):
            count(kind, "hung up")
            conn.close()
            conn = None
        except (ConnectionError, http.client.HTTPException, OSError) as e:
            count(kind, type(e).__name__)
            if conn is not None:
                conn.close()
            conn = None


def fresh(n):
    pool = k2 if os.path.exists(os.path.join(work, "k2-live")) else k1
    return "add", pool[n % len(pool)], 5


def half_requests():
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", PORT), timeout=5) as s:
                s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: "
                          b"application/json\r\ncontent-length: 400\r\n\r\n{\"jsonrpc\":")
            count("half a request", "sent")
        except OSError as e:
            count("half a request", type(e).__name__)
        time.sleep(0.01)


kinds = {
    "valid (cached)": lambda n: ("add", valid, 5),
    "fresh token": fresh,
    "bad signature": lambda n: ("add", bad, 5),
    "expired": lambda n: ("add", expired, 5),
    "garbage": lambda n: ("add", f"not-a-jwt-{n}", 5),
    "step-up (admin)": lambda n: ("admin", valid, 5),
    "hang up mid-call": lambda n: ("slow", valid, 0.05),
}
threads = [threading.Thread(target=caller, args=(k, p)) for k, p in kinds.items()]
threads.append(threading.Thread(target=half_requests))
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(out, "w") as f:
    json.dump(counts, f, indent=1, sort_keys=True)
