#!/usr/bin/env python3
"""fake_slack.py: a Slack Web API server for tests, on 127.0.0.1 only.

Usage:
  fake_slack.py [--port N] [--port-file F] [--token xoxb-...] [--team T...]
                [--channel C...]... [--not-in C...]... [--tier-scale X]
                [--signing-secret S]

Listens on 127.0.0.1:N (N = 0, the default: a free port). Once it accepts
connections it prints "PORT N" on stdout and flushes (and with --port-file
writes N to that file, atomically). Stop it with SIGTERM.

Slack methods, under /api/METHOD (the wire format of
shared/reference/protocols.md, "Slack Web API"):

  Auth   "Authorization: Bearer TOKEN" must equal --token (default
         xoxb-test-token). No Authorization header: not_authed; any other
         value: invalid_auth. Both HTTP 200, as Slack answers.
  Body   chat.postMessage and chat.update take a POST with a JSON object body.
         Content-Type must be application/json with charset utf-8:
           no Content-Type                      -> missing_post_type
           another type (form, text/plain, ...) -> invalid_post_type
           a charset other than utf-8            -> invalid_charset
           application/json without a charset   -> accepted with
             "warning":"missing_charset" (as Slack does)
           body not JSON / not an object        -> invalid_json / json_not_object
         (Stricter than Slack, which also takes form bodies for these: the
         client under test must send JSON.) A GET to them: invalid_post_type.
         reactions.get, conversations.replies, users.info take arguments from
         the query string (GET) or a x-www-form-urlencoded POST body, as Slack
         does for these; a JSON body is ignored (its arguments are missing).
  Size   a request body over 1 MB: HTTP 413, {"ok":false,"error":
         "request_too_large"}.
  Channels  --channel C123 is a channel the bot is in; --not-in C999 one that
         exists but the bot is not in: not_in_channel (every method that
         takes a channel). Anything else: channel_not_found.

  chat.postMessage {channel, text|blocks, thread_ts?}
      -> {"ok":true,"channel","ts","message":{type,user,bot_id,app_id,team,
          text,blocks?,ts,thread_ts?}}. ts like "1503435956.000247", unique
      and increasing. Errors: no_text (neither text nor blocks),
      invalid_blocks (blocks not a list of objects with a "type"),
      msg_too_long (text over 40000 characters), channel errors.
  chat.update {channel, ts, text|blocks}
      -> {"ok":true,"channel","ts","text","message":{...}}. Unknown ts:
      message_not_found; a message the bot did not post: cant_update_message.
  reactions.get {channel, timestamp, full}
      -> {"ok":true,"type":"message","channel","message":{..., "reactions":
          [{"name","users":[...],"count"}]}} ("reactions" absent when none).
      Missing channel or timestamp: no_item_specified; unknown ts (parent or
      reply): message_not_found.
  conversations.replies {channel, ts, cursor, limit}
      -> {"ok":true,"messages":[parent, replies...],"has_more",
          "response_metadata":{"next_cursor"}}. limit default 100, at most
      1000; more messages than limit: has_more true and an opaque cursor;
      the parent is only on the first page. Bad cursor: invalid_cursor;
      missing ts: invalid_arguments; unknown ts: thread_not_found.
  conversations.history {channel, oldest, latest, inclusive, cursor, limit}
      -> {"ok":true,"messages":[newest first],"has_more",
          "response_metadata":{"next_cursor"}}: the channel's top-level
      messages with oldest < ts < latest (<= with inclusive true), each
      with its "reactions" and, once replied to, "reply_count",
      "latest_reply", "reply_users". limit default 100, at most 999.
      Bad cursor: invalid_cursor; bad oldest/latest: invalid_ts_oldest /
      invalid_ts_latest.
  users.info {user}
      -> {"ok":true,"user":{"id","team_id","name","real_name","deleted",
          "is_bot","profile":{"email","real_name","display_name"}}}.
      Unknown or missing user: user_not_found.
  apps.connections.open (POST, no arguments; Socket Mode)
      Authorization must be the app-level token --app-token (default
      xapp-test-token); the bot token: not_allowed_token_type.
      -> {"ok":true,"url": --socket-url + "?ticket=" + a fresh UUID}; no
      --socket-url set: internal_error.
  views.open {trigger_id, view}  (JSON body, as chat.postMessage)
      -> {"ok":true,"view":{"id":"V…","type":"modal","callback_id",
          "private_metadata","title","blocks","state":{"values":{}},"hash",
          "team_id","app_id","bot_id"}}. The trigger_id must be one this
      fake gave with a click (below), used once, within 3 s:
      otherwise invalid_trigger_id / expired_trigger_id / exchanged_trigger_id.
      A view that is not a modal with a plain_text title (at most 24
      characters), at most 100 blocks each with a "type", a callback_id
      of at most 255 and private_metadata of at most 3000 characters:
      invalid_arguments.
  Other methods: HTTP 404, {"ok":false,"error":"unknown_method"}.

Rate limits: a token bucket per method (per channel for chat.postMessage),
refilled continuously: Tier 3 (50/min) for reactions.get,
conversations.replies, conversations.history and chat.update, Tier 4 (100/min) for users.info,
chat.postMessage 1/s per channel with a burst of 5. --tier-scale X multiplies
every rate and burst (0: no limits). An empty bucket answers HTTP 429,
"Retry-After: S" (whole seconds until a token is back, at least 1) and
{"ok":false,"error":"ratelimited"}. Rate limiting follows authentication.

Control API for tests, same port, JSON in and out, no auth:
  POST /_test/users     {id, name, deleted, is_bot, team_id, email} or a list
  GET  /_test/users
  POST /_test/channel   {id, member: true|false}      add or change a channel
  POST /_test/react     {channel, ts, name, user, remove?}
  POST /_test/reply     {channel, thread_ts, user, text, bot_id?} -> {ts}
  GET  /_test/messages  every message with channel, text, blocks, reactions,
                        "updates" (chat.update count), in posting order
  GET  /_test/calls     {"counts":{method:N},"calls":[{method,t,status,error}]}
                        (t: time.time() when answered; includes hooked calls)
  GET  /_test/requests  every /api request: {method, http_method, query,
                        headers{authorization,content-type,user-agent},
                        body (text)}; bounded to the last 10000
  POST /_test/ratelimit {method, count, retry_after}  next count calls: 429
  POST /_test/fail      {method, count, error, status?} next count calls:
                        {"ok":false,"error":error}, HTTP status (200)
  POST /_test/garbage   {method, count, body? | kind?, status?} next count
                        calls answer body (a string) verbatim, or by kind:
                        "truncated" (cut-off JSON), "nonjson" (HTML),
                        "huge" (a 2 MB valid JSON object), "empty",
                        "short" (Content-Length larger than what is sent,
                        then the connection closes), "close" (no answer)
  POST /_test/delay     {method, count, seconds} next count calls wait first
                        (seconds at most 30)
  POST /_test/reset     forget messages, calls, requests and hooks
  POST /_test/socket    {url}   what apps.connections.open hands out next
  GET  /_test/views     every view opened: {id, trigger_id, user, view}
  POST /_test/click     {url, channel, ts, action_id, user, team?, is_bot?,
                        user_team?, ts_offset?, signature?, repeat?}
                        a person clicks the button action_id of message ts:
                        the fake sends the signed block_actions payload
                        (user, team, container, channel, message, actions
                        [{action_id, block_id, value, type, action_ts}],
                        trigger_id, response_url) to url and answers
                        {status, body, trigger_id, action_ts, payload}
  POST /_test/submit    {url, view_id, user, team?, values{block: text},
                        ts_offset?, signature?}  the person submits the
                        modal: a signed view_submission (view with id,
                        callback_id, private_metadata, hash and
                        state.values[block][action_id] = {type, value})
                        is sent to url; answers {status, body, payload}
  POST /_test/send      {url, payload (object or raw text), ts_offset?,
                        signature?}  sends payload as Slack would, signed
Payloads sent to the broker are form bodies "payload=<url-encoded JSON>"
signed with --signing-secret (v0: HMAC-SHA256 of "v0:TS:BODY"), with
X-Slack-Request-Timestamp = now + ts_offset. signature: "bad" sends a
wrong one, "none" no X-Slack-Signature header; repeat: N sends the same
bytes N times (a retried delivery) and answers the last.
Hooks are consumed in that order: delay, garbage, ratelimit, fail; a hooked
call is answered before authentication and does not take a rate token.
method "*" in a hook matches every method.
"""
import argparse
import base64
import hashlib
import hmac
import json
import math
import os
import threading
import time
import urllib.error
import urllib.parse
import uuid
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20
MAX_TEXT = 40000
MAX_RECORDED = 10000
TIERS = {  # method: (tokens per minute, burst)
    "reactions.get": (50, 50),
    "conversations.replies": (50, 50),
    "conversations.history": (50, 50),
    "chat.update": (50, 50),
    "users.info": (100, 100),
    "chat.postMessage": (60, 5),  # per channel
    "views.open": (100, 100),
}
JSON_METHODS = ("chat.postMessage", "chat.update", "views.open")
TRIGGER_LIFE = 3.0
FORM_METHODS = ("reactions.get", "conversations.replies", "users.info",
                "conversations.history")


class SlackError(Exception):
    def __init__(self, error, status=200, extra=None):
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra or {}


class State:
    def __init__(self, opts):
        self.lock = threading.Lock()
        self.opts = opts
        self.token = opts.token
        self.app_token = opts.app_token
        self.socket_url = opts.socket_url
        self.team = opts.team
        self.bot_user = opts.bot_user
        self.bot_id = opts.bot_id
        self.channels = {c: True for c in opts.channel}
        self.channels.update({c: False for c in opts.not_in})
        self.scale = opts.tier_scale
        self.users = {}
        self.reset()

    def reset(self):
        self.messages = {}  # (channel, ts) -> message dict
        self.order = []  # (channel, ts) in posting order
        self.last_ts = 0  # microseconds
        self.calls = []
        self.requests = []
        self.hooks = {"delay": [], "garbage": [], "ratelimit": [], "fail": []}
        self.buckets = {}
        self.triggers = {}  # trigger_id -> [time given, user, used]
        self.views = []  # in opening order
        self.seq = 0

    def new_id(self, prefix):
        self.seq += 1
        return "%s%08X" % (prefix, self.seq)

    def new_ts(self):
        now = int(time.time() * 1000000)
        self.last_ts = max(now, self.last_ts + 1)
        return "%d.%06d" % divmod(self.last_ts, 1000000)

    def take_hook(self, kind, method):
        for h in self.hooks[kind]:
            if h["method"] in (method, "*") and h["count"] > 0:
                h["count"] -= 1
                return h
        return None

    def take_token(self, key, method):
        """None if a token was taken, else seconds until one is back."""
        if self.scale <= 0 or method not in TIERS:
            return None
        per_min, burst = TIERS[method]
        rate = per_min * self.scale / 60.0
        cap = max(1.0, burst * self.scale)
        now = time.monotonic()
        tokens, then = self.buckets.get(key, (cap, now))
        tokens = min(cap, tokens + (now - then) * rate)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            return None
        self.buckets[key] = (tokens, now)
        return max(1, math.ceil((1 - tokens) / rate))

    def channel(self, args):
        c = args.get("channel")
        if not isinstance(c, str) or c not in self.channels:
            raise SlackError("channel_not_found")
        if not self.channels[c]:
            raise SlackError("not_in_channel")
        return c


def public(msg):
    """The message as Slack shows it: reactions as a list, no bookkeeping."""
    out = {k: v for k, v in msg.items() if not k.startswith("_")}
    reactions = [{"name": n, "users": list(u), "count": len(u)}
                 for n, u in msg["_reactions"].items() if u]
    if reactions:
        out["reactions"] = reactions
    return out


def check_blocks(blocks):
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            raise SlackError("invalid_blocks")
    if not isinstance(blocks, list) or len(blocks) > 50 or not all(
            isinstance(b, dict) and isinstance(b.get("type"), str)
            for b in blocks):
        raise SlackError("invalid_blocks")
    return blocks


def check_text(args):
    text, blocks = args.get("text"), args.get("blocks")
    if blocks is not None:
        blocks = check_blocks(blocks)
    if text is not None and not isinstance(text, str):
        raise SlackError("invalid_arguments")
    if not text and not blocks:
        raise SlackError("no_text")
    if text and len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    return text, blocks


# --- Slack methods: each takes (state, args) under the lock, returns a dict

def chat_post_message(st, args):
    ch = st.channel(args)
    text, blocks = check_text(args)
    ts = st.new_ts()
    msg = {"type": "message", "user": st.bot_user, "bot_id": st.bot_id,
           "app_id": "AFAKEAPP", "team": st.team, "text": text or "", "ts": ts,
           "_reactions": {}, "_updates": 0, "_channel": ch}
    if blocks:
        msg["blocks"] = blocks
    thread_ts = args.get("thread_ts")
    if thread_ts:
        parent = st.messages.get((ch, str(thread_ts)))
        if parent is None:
            raise SlackError("thread_not_found")
        msg["thread_ts"] = parent["ts"]
        add_reply(parent, msg)
    st.messages[(ch, ts)] = msg
    st.order.append((ch, ts))
    return {"ok": True, "channel": ch, "ts": ts, "message": public(msg)}


def add_reply(parent, msg):
    parent["thread_ts"] = parent["ts"]
    parent["reply_count"] = parent.get("reply_count", 0) + 1
    who = msg.get("user") or msg.get("bot_id")
    users = parent.setdefault("reply_users", [])
    if who and who not in users:
        users.append(who)
    parent["reply_users_count"] = len(users)
    parent["latest_reply"] = msg["ts"]
    parent.setdefault("_replies", []).append(msg["ts"])
    msg["parent_user_id"] = parent.get("user", "")


def chat_update(st, args):
    ch = st.channel(args)
    ts = args.get("ts")
    msg = st.messages.get((ch, ts)) if isinstance(ts, str) else None
    if msg is None:
        raise SlackError("message_not_found")
    if msg.get("bot_id") != st.bot_id:
        raise SlackError("cant_update_message")
    text, blocks = check_text(args)
    msg["text"] = text or ""
    if blocks is not None:
        msg["blocks"] = blocks
    else:  # Slack drops the old blocks when only text is sent
        msg.pop("blocks", None)
    msg["edited"] = {"user": st.bot_user, "ts": st.new_ts()}
    msg["_updates"] += 1
    return {"ok": True, "channel": ch, "ts": ts, "text": msg["text"],
            "message": public(msg)}


def views_open(st, args):
    trig = args.get("trigger_id")
    view = args.get("view")
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            raise SlackError("invalid_arguments")
    t = st.triggers.get(trig) if isinstance(trig, str) else None
    if t is None:
        raise SlackError("invalid_trigger_id")
    if t[2]:
        raise SlackError("exchanged_trigger_id")
    if time.time() - t[0] > TRIGGER_LIFE:
        raise SlackError("expired_trigger_id")
    title = view.get("title") if isinstance(view, dict) else None
    if not isinstance(view, dict) or view.get("type") != "modal" or \
            not isinstance(title, dict) or \
            title.get("type") != "plain_text" or \
            not isinstance(title.get("text"), str) or \
            len(title["text"]) > 24 or \
            len(str(view.get("callback_id", ""))) > 255 or \
            len(str(view.get("private_metadata", ""))) > 3000 or \
            not isinstance(view.get("blocks"), list) or \
            len(view["blocks"]) > 100 or not all(
                isinstance(b, dict) and isinstance(b.get("type"), str)
                for b in view["blocks"]):
        raise SlackError("invalid_arguments")
    t[2] = True
    vid = st.new_id("V")
    out = dict(view, id=vid, team_id=st.team, app_id="AFAKEAPP",
               bot_id=st.bot_id, state={"values": {}},
               hash="%d.%s" % (int(time.time()), vid.lower()))
    st.views.append({"id": vid, "trigger_id": trig, "user": t[1],
                     "view": out})
    return {"ok": True, "view": out}


def reactions_get(st, args):
    if not args.get("channel") or not args.get("timestamp"):
        raise SlackError("no_item_specified")
    ch = st.channel(args)
    msg = st.messages.get((ch, args["timestamp"]))
    if msg is None:
        raise SlackError("message_not_found")
    return {"ok": True, "type": "message", "channel": ch,
            "message": public(msg)}


def cursor_encode(n):
    return base64.b64encode(("next_ts:%d" % n).encode()).decode()


def cursor_decode(c):
    try:
        tag, _, n = base64.b64decode(c, validate=True).decode().partition(":")
        if tag != "next_ts" or not n.isdigit():
            raise ValueError(c)
        return int(n)
    except ValueError:
        raise SlackError("invalid_cursor")


def conversations_replies(st, args):
    ch = st.channel(args)
    ts = args.get("ts")
    if not ts:
        raise SlackError("invalid_arguments")
    msg = st.messages.get((ch, ts))
    if msg is None:
        raise SlackError("thread_not_found")
    if "thread_ts" in msg and msg["thread_ts"] != msg["ts"]:
        msg = st.messages[(ch, msg["thread_ts"])]  # a reply's ts: its thread
    thread = [msg] + [st.messages[(ch, r)] for r in msg.get("_replies", [])]
    try:
        limit = int(args.get("limit") or 100)
    except ValueError:
        raise SlackError("invalid_limit")
    limit = min(max(limit, 1), 1000)
    start = cursor_decode(args["cursor"]) if args.get("cursor") else 0
    page = thread[start:start + limit]
    more = start + limit < len(thread)
    return {"ok": True, "messages": [public(m) for m in page],
            "has_more": more,
            "response_metadata": {
                "next_cursor": cursor_encode(start + limit) if more else ""}}


def ts_value(v, error):
    try:
        return float(v)
    except (TypeError, ValueError):
        raise SlackError(error)


def conversations_history(st, args):
    ch = st.channel(args)
    oldest = ts_value(args.get("oldest") or 0, "invalid_ts_oldest")
    latest = ts_value(args.get("latest") or time.time() + 1,
                      "invalid_ts_latest")
    incl = str(args.get("inclusive", "")).lower() in ("1", "true")
    inside = (lambda t: oldest <= t <= latest) if incl else \
        (lambda t: oldest < t < latest)
    found = [st.messages[k] for k in reversed(st.order) if k[0] == ch]
    found = [m for m in found if m.get("thread_ts", m["ts"]) == m["ts"]
             and inside(float(m["ts"]))]
    try:
        limit = int(args.get("limit") or 100)
    except ValueError:
        raise SlackError("invalid_limit")
    limit = min(max(limit, 1), 999)
    start = cursor_decode(args["cursor"]) if args.get("cursor") else 0
    page = found[start:start + limit]
    more = start + limit < len(found)
    return {"ok": True, "messages": [public(m) for m in page],
            "has_more": more, "pin_count": 0,
            "response_metadata": {
                "next_cursor": cursor_encode(start + limit) if more else ""}}


def users_info(st, args):
    u = st.users.get(args.get("user") or "")
    if u is None:
        raise SlackError("user_not_found")
    return {"ok": True, "user": u}


METHODS = {
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "reactions.get": reactions_get,
    "conversations.replies": conversations_replies,
    "conversations.history": conversations_history,
    "users.info": users_info,
    "views.open": views_open,
}


def make_user(st, d):
    if not isinstance(d, dict) or not isinstance(d.get("id"), str):
        raise SlackError("invalid_arguments", 400)
    name = str(d.get("name", d["id"].lower()))
    profile = {"real_name": name, "display_name": name}
    if d.get("email"):
        profile["email"] = str(d["email"])
    return {"id": d["id"], "team_id": str(d.get("team_id", st.team)),
            "name": name, "real_name": name,
            "deleted": bool(d.get("deleted", False)),
            "is_bot": bool(d.get("is_bot", False)), "profile": profile}


def count_of(d):
    try:
        n = int(d.get("count", 1))
    except (TypeError, ValueError):
        raise SlackError("invalid_arguments", 400)
    return n


# --- control API: each takes (state, json body) under the lock

def t_users(st, d):
    for u in d if isinstance(d, list) else [d]:
        u = make_user(st, u)
        st.users[u["id"]] = u
    return {"ok": True}


def t_channel(st, d):
    if not isinstance(d.get("id"), str):
        raise SlackError("invalid_arguments", 400)
    st.channels[d["id"]] = bool(d.get("member", True))
    return {"ok": True}


def t_react(st, d):
    msg = st.messages.get((d.get("channel"), d.get("ts")))
    if msg is None:
        raise SlackError("message_not_found", 404)
    name, user = d.get("name"), d.get("user")
    if not isinstance(name, str) or not isinstance(user, str):
        raise SlackError("invalid_arguments", 400)
    users = msg["_reactions"].setdefault(name, [])
    if d.get("remove"):
        if user in users:
            users.remove(user)
    elif user not in users:
        users.append(user)
    return {"ok": True}


def t_reply(st, d):
    ch = d.get("channel")
    parent = st.messages.get((ch, d.get("thread_ts")))
    if parent is None:
        raise SlackError("thread_not_found", 404)
    ts = st.new_ts()
    msg = {"type": "message", "text": str(d.get("text", "")), "ts": ts,
           "thread_ts": parent["ts"], "team": st.team,
           "_reactions": {}, "_updates": 0, "_channel": ch}
    if d.get("user"):
        msg["user"] = str(d["user"])
    if d.get("bot_id"):
        msg["bot_id"] = str(d["bot_id"])
        msg["subtype"] = "bot_message"
    add_reply(parent, msg)
    st.messages[(ch, ts)] = msg
    st.order.append((ch, ts))
    return {"ok": True, "ts": ts}


def t_messages(st, d):
    out = []
    for key in st.order:
        m = st.messages[key]
        out.append(dict(public(m), channel=m["_channel"],
                        updates=m["_updates"]))
    return {"ok": True, "messages": out}


def t_calls(st, d):
    counts = {}
    for c in st.calls:
        counts[c["method"]] = counts.get(c["method"], 0) + 1
    return {"ok": True, "counts": counts, "calls": st.calls}


def t_requests(st, d):
    return {"ok": True, "requests": st.requests}


def t_hook(kind):
    def add(st, d):
        if not isinstance(d.get("method"), str):
            raise SlackError("invalid_arguments", 400)
        h = dict(d, count=count_of(d))
        if kind == "delay":
            h["seconds"] = min(float(d.get("seconds", 1)), 30.0)
        st.hooks[kind].append(h)
        return {"ok": True}
    return add


def apps_connections_open(st, args):
    if not st.socket_url:
        raise SlackError("internal_error")
    return {"ok": True, "url": st.socket_url + "?ticket=" + str(uuid.uuid4())}


METHODS["apps.connections.open"] = apps_connections_open


def t_socket(st, d):
    st.socket_url = str(d.get("url", ""))
    return {"ok": True}


def t_reset(st, d):
    st.reset()
    return {"ok": True}


def sign_and_send(st, d, payload):
    """Posts payload to d["url"] as Slack's interactivity request does."""
    url = d.get("url")
    if not isinstance(url, str) or not url.startswith("http://127.0.0.1:"):
        raise SlackError("invalid_url", 400)
    text = payload if isinstance(payload, str) else json.dumps(payload)
    body = ("payload=" + urllib.parse.quote(text, safe="")).encode()
    ts = str(int(time.time()) + int(d.get("ts_offset", 0)))
    mac = hmac.new(st.opts.signing_secret.encode(),
                   b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    sig = "v0=" + mac.hexdigest()
    if d.get("signature") == "bad":
        sig = "v0=" + hashlib.sha256(body).hexdigest()
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Slack-Request-Timestamp": ts}
    if d.get("signature") != "none":
        headers["X-Slack-Signature"] = sig
    for _ in range(max(1, int(d.get("repeat", 1)))):
        req = urllib.request.Request(url, data=body, headers=headers,
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = raw.decode("utf-8", "replace")
    return {"ok": True, "status": status, "body": answer, "payload": payload}


def who(st, d):
    team = d.get("team", st.team)
    user = {"id": d.get("user"), "username": "u", "name": "u",
            "team_id": d.get("user_team", team)}
    if d.get("is_bot"):
        user["is_bot"] = True
    return user, {"id": team, "domain": "fake"}


def t_click(st, d):
    ch, ts = d.get("channel"), d.get("ts")
    msg = st.messages.get((ch, ts))
    if msg is None:
        raise SlackError("message_not_found", 400)
    button = block = None
    for b in msg.get("blocks") or []:
        for e in b.get("elements", []) if b.get("type") == "actions" else []:
            if e.get("action_id") == d.get("action_id"):
                button, block = e, b
    if button is None:
        raise SlackError("no_such_button", 400)
    user, team = who(st, d)
    trig = "%d.%d.%s" % (time.time(), st.seq, os.urandom(8).hex())
    st.triggers[trig] = [time.time(), user["id"], False]
    action_ts = st.new_ts()
    payload = {
        "type": "block_actions", "user": user, "api_app_id": "AFAKEAPP",
        "token": "legacy-verification-token", "team": team,
        "container": {"type": "message", "message_ts": ts,
                      "channel_id": ch, "is_ephemeral": False},
        "trigger_id": trig, "channel": {"id": ch, "name": "approvals"},
        "message": public(msg),
        "response_url": "http://127.0.0.1:9/actions/T/1/x",
        "actions": [{"action_id": button["action_id"],
                     "block_id": block.get("block_id", "b"),
                     "text": button.get("text"), "value": button.get("value"),
                     "style": button.get("style"), "type": "button",
                     "action_ts": action_ts}]}
    if d.get("is_bot"):
        payload["bot_id"] = "B0OTHER"
    return dict(trigger_id=trig, action_ts=action_ts, payload=payload)


def t_submit(st, d):
    view = None
    for v in st.views:
        if v["id"] == d.get("view_id"):
            view = v["view"]
    if view is None:
        raise SlackError("view_not_found", 400)
    values = {}
    for b in view.get("blocks", []):
        if b.get("type") != "input":
            continue
        el = b.get("element", {})
        text = (d.get("values") or {}).get(b.get("block_id"))
        values[b.get("block_id")] = {el.get("action_id"): {
            "type": el.get("type"), "value": text}}
    user, team = who(st, d)
    payload = {
        "type": "view_submission", "team": team, "user": user,
        "api_app_id": "AFAKEAPP", "token": "legacy-verification-token",
        "trigger_id": "%d.%s" % (time.time(), os.urandom(8).hex()),
        "view": dict(view, state={"values": values}),
        "response_urls": [], "is_enterprise_install": False}
    if d.get("is_bot"):
        payload["bot_id"] = "B0OTHER"
    return dict(payload=payload)


CONTROL = {
    "users": t_users, "channel": t_channel, "react": t_react,
    "reply": t_reply, "messages": t_messages, "calls": t_calls,
    "requests": t_requests, "ratelimit": t_hook("ratelimit"),
    "fail": t_hook("fail"), "garbage": t_hook("garbage"),
    "delay": t_hook("delay"), "reset": t_reset, "socket": t_socket,
    "views": lambda st, d: {"ok": True, "views": st.views},
    "click": t_click, "submit": t_submit,
    "send": lambda st, d: dict(payload=d.get("payload")),
}
CONTROL_GET = ("users", "messages", "calls", "requests", "views")
SENDS = ("click", "submit", "send")


def garbage_body(h):
    if "body" in h:
        return str(h["body"]).encode()
    kind = h.get("kind", "truncated")
    if kind == "truncated":
        return b'{"ok":true,"type":"message","message":{"reactions":[{"na'
    if kind == "nonjson":
        return b"<html><body>502 Bad Gateway</body></html>\n"
    if kind == "huge":
        return (b'{"ok":true,"pad":"' + b"x" * (2 << 20) + b'"}')
    if kind in ("empty", "short", "close"):
        return b""
    return str(kind).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # seconds a connection may sit idle or half-sent
    server_version = "fake-slack/1"

    def log_message(self, fmt, *args):
        pass

    @property
    def st(self):
        return self.server.state

    def send(self, status, obj=None, raw=None, headers=()):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        """The request body, or None after answering 413/400."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                try:
                    n = int(self.rfile.readline(100).split(b";")[0], 16)
                except ValueError:
                    self.send(400, {"ok": False, "error": "bad_chunk"})
                    self.close_connection = True
                    return None
                if n == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                if len(out) + n > MAX_BODY:
                    break
                out += self.rfile.read(n)
                self.rfile.readline(10)
        else:
            try:
                n = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                n = -1
            if 0 <= n <= MAX_BODY:
                return self.rfile.read(n)
        self.send(413, {"ok": False, "error": "request_too_large"})
        self.close_connection = True
        return None

    def handle_any(self):
        path, _, query = self.path.partition("?")
        body = self.read_body()
        if body is None:
            return
        if path.startswith("/_test/"):
            self.control(path[len("/_test/"):], body)
        elif path.startswith("/api/"):
            self.api(path[len("/api/"):], query, body)
        else:
            self.send(404, {"ok": False, "error": "not_found"})

    do_GET = do_POST = handle_any

    def control(self, name, body):
        fn = CONTROL.get(name)
        if fn is None:
            return self.send(404, {"ok": False, "error": "unknown_control"})
        if self.command == "GET" and name not in CONTROL_GET:
            return self.send(405, {"ok": False, "error": "use_post"})
        try:
            d = json.loads(body or b"{}")
        except ValueError:
            return self.send(400, {"ok": False, "error": "invalid_json"})
        if not isinstance(d, (dict, list)) or (
                isinstance(d, list) and name != "users"):
            return self.send(400, {"ok": False, "error": "json_not_object"})
        try:
            with self.st.lock:
                out = fn(self.st, d)
                raw = json.dumps(out).encode()
            if name in SENDS:  # sent without the lock: the broker calls us
                sent = sign_and_send(self.st, d, out.pop("payload"))
                raw = json.dumps(dict(out, **sent)).encode()
        except SlackError as e:
            return self.send(e.status, {"ok": False, "error": e.error})
        self.send(200, raw=raw)

    def record(self, method, query, body):
        h = self.headers
        with self.st.lock:
            self.st.requests.append({
                "method": method, "http_method": self.command, "query": query,
                "headers": {"authorization": h.get("Authorization"),
                            "content-type": h.get("Content-Type"),
                            "user-agent": h.get("User-Agent")},
                "body": body[:MAX_BODY].decode("utf-8", "replace")})
            del self.st.requests[:-MAX_RECORDED]

    def call_done(self, method, status, error):
        with self.st.lock:
            self.st.calls.append({"method": method, "t": time.time(),
                                  "status": status, "error": error})
            del self.st.calls[:-100000]

    def api(self, method, query, body):
        self.record(method, query, body)
        st = self.st
        with st.lock:
            delay = st.take_hook("delay", method)
            garbage = st.take_hook("garbage", method)
            limit = None if garbage else st.take_hook("ratelimit", method)
            fail = None if garbage or limit else st.take_hook("fail", method)
        if delay:
            time.sleep(delay["seconds"])
        if garbage:
            return self.answer_garbage(method, garbage)
        if limit:
            ra = str(int(limit.get("retry_after", 1)))
            return self.answer(method, SlackError("ratelimited", 429, {}),
                               [("Retry-After", ra)])
        if fail:
            return self.answer(method, SlackError(
                str(fail.get("error", "internal_error")),
                int(fail.get("status", 200))))
        fn = METHODS.get(method)
        if fn is None:
            return self.answer(method, SlackError("unknown_method", 404))
        auth = self.headers.get("Authorization")
        if auth is None:
            return self.answer(method, SlackError("not_authed"))
        if method == "apps.connections.open" and auth == "Bearer " + st.token:
            return self.answer(method, SlackError("not_allowed_token_type"))
        if auth != "Bearer " + (st.app_token if method ==
                                "apps.connections.open" else st.token):
            return self.answer(method, SlackError("invalid_auth"))
        try:
            args, warning = self.arguments(method, query, body)
        except SlackError as e:
            return self.answer(method, e)
        key = method
        if method == "chat.postMessage":
            key += "/" + str(args.get("channel"))
        with st.lock:
            wait = st.take_token(key, method)
        if wait is not None:
            err = SlackError("ratelimited", 429)
            return self.answer(method, err, [("Retry-After", str(wait))])
        with st.lock:
            try:
                out = fn(st, args)
            except SlackError as e:
                out = e
            if isinstance(out, dict) and warning:
                out["warning"] = warning
                out.setdefault("response_metadata", {})["warnings"] = [warning]
            raw = json.dumps(out).encode() if isinstance(out, dict) else None
        if raw is None:
            return self.answer(method, out)
        self.call_done(method, 200, None)
        self.send(200, raw=raw)

    def answer(self, method, err, headers=()):
        self.call_done(method, err.status, err.error)
        self.send(err.status, dict({"ok": False, "error": err.error},
                                   **err.extra), headers=headers)

    def answer_garbage(self, method, h):
        kind = h.get("kind")
        status = int(h.get("status", 200))
        self.call_done(method, status, "garbage")
        self.close_connection = True
        if kind == "close" and "body" not in h:
            return
        body = garbage_body(h)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        n = len(body) + (1000 if kind == "short" and "body" not in h else 0)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        self.wfile.write(body)

    def arguments(self, method, query, body):
        """The call's arguments and a warning, or SlackError."""
        ctype = self.headers.get("Content-Type")
        if method in JSON_METHODS:
            if self.command != "POST":
                raise SlackError("invalid_post_type")
            if ctype is None:
                raise SlackError("missing_post_type")
            mime, _, params = ctype.partition(";")
            if mime.strip().lower() != "application/json":
                raise SlackError("invalid_post_type")
            charset = None
            for p in params.split(";"):
                k, _, v = p.strip().partition("=")
                if k.lower() == "charset":
                    charset = v.strip().strip('"').lower()
            if charset not in (None, "utf-8", "utf8"):
                raise SlackError("invalid_charset")
            try:
                args = json.loads(body.decode("utf-8"))
            except ValueError:
                raise SlackError("invalid_json")
            if not isinstance(args, dict):
                raise SlackError("json_not_object")
            return args, ("missing_charset" if charset is None else None)
        args = dict(urllib.parse.parse_qsl(query))
        mime = (ctype or "").partition(";")[0].strip().lower()
        if self.command == "POST" and mime == \
                "application/x-www-form-urlencoded":
            args.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        return args, None


def main():
    ap = argparse.ArgumentParser(description="Slack Web API server for tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--token", default="xoxb-test-token")
    ap.add_argument("--app-token", default="xapp-test-token")
    ap.add_argument("--socket-url")
    ap.add_argument("--team", default="T0FAKE")
    ap.add_argument("--bot-user", default="UBOTFAKE")
    ap.add_argument("--bot-id", default="BFAKE")
    ap.add_argument("--channel", action="append", default=[])
    ap.add_argument("--not-in", action="append", default=[])
    ap.add_argument("--tier-scale", type=float, default=1.0)
    ap.add_argument("--signing-secret", default="8f742231b10e8888abcd99yyyzzz85a5")
    opts = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    server.daemon_threads = True
    server.state = State(opts)
    port = server.server_address[1]
    if opts.port_file:
        with open(opts.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(opts.port_file + ".tmp", opts.port_file)
    print("PORT %d" % port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
