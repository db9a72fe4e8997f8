#!/usr/bin/env python3
"""fake_socket.py: Slack's Socket Mode WebSocket server for tests, on
127.0.0.1 only (Debian's python3-websockets).

Usage:
  fake_socket.py [--port-file F] [--app-id A] [--ack-timeout S] [--grace S]

Listens on two free ports: the WebSocket W and a control API C. Once both
accept connections it prints "PORT W C" on stdout (and writes "W C" to F,
atomically). Stop it with SIGTERM. fake_slack.py's apps.connections.open
hands out ws://127.0.0.1:W/link/?ticket=... (its --socket-url).

The wire format of shared/reference/protocols.md, "Slack Socket Mode":

  Connect   any path with a non-empty ?ticket=; the first frame is
            {"type":"hello","num_connections":N,"debug_info":{...},
             "connection_info":{"app_id":A}}.
  Envelope  {"envelope_id":UUID,"type":"interactive","payload":{...},
             "accepts_response_payload":false} (type and payload as the
            test sends them; "retry_attempt"/"retry_reason" on a redelivery).
  Ack       the client sends {"envelope_id":UUID} (and maybe "payload") on
            the same connection. An envelope not acknowledged within
            --ack-timeout seconds (3), or whose connection closed first,
            is delivered again, with the same envelope_id and retry_attempt
            one higher, on the newest connection once it has said hello.
  Disconnect {"type":"disconnect","reason":R,"debug_info":{"host":...}};
            the fake closes that connection --grace seconds later (10, as
            Slack documents roughly) unless the client closed it first.

Control API, JSON in and out:
  POST /_test/send        {payload, type?, drop?, ignore_acks?} ->
                          {envelope_id}: sends an envelope on the newest
                          connection; drop: that connection closes at once,
                          before any ack is read; ignore_acks: N acks of it
                          are lost, so that it is delivered again
  POST /_test/disconnect  {reason}: a disconnect on the newest connection
  POST /_test/close       the newest connection closes, no disconnect first
  GET  /_test/state       {"connections": accepted so far, "open": N,
                          "hellos": N, "acks": [envelope ids acked, in order],
                          "late": [acked after the timeout], "ack_ms": {id:
                          ms from the last delivery to its ack}, "pending": [ids],
                          "deliveries": {id: times sent}, "bad": [frames that
                          are not a valid ack], "tickets": [...]}
"""
import argparse
import asyncio
import json
import os
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets


class Fake:
    def __init__(self, opts):
        self.opts = opts
        self.loop = None
        self.conns = []  # open connections that said hello, oldest first
        self.accepted = 0
        self.hellos = 0
        self.acks = []
        self.late = []
        self.ack_ms = {}
        self.bad = []
        self.tickets = []
        self.pending = {}  # id -> {"env", "sent", "ws"}
        self.deliveries = {}

    def newest(self):
        return self.conns[-1] if self.conns else None

    async def deliver(self, env_id, ws):
        p = self.pending[env_id]
        env = dict(p["env"])
        n = self.deliveries.get(env_id, 0)
        if n > 0:
            env["retry_attempt"] = n
            env["retry_reason"] = "timeout"
        self.deliveries[env_id] = n + 1
        p["sent"] = time.monotonic()
        p["ws"] = ws
        try:
            await ws.send(json.dumps(env))
        except websockets.ConnectionClosed:
            p["ws"] = None

    async def redeliver(self):
        """Unacknowledged envelopes go again on the newest connection."""
        while True:
            await asyncio.sleep(0.1)
            ws = self.newest()
            if ws is None:
                continue
            now = time.monotonic()
            for env_id, p in list(self.pending.items()):
                if p["ws"] is None or p["ws"] not in self.conns or \
                        now - p["sent"] > self.opts.ack_timeout:
                    await self.deliver(env_id, ws)

    def on_frame(self, ws, text):
        try:
            msg = json.loads(text)
        except ValueError:
            self.bad.append(text)
            return
        env_id = msg.get("envelope_id") if isinstance(msg, dict) else None
        if not isinstance(env_id, str) or \
                set(msg) - {"envelope_id", "payload"}:
            self.bad.append(text)
            return
        p = self.pending.get(env_id)
        if p is None or p["ws"] is not ws:
            self.bad.append(text)  # unknown, or acked on another connection
            return
        if p["ignore"] > 0:
            p["ignore"] -= 1
            return
        waited = time.monotonic() - p["sent"]
        self.ack_ms[env_id] = round(waited * 1000, 3)
        if waited > self.opts.ack_timeout:
            self.late.append(env_id)
        del self.pending[env_id]
        self.acks.append(env_id)

    async def handler(self, ws, path=None):
        path = path if path is not None else ws.path
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        ticket = (query.get("ticket") or [""])[0]
        self.accepted += 1
        if not ticket:
            await ws.close(code=1008, reason="no ticket")
            return
        self.tickets.append(ticket)
        await ws.send(json.dumps({
            "type": "hello", "num_connections": len(self.conns) + 1,
            "debug_info": {"host": "applink-fake-1", "build_number": 1,
                           "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.opts.app_id}}))
        self.hellos += 1
        self.conns.append(ws)
        try:
            async for text in ws:
                if isinstance(text, str):
                    self.on_frame(ws, text)
                else:
                    self.bad.append("<binary>")
        except websockets.ConnectionClosed:
            pass
        finally:
            if ws in self.conns:
                self.conns.remove(ws)

    # control, run in the event loop
    async def c_send(self, d):
        ws = self.newest()
        if ws is None:
            return 409, {"ok": False, "error": "no_connection"}
        env_id = str(uuid.uuid4())
        env = {"envelope_id": env_id, "type": d.get("type", "interactive"),
               "payload": d.get("payload", {}),
               "accepts_response_payload": False}
        self.pending[env_id] = {"env": env, "sent": 0, "ws": None,
                                "ignore": int(d.get("ignore_acks", 0))}
        await self.deliver(env_id, ws)
        if d.get("drop"):
            self.conns.remove(ws)
            ws.transport.abort()
        return 200, {"ok": True, "envelope_id": env_id}

    async def c_disconnect(self, d):
        ws = self.newest()
        if ws is None:
            return 409, {"ok": False, "error": "no_connection"}
        await ws.send(json.dumps({
            "type": "disconnect", "reason": d.get("reason", "warning"),
            "debug_info": {"host": "applink-fake-1"}}))

        async def later():
            await asyncio.sleep(self.opts.grace)
            await ws.close()
        asyncio.ensure_future(later())
        return 200, {"ok": True}

    async def c_close(self, d):
        ws = self.newest()
        if ws is None:
            return 409, {"ok": False, "error": "no_connection"}
        self.conns.remove(ws)
        ws.transport.abort()
        return 200, {"ok": True}

    async def c_state(self, d):
        return 200, {"connections": self.accepted, "open": len(self.conns),
                     "hellos": self.hellos, "acks": self.acks,
                     "late": self.late, "ack_ms": self.ack_ms,
                     "pending": list(self.pending),
                     "deliveries": self.deliveries, "bad": self.bad,
                     "tickets": self.tickets}


class Control(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def handle_any(self):
        fake = self.server.fake
        name = self.path.partition("?")[0]
        fn = {"/_test/send": fake.c_send, "/_test/disconnect":
              fake.c_disconnect, "/_test/close": fake.c_close,
              "/_test/state": fake.c_state}.get(name)
        n = int(self.headers.get("Content-Length") or 0)
        try:
            d = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            d = None
        if fn is None or not isinstance(d, dict):
            status, out = 404 if fn is None else 400, {"ok": False}
        else:
            fut = asyncio.run_coroutine_threadsafe(fn(d), fake.loop)
            status, out = fut.result(10)
        body = json.dumps(out).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = handle_any


async def run(opts):
    fake = Fake(opts)
    fake.loop = asyncio.get_running_loop()
    server = await websockets.serve(fake.handler, "127.0.0.1", 0,
                                    ping_interval=None)
    wport = server.sockets[0].getsockname()[1]
    ctl = ThreadingHTTPServer(("127.0.0.1", 0), Control)
    ctl.daemon_threads = True
    ctl.fake = fake
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    cport = ctl.server_address[1]
    if opts.port_file:
        with open(opts.port_file + ".tmp", "w") as f:
            f.write("%d %d\n" % (wport, cport))
        os.rename(opts.port_file + ".tmp", opts.port_file)
    print("PORT %d %d" % (wport, cport), flush=True)
    await fake.redeliver()


def main():
    ap = argparse.ArgumentParser(description="Slack Socket Mode for tests")
    ap.add_argument("--port-file")
    ap.add_argument("--app-id", default="A0FAKE")
    ap.add_argument("--ack-timeout", type=float, default=3.0)
    ap.add_argument("--grace", type=float, default=10.0)
    opts = ap.parse_args()
    try:
        asyncio.run(run(opts))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
