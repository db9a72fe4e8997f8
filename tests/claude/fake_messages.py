#!/usr/bin/env python3
"""fake_messages.py: the Anthropic Messages API, as much of it as the
real `claude -p` needs to call its Bash tool once, on 127.0.0.1 only.

Usage:
  fake_messages.py --port-file F --log DIR [--model NAME]

Listens on a free loopback port; writes the port to F (atomically) once
it accepts connections. Stop it with SIGTERM.

  POST /v1/messages[?beta=true]   (shared/reference/protocols.md, "AI agent
      hooks"). The script is in the conversation itself:
      - the last user message's text holds a line
        "RUN-BASH: COMMAND": the answer is one tool_use block calling the
        tool named Bash with {"command": COMMAND, "description": "…"},
        stop_reason "tool_use";
      - the last user message carries a tool_result: the answer is the text
        "DONE", stop_reason "end_turn" (the result is what the model saw);
      - anything else (titles, summaries): the text "ok", end_turn.
      With "stream": true the answer is SSE: message_start,
      content_block_start, content_block_delta (input_json_delta or
      text_delta), content_block_stop, message_delta, message_stop.
      Without it, one JSON message. Every answer names --model.
  POST /v1/messages/count_tokens   {"input_tokens": 10}
  anything else                    404, an API error object.

Every request body is written to DIR/NNN.json (in order), and every
tool_result the model was sent to DIR/results.jsonl, one JSON object a
line: {"content": TEXT, "is_error": BOOL}.
"""
import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 8 * 1024 * 1024
lock = threading.Lock()
count = [0]


def text_of(content):
    if isinstance(content, str):
        return content
    out = []
    for block in content or []:
        if isinstance(block, dict) and block.get("type") == "text":
            out.append(block.get("text", ""))
    return "\n".join(out)


def tool_results(content):
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and
            b.get("type") == "tool_result"]


def script(body):
    """The blocks to answer with, and the stop reason."""
    # the last user message (system notes may come after it)
    users = [m for m in body.get("messages") or []
             if isinstance(m, dict) and m.get("role") == "user"]
    last = users[-1] if users else {}
    if last:
        results = tool_results(last.get("content"))
        if results:
            return [("text", "DONE")], "end_turn", results
        for line in text_of(last.get("content")).splitlines():
            if "RUN-BASH: " in line:
                cmd = line.split("RUN-BASH: ", 1)[1]
                return [("tool_use", {"command": cmd,
                                      "description": "Run the command"})], \
                    "tool_use", []
    return [("text", "ok")], "end_turn", []


def block_json(kind, value, i):
    if kind == "tool_use":
        return {"type": "tool_use", "id": "toolu_fake%04d" % i,
                "name": "Bash", "input": value}
    return {"type": "text", "text": value}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-messages/1"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake_messages: " + fmt % args + "\n")

    def send_json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def not_found(self):
        self.send_json(404, {"type": "error", "error": {
            "type": "not_found_error", "message": "not here"}})

    def do_GET(self):
        self.not_found()

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            return None
        try:
            return json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            return None

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        body = self.read_body()
        if body is None or not isinstance(body, dict):
            self.send_json(400, {"type": "error", "error": {
                "type": "invalid_request_error", "message": "bad body"}})
            return
        if path == "/v1/messages/count_tokens":
            self.send_json(200, {"input_tokens": 10})
            return
        if path != "/v1/messages":
            self.not_found()
            return
        with lock:
            count[0] += 1
            n = count[0]
            with open(os.path.join(args.log, "%03d.json" % n), "w") as f:
                json.dump(body, f)
        blocks, stop, results = script(body)
        if results:
            with lock, open(os.path.join(args.log, "results.jsonl"),
                            "a") as f:
                for r in results:
                    f.write(json.dumps({"content": text_of(r.get("content"))
                                        if not isinstance(r.get("content"),
                                                          str)
                                        else r["content"],
                                        "is_error": bool(r.get("is_error"))})
                            + "\n")
        content = [block_json(k, v, n) for k, v in blocks]
        if body.get("stream"):
            self.stream(n, content, stop)
        else:
            self.send_json(200, {"id": "msg_fake%04d" % n, "type": "message",
                                 "role": "assistant", "model": args.model,
                                 "content": content, "stop_reason": stop,
                                 "stop_sequence": None,
                                 "usage": {"input_tokens": 10,
                                           "output_tokens": 5}})

    def event(self, name, obj):
        data = ("event: %s\ndata: %s\n\n" % (name, json.dumps(obj))).encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def stream(self, n, content, stop):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.event("message_start", {"type": "message_start", "message": {
            "id": "msg_fake%04d" % n, "type": "message", "role": "assistant",
            "model": args.model, "content": [], "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 1}}})
        for i, block in enumerate(content):
            if block["type"] == "tool_use":
                start = dict(block, input={})
                delta = {"type": "input_json_delta",
                         "partial_json": json.dumps(block["input"])}
            else:
                start = {"type": "text", "text": ""}
                delta = {"type": "text_delta", "text": block["text"]}
            self.event("content_block_start", {"type": "content_block_start",
                                               "index": i,
                                               "content_block": start})
            self.event("content_block_delta", {"type": "content_block_delta",
                                               "index": i, "delta": delta})
            self.event("content_block_stop", {"type": "content_block_stop",
                                              "index": i})
        self.event("message_delta", {"type": "message_delta", "delta": {
            "stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": 5}})
        self.event("message_stop", {"type": "message_stop"})
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--model", default="claude-fake-model-1")
    args = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
