#!/usr/bin/env python3
"""A test Teams client: posts an Action.Execute click to a bot's messaging
endpoint as Teams does, an invoke activity named adaptiveCard/action with
a Bot Framework JWT signed by one of fake_teams.py's keys.

    teams_client.py STATE-DIR URL [--name value]...

Prints the HTTP status; the answer's body goes to STATE-DIR/answer.json.
Knobs (defaults make a valid click): --key msteams|skype|unknown,
--alg RS256|RS384|none|HS256, --aud, --iss, --exp (seconds from now),
--nbf, --claim-url (the token's serviceurl), --service-url (the
activity's), --tenant, --oid, --verb, --request, --reason, --argv-text,
--id (activity id), --type, --channel, --no-token, --dump FILE (the activity sent),
--replay FILE (send that activity again, with a fresh token).
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(a):
    now = int(time.time())
    claims = {"serviceurl": a.claim_url or a.service_url,
              "nbf": now + a.nbf, "exp": now + a.exp,
              "iss": a.iss, "aud": a.aud}
    header = {"alg": a.alg, "typ": "JWT", "kid": a.key, "x5t": a.key}
    signing = (b64u(json.dumps(header).encode()) + "." +
               b64u(json.dumps(claims).encode())).encode()
    if a.alg == "none":
        return signing.decode() + "."
    pem = open(os.path.join(a.state, a.key + ".pem"), "rb").read()
    if a.alg == "HS256":
        return signing.decode() + "." + b64u(hmac.new(pem, signing,
                                                      hashlib.sha256).digest())
    key = serialization.load_pem_private_key(pem, None)
    h = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384()}[a.alg]
    return signing.decode() + "." + b64u(key.sign(signing, padding.PKCS1v15(),
                                                  h))


def activity(a):
    now = datetime.datetime.now(datetime.timezone.utc)
    data = {"request": a.request}
    if a.reason is not None:
        data["reason"] = a.reason
    if a.argv_text is not None:
        data["argv-text"] = a.argv_text
    return {
        "name": "adaptiveCard/action",
        "type": a.type,
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "localTimestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00",
        "id": a.id,
        "channelId": a.channel,
        "serviceUrl": a.service_url,
        "from": {"id": "29:1" + a.oid.replace("-", ""), "name": "Someone",
                 "aadObjectId": a.oid},
        "conversation": {"isGroup": True, "conversationType": "channel",
                         "tenantId": a.tenant,
                         "id": "19:approvals@thread.tacv2;messageid=1"},
        "recipient": {"id": "28:" + a.aud, "name": "approve-exec"},
        "entities": [{"locale": "en-US", "country": "US", "platform": "Web",
                      "timezone": "Europe/Paris", "type": "clientInfo"}],
        "channelData": {"channel": {"id": "19:approvals@thread.tacv2"},
                        "team": {"id": "19:team@thread.tacv2"},
                        "tenant": {"id": a.tenant},
                        "source": {"name": "message"},
                        "legacy": {"replyToId": "1:abc"}},
        "replyToId": "1000000000001",
        "value": {"action": {"type": "Action.Execute", "title": a.verb.title(),
                             "verb": a.verb, "data": data},
                  "trigger": "manual"},
        "locale": "en-US",
        "localTimezone": "Europe/Paris",
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("state")
    p.add_argument("url")
    p.add_argument("--key", default="msteams")
    p.add_argument("--alg", default="RS256")
    p.add_argument("--aud", default="11111111-2222-3333-4444-555555555555")
    p.add_argument("--iss", default="https://api.botframework.com")
    p.add_argument("--exp", type=int, default=3600)
    p.add_argument("--nbf", type=int, default=-60)
    p.add_argument("--claim-url")
    p.add_argument("--service-url", required=True)
    p.add_argument("--tenant", default="aaaaaaaa-0000-0000-0000-000000000001")
    p.add_argument("--oid", default="0000a11c-0000-0000-0000-000000000001")
    p.add_argument("--verb", default="approve")
    p.add_argument("--request", required=True)
    p.add_argument("--reason")
    p.add_argument("--argv-text")
    p.add_argument("--id", default="f:7000000000000000001")
    p.add_argument("--type", default="invoke")
    p.add_argument("--channel", default="msteams")
    p.add_argument("--no-token", action="store_true")
    p.add_argument("--dump")
    p.add_argument("--replay")
    a = p.parse_args()
    if a.replay:
        body = open(a.replay, "rb").read()
        act = json.loads(body)
        a.service_url = act["serviceUrl"]
    else:
        body = json.dumps(activity(a)).encode()
    if a.dump:
        open(a.dump, "wb").write(body)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if not a.no_token:
        headers["Authorization"] = "Bearer " + token(a)
    req = urllib.request.Request(a.url + "/teams/messages", data=body,
                                 headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, out = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, out = e.code, e.read()
    open(os.path.join(a.state, "answer.json"), "wb").write(out)
    print(status)


main()
