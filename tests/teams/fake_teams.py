#!/usr/bin/env python3
"""A loopback Microsoft Teams for the broker's bot, as Microsoft documents it.

    fake_teams.py STATE-DIR

Serves, on one loopback port written to STATE-DIR/port:
  GET  /v1/.well-known/openidconfiguration   Bot Framework's OpenID metadata
  GET  /v1/.well-known/keys                  its JWKS, with the fake's own keys:
       "msteams" (endorsed for msteams), "skype" (endorsed for skype only);
       a third key, "unknown", signs but is published only once rotated
  POST /TENANT/oauth2/v2.0/token             Entra ID client credentials
  POST /v3/conversations/CONV/activities     Bot Connector: a new activity
  PUT  /v3/conversations/CONV/activities/ID  Bot Connector: an update
  POST /workflows/WF/triggers/manual/paths/invoke?...&sig=SIG
                                             a Workflows webhook ("When a
       Teams webhook request is received"): 202, no body; a wrong sig 401
The private keys are written to STATE-DIR/KID.pem for teams_client.py.

Control, for the tests:
  GET  /_control/activities   every activity received, oldest first
  POST /_control/throttle?n=N the next N connector calls answer 429,
                              Retry-After: 1
  POST /_control/rotate       publish the key "unknown" from now on
  POST /_control/slow?s=S     the key set answers S seconds late (counted
                              when asked)
  GET  /_control/stats        {"tokens": token requests, "throttled": 429s,
                              "jwks": key set fetches}
  GET  /_control/workflow     every webhook post: {"query", "headers", "body"}
  POST /_control/workflow_fail?status=S&n=N
                              the next N webhook posts answer S, with
                              Retry-After: 1
"""
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

APP_ID = os.environ.get("TEAMS_APP_ID", "11111111-2222-3333-4444-555555555555")
APP_SECRET = os.environ.get("TEAMS_APP_SECRET", "app-secret~value")
TOKEN = "bot-connector-token-0001"
STATE = sys.argv[1]
lock = threading.Lock()
activities = []
knobs = {"throttle": 0, "throttled": 0, "tokens": 0, "next": 1, "jwks": 0,
         "wf_fail": 0, "wf_status": 500, "slow": 0.0}
workflow = []
WF_SIG = "fake-workflow-sig"


def b64u_int(n):
    import base64
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_key(kid):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(os.path.join(STATE, kid + ".pem"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    pub = key.public_key().public_numbers()
    return {"kty": "RSA", "use": "sig", "kid": kid, "x5t": kid,
            "n": b64u_int(pub.n), "e": b64u_int(pub.e),
            "x5c": ["MIIfake"]}


KEYS = []
LATER = {}
for kid, endorse in (("msteams", ["msteams", "skype"]),
                     ("skype", ["skype"]), ("unknown", None)):
    k = make_key(kid)
    if endorse is not None:
        k["endorsements"] = endorse
        KEYS.append(k)
    else:
        k["endorsements"] = ["msteams"]
        LATER[kid] = k


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake_teams: " + fmt % args + "\n")

    def answer(self, status, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n)

    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/v1/.well-known/openidconfiguration":
            self.answer(200, {
                "issuer": "https://api.botframework.com",
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": self.base() + "/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"]})
        elif path == "/v1/.well-known/keys":
            with lock:
                knobs["jwks"] += 1
                slow = knobs["slow"]
            if slow:
                time.sleep(slow)
            with lock:
                self.answer(200, {"keys": KEYS})
        elif path == "/_control/activities":
            with lock:
                self.answer(200, activities)
        elif path == "/_control/workflow":
            with lock:
                self.answer(200, workflow)
        elif path == "/_control/stats":
            with lock:
                self.answer(200, {"tokens": knobs["tokens"],
                                  "throttled": knobs["throttled"],
                                  "jwks": knobs["jwks"]})
        else:
            self.answer(404, {"error": "not found"})

    def token(self):
        form = urllib.parse.parse_qs(self.body().decode())
        want = {"grant_type": ["client_credentials"], "client_id": [APP_ID],
                "client_secret": [APP_SECRET],
                "scope": ["https://api.botframework.com/.default"]}
        if form != want:
            self.answer(401, {"error": "invalid_client",
                              "error_description": "AADSTS7000215"})
            return
        with lock:
            knobs["tokens"] += 1
        self.answer(200, {"token_type": "Bearer", "expires_in": 3599,
                          "ext_expires_in": 3599, "access_token": TOKEN})

    def connector(self, method):
        parts = urllib.parse.urlsplit(self.path).path.split("/")
        # /v3/conversations/CONV/activities[/ID]
        if len(parts) not in (5, 6) or parts[1:3] != ["v3", "conversations"] \
                or parts[4] != "activities":
            self.answer(404, {"error": {"code": "BadSyntax"}})
            return
        raw = self.body()
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            self.answer(401, {"message": "Authorization has been denied"})
            return
        with lock:
            if knobs["throttle"] > 0:
                knobs["throttle"] -= 1
                knobs["throttled"] += 1
                self.answer(429, {"error": {"code": "Throttled"}},
                            [("Retry-After", "1")])
                return
            act = json.loads(raw)
            if method == "POST":
                aid = "1%012d" % knobs["next"]
                knobs["next"] += 1
            else:
                aid = urllib.parse.unquote(parts[5])
            activities.append({"method": method,
                               "conversation": urllib.parse.unquote(parts[3]),
                               "id": aid, "bytes": len(raw),
                               "activity": act})
        self.answer(201 if method == "POST" else 200, {"id": aid})

    def workflow(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        raw = self.body()
        if q.get("sig") != [WF_SIG] or \
                not u.path.endswith("/triggers/manual/paths/invoke"):
            self.answer(401, {"error": {"code": "DirectApiAuthorization"
                                                "Required"}})
            return
        with lock:
            if knobs["wf_fail"] > 0:
                knobs["wf_fail"] -= 1
                st = knobs["wf_status"]
                self.answer(st, {"error": {"code": "Throttled"
                                           if st == 429 else "Failed"}},
                            [("Retry-After", "1")])
                return
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            workflow.append({"query": u.query,
                             "content_type": self.headers.get("Content-Type"),
                             "authorization": self.headers.get(
                                 "Authorization"),
                             "bytes": len(raw), "body": body})
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path.endswith("/oauth2/v2.0/token"):
            self.token()
        elif path == "/_control/throttle":
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            self.body()
            with lock:
                knobs["throttle"] = int(q.get("n", ["1"])[0])
            self.answer(200, {"ok": True})
        elif path.startswith("/workflows/"):
            self.workflow()
        elif path == "/_control/workflow_fail":
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            self.body()
            with lock:
                knobs["wf_fail"] = int(q.get("n", ["1"])[0])
                knobs["wf_status"] = int(q.get("status", ["500"])[0])
            self.answer(200, {"ok": True})
        elif path == "/_control/slow":
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            self.body()
            with lock:
                knobs["slow"] = float(q.get("s", ["0"])[0])
            self.answer(200, {"ok": True})
        elif path == "/_control/rotate":
            self.body()
            with lock:
                KEYS.append(LATER.pop("unknown"))
            self.answer(200, {"ok": True})
        else:
            self.connector("POST")

    def do_PUT(self):
        self.connector("PUT")


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(STATE, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(STATE, "port.tmp"), os.path.join(STATE, "port"))
srv.serve_forever()
