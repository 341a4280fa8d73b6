#!/usr/bin/env python3
"""Drive a live chessd from docs/openapi.yaml with schemathesis, as each kind of caller.

    scripts/api-contract.py [--examples N] [--chessd PATH] [--seed N]

Starts chessd (the debug build unless --chessd says otherwise) in a temporary folder with a
Unix socket, a TCP listener on loopback and a marketplace, makes market tokens of each scope,
and runs schemathesis against:

  - the Unix socket as root and as nobody (through a small TCP-to-Unix relay started as that
    user, so that chessd's SO_PEERCRED sees that user: schemathesis speaks TCP only);
  - the TCP listener with a token of each scope (read, submit, settle, oracle, admin) and with
    none (agent routes without a signature, market routes without a token).

Checks: no 5xx answer, every status, content type and body as documented. Exits non-zero with
schemathesis's report when any fails. Root is needed (chessd runs as root; the relay for
nobody changes user). chessd is stopped by its PID whatever happens.
"""
import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import json
import http.client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOBODY = 65534
# The settlement feed is an endless server-sent-events stream: a client reads it, it does not end.
SKIPPED = r"^/v1/market/settlements/stream$"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("chessd", timeout=10)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.path)


def local_call(sock, method, target, body=None):
    c = UnixHTTP(sock)
    c.request(method, target, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def relay(port, unix_path, uid):
    """A TCP listener on 127.0.0.1:port that forwards each connection to chessd's socket, in a
    child process running as `uid`. Returns the child's PID."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    pid = os.fork()
    if pid:
        listener.close()
        return pid
    try:
        if uid != 0:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)

        def pump(a, b):
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        while True:
            client, _ = listener.accept()
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(unix_path)
            except OSError:
                client.close()
                continue
            threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
    finally:
        os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", type=int, default=int(os.environ.get("CHESS_CONTRACT_EXAMPLES", "12")),
                    help="schemathesis examples per operation and caller (default 12)")
    ap.add_argument("--chessd", default=os.path.join(ROOT, ".build/debug/chessd"))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CHESS_CONTRACT_SEED", "1")))
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (chessd's log is there)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("api-contract: run as root (chessd runs as root, and one relay runs as nobody)")
    schemathesis = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    if not os.path.exists(schemathesis):
        sys.exit(f"api-contract: schemathesis not found beside {sys.executable} (make test installs it in .build-venv)")

    work = tempfile.mkdtemp(prefix="chess-contract-")
    os.chmod(work, 0o755)  # nobody's relay must reach the socket
    state = os.path.join(work, "state")
    sock = os.path.join(work, "chessd.sock")
    tcp = free_port()
    with open(os.path.join(work, "cluster.key"), "wb") as f:
        f.write(secrets.token_bytes(32))
    os.chmod(os.path.join(work, "cluster.key"), 0o600)
    with open(os.path.join(work, "provider.key"), "w") as f:
        f.write("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n")
    os.chmod(os.path.join(work, "provider.key"), 0o600)
    with open(os.path.join(work, "chess.toml"), "w") as f:
        f.write(f"""cluster_name = "contract"
state_dir = "{state}"
socket = "{sock}"
listen = "127.0.0.1:{tcp}"
key_file = "cluster.key"
[[nodes]]
names = "n[01-02]"
cores_per_socket = 8
memory_mb = 16000
[[partitions]]
name = "batch"
nodes = "n[01-02]"
default_time = "10:00"
prices = {{ core_hour = "0.36" }}
[[accounts]]
name = "default"
[[reservations]]
name = "maint"
nodes = "n01"
start = 4000000000
end = 4000003600
users = ["nobody"]
[market]
chain_id = 8453
escrow_contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
provider_key_file = "provider.key"
oracle_sources = ["demo"]
rate_limit_per_minute = 1000000
run_as = "nobody"
""")
    log = open(os.path.join(work, "chessd.log"), "w")
    chessd = subprocess.Popen([args.chessd, "--config", os.path.join(work, "chess.toml")], stdout=log, stderr=log,
                              env={**os.environ, "CHESS_LOG_LEVEL": "warning"})
    relays = []
    failed = []
    try:
        for _ in range(200):
            if os.path.exists(sock) or chessd.poll() is not None:
                break
            time.sleep(0.05)
        if chessd.poll() is not None or not os.path.exists(sock):
            sys.exit("api-contract: chessd did not start:\n" + open(os.path.join(work, "chessd.log")).read())
        # Something for the reads to find: a job of nobody's and one of root's, held.
        for user_body in ({"script": "#!/bin/sh\ntrue\n", "hold": True, "name": "contract"},):
            status, data = local_call(sock, "POST", "/v1/jobs", user_body)
            assert status == 201, (status, data)
        tokens = {}
        for scope in ("read", "submit", "settle", "oracle", "admin"):
            status, data = local_call(sock, "POST", "/v1/market/tokens",
                                      {"name": f"contract-{scope}", "scopes": [scope], "user": "nobody"})
            assert status in (200, 201), (status, data)
            tokens[scope] = json.loads(data)["token"]

        root_port, nobody_port = free_port(), free_port()
        relays.append(relay(root_port, sock, 0))
        relays.append(relay(nobody_port, sock, NOBODY))

        config = os.path.join(work, "schemathesis.toml")
        with open(config, "w") as f:
            # The feed's long poll: held up to `wait` seconds by design, not a slow server.
            f.write('[parameters]\n"query.wait" = 0\n')
        checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
        market = r"^/v1/market/(prices|quote|jobs|settlements|sla|oracle)"
        runs = [
            ("Unix socket as root", root_port, [], r"^/v1/(?!agent/|market/(prices|quote|jobs|settlements|sla|oracle))|^/metrics$"),
            ("Unix socket as nobody", nobody_port, [], r"^/v1/(?!agent/|market/(prices|quote|jobs|settlements|sla|oracle))|^/metrics$"),
            ("TCP without a credential", tcp, [], r"^/v1/agent/|" + market + "|^/metrics$"),
        ] + [(f"TCP with a {scope} token", tcp, ["-H", f"Authorization: Bearer {token}"], market)
             for scope, token in tokens.items()]
        for name, port, headers, paths in runs:
            print(f"== {name}", flush=True)
            command = [schemathesis, "--config-file", config, "run", os.path.join(ROOT, "docs/openapi.yaml"),
                       "--url", f"http://127.0.0.1:{port}", "--checks", checks,
                       "--include-path-regex", paths, "--exclude-path-regex", SKIPPED,
                       "--max-examples", str(args.examples), "--seed", str(args.seed), "--workers", "1",
                       "--request-timeout", "20", "--suppress-health-check", "all", "--no-color",
                       "--output-truncate", "true"] + headers
            result = subprocess.run(command, cwd=work)
            if result.returncode != 0:
                failed.append(name)
            if chessd.poll() is not None:
                failed.append(f"chessd stopped (exit {chessd.returncode}) during '{name}'")
                break
    finally:
        for pid in relays:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if chessd.poll() is None:
            chessd.send_signal(signal.SIGTERM)
            try:
                chessd.wait(10)
            except subprocess.TimeoutExpired:
                chessd.kill()
        log.close()
        if failed:
            print("chessd's log:\n" + open(os.path.join(work, "chessd.log")).read()[-4000:])
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    if failed:
        sys.exit("api-contract: failed: " + "; ".join(failed))
    print("api-contract: every caller's answers are as docs/openapi.yaml documents them")


if __name__ == "__main__":
    main()
