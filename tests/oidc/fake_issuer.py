#!/usr/bin/env python3
"""fake_issuer.py: an OpenID Connect issuer for tests, on 127.0.0.1 only.

Usage:
  fake_issuer.py serve --dir DIR [--port-file F]
  fake_issuer.py mint --dir DIR --claims JSON [--key NAME] [--kid KID]
                 [--alg ALG] [--tamper] [--pad N]

Keys are RSA keys made with openssl(1) in DIR on first use: "k1" (2048
bits, published), "k2" (2048 bits, never published: "another key") and
"small" (1024 bits, published). Only the Python standard library and the
openssl command are needed.

serve listens on 127.0.0.1, a free port; once it accepts connections it
writes the port to --port-file. Any path prefix P is an issuer
"http://127.0.0.1:PORT" + P (so /gh and /gl are two issuers):

  GET P/.well-known/openid-configuration
      -> {"issuer", "jwks_uri": issuer + "/jwks", ...} (OpenID Connect
         Discovery 1.0, section 4)
  GET P/jwks
      -> {"keys": [k1, small]} as RFC 7517 RSA public keys ("kty", "kid",
         "use": "sig", "alg": "RS256", "n", "e")
  GET P/authorize?response_type=code&client_id&redirect_uri&state&nonce
                 &code_challenge&code_challenge_method=S256
      (the approval page's sign-in) signs in the test user at once:
      -> 302 to redirect_uri?code=CODE&state=STATE
  POST P/oauth2/token   grant_type=authorization_code, code, redirect_uri,
      code_verifier; client_secret_basic (RFC 6749 2.3.1). The code is
      good once, for its redirect_uri and PKCE verifier (S256).
      -> {"access_token", "token_type": "Bearer", "expires_in",
          "id_token"}: iss, sub, aud = client_id, iat, exp, nonce, signed
         with k1 (RS256), or with "ec" (ES256) when asked
  GET /token?...&audience=AUD   (GitHub Actions' ID token request)
      Authorization must be "Bearer " + the request token set by the
      control API (default "runner-secret"), else HTTP 403.
      -> {"count": 1, "value": TOKEN}, TOKEN as set by the control API.

Control API, same port, JSON in and out:
  POST /_test/token  {"token": JWT, "bearer": REQUEST-TOKEN?}
  POST /_test/mode   {"discovery": "ok"|"garbage"|"wrong-issuer"|"500",
                      "jwks": "ok"|"unreachable"|"garbage"|"slow"}
                     ("slow": the key set answers after 20 s)
  POST /_test/delay  {"discovery": S, "token": S, "jwks": S}
                     seconds each endpoint waits before it answers
                     (default 0)
  GET  /_test/calls  [{"path", "audience", "authorization"}] in order
  POST /_test/login  {"sub": SUBJECT, "client_id": ID, "secret": SECRET,
                      "claims": {...extra, e.g. tid and oid...},
                      "bad": null | "aud" | "expired" | "nonce" | "key" |
                             "none" | "hs256" | "iss" | "stale",
                      "alg": "RS256" | "ES256"}
                     the next sign-ins' user and what is wrong with the
                     ID token they get ("stale": iat an hour ago)

mint prints a compact JWT with the given claims (a JSON object) in the
header {"alg": ALG, "typ": "JWT", "kid": KID}. ALG RS256/RS384/RS512 signs
with the key NAME (default k1; KID defaults to NAME); "none" has an empty
signature; HS256 uses the PEM text of NAME's public key as the HMAC secret
(the algorithm-confusion attack). --tamper changes the claims after
signing; --pad N adds a claim of N bytes.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

KEYS = {"k1": 2048, "k2": 2048, "small": 1024, "ec": "P-256"}
PUBLISHED = ["k1", "small", "ec"]


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_file(d, name):
    path = os.path.join(d, name + ".pem")
    if not os.path.exists(path):
        if name == "ec":
            cmd = ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-out", path + ".tmp"]
        else:
            cmd = ["openssl", "genrsa", "-out", path + ".tmp",
                   str(KEYS[name])]
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
        os.rename(path + ".tmp", path)
    return path


def public_pem(d, name):
    return subprocess.run(["openssl", "rsa", "-in", key_file(d, name),
                           "-pubout"], check=True, capture_output=True).stdout


def ec_jwk(d):
    der = subprocess.run(["openssl", "pkey", "-in", key_file(d, "ec"),
                          "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    point = der[-65:]           # 0x04 || X || Y, at the end of the SPKI
    return {"kty": "EC", "crv": "P-256", "kid": "ec", "use": "sig",
            "alg": "ES256", "x": b64u(point[1:33]), "y": b64u(point[33:])}


def der_to_raw(sig):
    """An ECDSA DER signature as JWS wants it: r || s, 32 bytes each."""
    def integer(b, i):
        n = b[i + 1]
        return int.from_bytes(b[i + 2:i + 2 + n], "big"), i + 2 + n
    r, i = integer(sig, 2)
    s, _ = integer(sig, i)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def jwk(d, name):
    if name == "ec":
        return ec_jwk(d)
    out = subprocess.run(["openssl", "rsa", "-in", key_file(d, name),
                          "-noout", "-modulus"], check=True,
                         capture_output=True, text=True).stdout
    n = bytes.fromhex(out.strip().split("=", 1)[1])
    return {"kty": "RSA", "kid": name, "use": "sig", "alg": "RS256",
            "n": b64u(n), "e": b64u((65537).to_bytes(3, "big"))}


def mint(d, claims, key="k1", kid=None, alg="RS256", tamper=False, pad=0):
    if pad:
        claims["pad"] = "x" * pad
    header = {"alg": alg, "typ": "JWT", "kid": kid if kid else key}
    signing = (b64u(json.dumps(header).encode()) + "." +
               b64u(json.dumps(claims).encode())).encode()
    if alg == "none":
        sig = b""
    elif alg.startswith("HS"):
        sig = hmac.new(public_pem(d, key), signing,
                       getattr(hashlib, "sha" + alg[2:])).digest()
    else:
        sig = subprocess.run(["openssl", "dgst", "-sha" + alg[2:], "-sign",
                              key_file(d, key)], input=signing, check=True,
                             capture_output=True).stdout
        if alg.startswith("ES"):
            sig = der_to_raw(sig)
    if tamper:
        claims = dict(claims, tampered=True)
        signing = (signing.split(b".")[0] + b"." +
                   b64u(json.dumps(claims).encode()).encode())
    return signing.decode() + "." + b64u(sig)


class State:
    def __init__(self, d):
        self.dir = d
        self.token = ""
        self.bearer = "runner-secret"
        self.mode = {"discovery": "ok", "jwks": "ok"}
        self.delay = {"discovery": 0, "token": 0, "jwks": 0}
        self.calls = []
        self.login = {"sub": "alice-sub", "client_id": "ae-page",
                      "secret": "page-secret", "claims": {}, "bad": None,
                      "alg": "RS256"}
        self.codes = {}
        for k in KEYS:
            key_file(d, k)
        self.jwks = {"keys": [jwk(d, k) for k in PUBLISHED]}
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake_issuer: " + (fmt % args) + "\n")

    def wait(self, what):
        with self.server.state.lock:
            s = self.server.state.delay.get(what, 0)
        if s:
            time.sleep(s)

    def answer(self, status, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, to):
        self.send_response(302)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def authorize(self, prefix, q):
        st = self.server.state
        one = {k: v[0] for k, v in q.items()}
        need = ["response_type", "client_id", "redirect_uri", "state",
                "nonce", "code_challenge", "code_challenge_method"]
        if any(k not in one for k in need) or one["response_type"] != "code" \
                or one["code_challenge_method"] != "S256":
            return self.answer(400, {"error": "invalid_request"})
        code = b64u(os.urandom(24))
        with st.lock:
            st.codes[code] = dict(one, prefix=prefix, login=dict(st.login))
        sep = "&" if "?" in one["redirect_uri"] else "?"
        return self.redirect("%s%scode=%s&state=%s" % (
            one["redirect_uri"], sep, code, one["state"]))

    def id_token(self, c, now):
        login = c["login"]
        bad = login.get("bad")
        claims = {"iss": self.issuer(c["prefix"]), "sub": login["sub"],
                  "aud": c["client_id"], "iat": now, "exp": now + 300,
                  "nonce": c["nonce"]}
        claims.update(login.get("claims") or {})
        key, alg = ("ec", "ES256") if login.get("alg") == "ES256" else \
            ("k1", "RS256")
        if bad == "aud":
            claims["aud"] = "someone-else"
        elif bad == "expired":
            claims["iat"], claims["exp"] = now - 900, now - 600
        elif bad == "nonce":
            claims["nonce"] = "not-the-nonce"
        elif bad == "iss":
            claims["iss"] = "https://evil.example"
        elif bad == "stale":
            claims["iat"] = now - 3600
        elif bad == "key":
            key = "k2"
        elif bad == "none":
            alg = "none"
        elif bad == "hs256":
            alg = "HS256"
        return mint(self.server.state.dir, claims, key, None, alg)

    def token(self, body):
        st = self.server.state
        f = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        with st.lock:
            c = st.codes.pop(f.get("code", ""), None)
        auth = self.headers.get("Authorization") or ""
        if c is None or f.get("grant_type") != "authorization_code" or \
                f.get("redirect_uri") != c["redirect_uri"]:
            return self.answer(400, {"error": "invalid_grant"})
        want = "Basic " + base64.b64encode(("%s:%s" % (
            c["login"]["client_id"], c["login"]["secret"])).encode()).decode()
        if auth != want or c["client_id"] != c["login"]["client_id"]:
            return self.answer(401, {"error": "invalid_client"})
        verifier = f.get("code_verifier", "")
        if b64u(hashlib.sha256(
                verifier.encode()).digest()) != c["code_challenge"]:
            return self.answer(400, {"error": "invalid_grant",
                                     "error_description": "PKCE"})
        tok = self.id_token(c, int(time.time()))
        return self.answer(200, {"access_token": b64u(os.urandom(16)),
                                 "token_type": "Bearer", "expires_in": 300,
                                 "id_token": tok})

    def issuer(self, prefix):
        return "http://127.0.0.1:%d%s" % (self.server.server_port, prefix)

    def do_GET(self):
        st = self.server.state
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        with st.lock:
            st.calls.append({"path": url.path,
                             "audience": q.get("audience", [None])[0],
                             "authorization":
                             self.headers.get("Authorization")})
            mode = dict(st.mode)
        if url.path == "/_test/calls":
            return self.answer(200, st.calls)
        if url.path == "/token":
            if self.headers.get("Authorization") != "Bearer " + st.bearer:
                return self.answer(403, {"message": "bad request token"})
            return self.answer(200, {"count": 1, "value": st.token})
        if url.path.endswith("/.well-known/openid-configuration"):
            prefix = url.path[:-len("/.well-known/openid-configuration")]
            self.wait("discovery")
            iss = self.issuer(prefix)
            if mode["discovery"] == "garbage":
                return self.answer(200, b"<html>not json\x00\xff")
            if mode["discovery"] == "500":
                return self.answer(500, {"error": "down"})
            jwks_uri = iss + "/jwks"
            if mode["jwks"] == "unreachable":
                jwks_uri = "http://127.0.0.1:1/jwks"
            if mode["discovery"] == "wrong-issuer":
                iss = "https://evil.example"
            return self.answer(200, {
                "issuer": iss, "jwks_uri": jwks_uri,
                "authorization_endpoint": iss + "/authorize",
                "token_endpoint": iss + "/oauth2/token",
                "code_challenge_methods_supported": ["S256"],
                "subject_types_supported": ["public"],
                "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["RS256"]})
        if url.path.endswith("/authorize"):
            return self.authorize(url.path[:-len("/authorize")], q)
        if url.path.endswith("/jwks"):
            self.wait("jwks")
            if mode["jwks"] == "slow":
                time.sleep(20)
            if mode["jwks"] == "garbage":
                return self.answer(200, b'{"keys": 17}')
            return self.answer(200, st.jwks)
        return self.answer(404, {"error": "not found"})

    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        if self.path.endswith("/oauth2/token"):
            with st.lock:
                st.calls.append({"path": self.path, "audience": None,
                                 "authorization": None})
            self.wait("token")
            return self.token(raw)
        body = json.loads(raw or b"{}")
        with st.lock:
            if self.path == "/_test/token":
                st.token = body["token"]
                st.bearer = body.get("bearer", st.bearer)
            elif self.path == "/_test/login":
                st.login = dict(st.login, **body)
            elif self.path == "/_test/mode":
                st.mode.update(body)
            elif self.path == "/_test/delay":
                st.delay.update(body)
            else:
                return self.answer(404, {"error": "not found"})
        return self.answer(200, {"ok": True})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["serve", "mint"])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--claims", default="{}")
    ap.add_argument("--key", default="k1")
    ap.add_argument("--kid")
    ap.add_argument("--alg", default="RS256")
    ap.add_argument("--tamper", action="store_true")
    ap.add_argument("--pad", type=int, default=0)
    a = ap.parse_args()
    if a.what == "mint":
        print(mint(a.dir, json.loads(a.claims), a.key, a.kid, a.alg,
                   a.tamper, a.pad))
        return
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(a.dir)
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_port)
        os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
