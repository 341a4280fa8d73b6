#!/usr/bin/env python3
"""`make run`, marketplace part: what the compute marketplace does over chessd's TCP API (TLS).

Usage: demo-market.py PORT TOKEN WORKDIR

Reports a CPT/USD price as an oracle source, asks a quote, submits a job funded by an escrow
that covers it, waits for it to run and end, then reads its settlement off the feed (signed,
EIP-712), acknowledges it, and shows that the same escrow cannot fund a second job.
Standard library only: the marketplace is any HTTP client with a bearer token. With
CHESS_TLS_CA (chessd has [tls]), it speaks HTTPS and trusts only that CA.
"""
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

port, token, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
CA = os.environ.get("CHESS_TLS_CA")
TLS = ssl.create_default_context(cafile=CA) if CA else None


def call(method, path, body=None):
    request = urllib.request.Request(
        f"{'https://localhost' if TLS else 'http://127.0.0.1'}:{port}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30, context=TLS) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


def show(title, status, answer, only=None):
    print(f"-- {title}: HTTP {status}")
    shown = {k: v for k, v in answer.items() if only is None or k in only}
    print(json.dumps(shown, indent=2, sort_keys=True))


JOB_FIELDS = {"id", "state", "escrow_state", "escrow_id", "start_latency", "reason", "settlement_id"}


status, answer = call("PUT", "/v1/market/oracle/demo", {"price": "0.25", "time": int(time.time())})
show("PUT /v1/market/oracle/demo (CPT at 0.25 USD)", status, answer)

job = {"script": "#!/bin/sh\nsleep 2\necho paid work done on $(hostname)\n", "partition": "batch",
       "cpus_per_task": 4, "mem_mb": 2048, "time_limit": 600, "workdir": workdir,
       "output": f"{workdir}/market-%j.out"}
status, quote = call("POST", "/v1/market/quote", job)
show("POST /v1/market/quote (4 cores, 2 GiB, 10 minutes)", status, quote, {"partition", "qos", "price", "required_escrow", "time_limit"})
if status != 200:
    sys.exit(f"demo-market: the quote was refused: {quote}")

escrow = {"escrow_id": "0x" + "d3" * 32, "payer": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
          "amount": quote["required_escrow"], "transaction": "0x" + "77" * 32}
status, funded = call("POST", "/v1/market/jobs", {"job": job, "escrow": escrow})
show("POST /v1/market/jobs (escrow = the quote's required escrow)", status, funded, JOB_FIELDS)
if status != 201:
    sys.exit(f"demo-market: the funded job was refused: {funded}")
job_id = funded["id"]

deadline = time.time() + 60
while time.time() < deadline:
    status, state = call("GET", f"/v1/market/jobs/{job_id}")
    if state.get("settlement_id"):
        break
    time.sleep(0.5)
show(f"GET /v1/market/jobs/{job_id} (ended and settled)", status, state, JOB_FIELDS)

status, feed = call("GET", "/v1/market/settlements?after=0&wait=10")
settlement = next((s for s in feed.get("settlements", []) if s["job_id"] == job_id), None)
if settlement is None:
    sys.exit(f"demo-market: no signed settlement for job {job_id} on the feed: {feed}")
settlement.pop("typed_data", None)  # the EIP-712 payload a wallet verifies; long, so not shown
show("GET /v1/market/settlements?after=0 (payout + fee + refund = escrow; signed by the provider's key)",
     status, settlement)
status, acked = call("POST", f"/v1/market/settlements/{settlement['id']}/ack")
print(f"-- POST /v1/market/settlements/…/ack: HTTP {status}, acknowledged_at {acked.get('acknowledged_at')}")
status, again = call("POST", "/v1/market/jobs", {"job": job, "escrow": escrow})
refusal = again.get("error", {})
print(f"-- the same escrow again: HTTP {status} {refusal.get('code')}: {refusal.get('message')}")
