#!/usr/bin/env python3
"""A stand-in Kubernetes API server for tests: serves Flux HelmReleases (helm.toolkit.fluxcd.io/v2) in
flux-system with the real list / watch / merge-patch shapes, so kube-rs talks to it as to a cluster.

    python3 tests/standins/kube.py --port 0 --tls-dir DIR [--token TOKEN]
        # prints "listening on https://127.0.0.1:<port>" and serves

Like a k3s API server it speaks only HTTPS and wants credentials: it creates (with the `openssl` binary) a
CA, a serving certificate for `kubernetes.default.svc` and 127.0.0.1, and a client certificate in DIR
(`ca.pem`, `client.pem`, `client.key`), and answers the Kubernetes API only to a client that presents that
client certificate or `Authorization: Bearer TOKEN` (401 Status otherwise).

Tests drive the HelmReleases through a control API beside the Kubernetes one:
    PUT    /_standin/helmreleases/<name>   {"ready": {"status": "True", "reason": "...", "message": "..."}} (or {"ready": null})
    DELETE /_standin/helmreleases/<name>
    GET    /_standin/patches               the merge patches clients sent (e.g. reconcile requests)
    GET    /_standin/requests              how many list / watch calls arrived
"""
import argparse
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

GROUP, VERSION, NS = "helm.toolkit.fluxcd.io", "v2", "flux-system"
BASE = f"/apis/{GROUP}/{VERSION}/namespaces/{NS}/helmreleases"

lock = threading.Condition()
objects = {}   # name -> object
events = []    # (resourceVersion, type, object)
patches = []
counts = {"list": 0, "watch": 0}
rv = [1]


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def record(kind, obj):
    """Bump the resourceVersion, store the event, wake watchers. Call with the lock held."""
    rv[0] += 1
    obj["metadata"]["resourceVersion"] = str(rv[0])
    events.append((rv[0], kind, json.loads(json.dumps(obj))))
    lock.notify_all()


def helmrelease(name, ready):
    obj = objects.get(name) or {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}", "generation": 1,
                     "creationTimestamp": now(), "annotations": {}},
        "spec": {"interval": "15m", "chart": {"spec": {"chart": name, "sourceRef": {"kind": "HelmRepository", "name": name}}}},
        "status": {"conditions": []},
    }
    conditions = []
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready.get("status", "Unknown"),
                           "reason": ready.get("reason", ""), "message": ready.get("message", ""),
                           "lastTransitionTime": now(), "observedGeneration": 1})
    obj["status"] = {"conditions": conditions}
    # Setting a new condition is Flux handling any pending reconcile request.
    requested = (obj["metadata"].get("annotations") or {}).get("reconcile.fluxcd.io/requestedAt")
    if requested:
        obj["status"]["lastHandledReconcileAt"] = requested
    return obj


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"null") if n else None

    def not_found(self):
        self.send_json(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                             "message": "not found", "reason": "NotFound", "code": 404})

    def authorized(self):
        """The Kubernetes API wants a client certificate of the CA or the bearer token."""
        if self.connection.getpeercert():
            return True
        if TOKEN and self.headers.get("Authorization", "") == "Bearer " + TOKEN:
            return True
        self.send_json(401, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                             "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
        return False

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if not url.path.startswith("/_standin/") and not self.authorized():
            return
        if url.path == "/_standin/patches":
            with lock:
                return self.send_json(200, patches)
        if url.path == "/_standin/requests":
            with lock:
                return self.send_json(200, counts)
        if url.path != BASE:
            return self.not_found()
        if q.get("watch", ["false"])[0] in ("true", "1"):
            return self.watch(q)
        with lock:
            counts["list"] += 1
            body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "HelmReleaseList",
                    "metadata": {"resourceVersion": str(rv[0])},
                    "items": [objects[k] for k in sorted(objects)]}
        self.send_json(200, body)

    def watch(self, q):
        since = int(q.get("resourceVersion", ["0"])[0] or 0)
        timeout = min(int(q.get("timeoutSeconds", ["290"])[0]), 290)
        deadline = time.time() + timeout
        with lock:
            counts["watch"] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            while time.time() < deadline:
                with lock:
                    pending = [e for e in events if e[0] > since]
                    if not pending:
                        lock.wait(timeout=min(1.0, max(0.0, deadline - time.time())))
                        continue
                for version, kind, obj in pending:
                    line = json.dumps({"type": kind, "object": obj}).encode() + b"\n"
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    since = version
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_PUT(self):
        url = urlparse(self.path)
        if not url.path.startswith("/_standin/helmreleases/"):
            return self.not_found()
        name = url.path.rsplit("/", 1)[1]
        body = self.read_body() or {}
        with lock:
            existed = name in objects
            obj = helmrelease(name, body.get("ready"))
            objects[name] = obj
            record("MODIFIED" if existed else "ADDED", obj)
        self.send_json(200, obj)

    def do_DELETE(self):
        url = urlparse(self.path)
        if not url.path.startswith("/_standin/helmreleases/"):
            return self.not_found()
        name = url.path.rsplit("/", 1)[1]
        with lock:
            obj = objects.pop(name, None)
            if obj is None:
                return self.not_found()
            record("DELETED", obj)
        self.send_json(200, obj)

    def do_PATCH(self):
        url = urlparse(self.path)
        if not self.authorized():
            return
        if not url.path.startswith(BASE + "/"):
            return self.not_found()
        name = url.path.rsplit("/", 1)[1]
        body = self.read_body() or {}
        with lock:
            obj = objects.get(name)
            if obj is None:
                return self.not_found()
            patches.append({"name": name, "patch": body, "contentType": self.headers.get("Content-Type", "")})
            annotations = (body.get("metadata") or {}).get("annotations") or {}
            obj["metadata"].setdefault("annotations", {}).update(annotations)
            record("MODIFIED", obj)
        self.send_json(200, obj)


TOKEN = ""


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certificates(d):
    """A CA, a serving certificate (kubernetes.default.svc, 127.0.0.1) and a client certificate in d."""
    j = lambda n: os.path.join(d, n)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=stand-in-ca", "-keyout", j("ca.key"), "-out",
            j("ca.pem"), "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, cn, ext in (
            ("server", "kube-apiserver", "subjectAltName=DNS:kubernetes.default.svc,IP:127.0.0.1\n"
                                         "extendedKeyUsage=serverAuth\n"),
            ("client", "system:admin", "extendedKeyUsage=clientAuth\n")):
        with open(j(name + ".ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n" + ext)
        openssl("req", *ec, "-subj", "/CN=" + cn, "-keyout", j(name + ".key"), "-out", j(name + ".csr"))
        openssl("x509", "-req", "-in", j(name + ".csr"), "-CA", j("ca.pem"), "-CAkey", j("ca.key"),
                "-CAcreateserial", "-days", "2", "-extfile", j(name + ".ext"), "-out", j(name + ".pem"))


def main():
    global TOKEN
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls-dir", required=True, help="where the CA and certificates are written")
    p.add_argument("--token", default="", help="bearer token the API accepts besides the client certificate")
    args = p.parse_args()
    TOKEN = args.token
    make_certificates(args.tls_dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(args.tls_dir, "server.pem"), os.path.join(args.tls_dir, "server.key"))
    ctx.load_verify_locations(os.path.join(args.tls_dir, "ca.pem"))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"listening on https://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
