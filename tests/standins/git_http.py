#!/usr/bin/env python3
"""A Git server over smart HTTP for tests (Python 3 standard library + the `git` binary): it checks HTTP
basic auth like a hosted Git service does, then hands the request to `git http-backend` (the CGI program
that ships with Git), so clients speak the real protocol, pushes included.

Run: git_http.py --root DIR [--user U --token T] [--port 0]
Repositories are the bare repositories under DIR (http://127.0.0.1:<port>/<name>.git). Without --token no
authentication is asked for. It prints "listening on http://127.0.0.1:<port>" once ready.
"""

import argparse
import base64
import os
import subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_handler(root, user, token):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def deny(self):
            body = b"Authentication required\n"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git stand-in"')
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def authorised(self):
            if token is None:
                return True
            auth = self.headers.get("Authorization", "")
            if not auth.lower().startswith("basic "):
                return False
            try:
                given = base64.b64decode(auth[6:].strip()).decode()
            except ValueError:
                return False
            return given == "%s:%s" % (user, token)

        def read_body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def handle_any(self):
            body = self.read_body()
            if not self.authorised():
                return self.deny()
            path, _, query = self.path.partition("?")
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_PROJECT_ROOT": root,
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_ADDR": self.client_address[0],
                "REMOTE_USER": user or "anonymous",
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "GIT_CONFIG_NOSYSTEM": "1",
                "HOME": root,
            }
            proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
            out = proc.stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            if not _:
                head, _, payload = out.partition(b"\n\n")
            status = 200
            headers = []
            for line in head.splitlines():
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "status":
                    status = int(value.strip().split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = handle_any
        do_POST = handle_any

    return Handler


def main():
    p = argparse.ArgumentParser(description="Git smart-HTTP stand-in (tests only)")
    p.add_argument("--root", required=True)
    p.add_argument("--user", default="catalyst")
    p.add_argument("--token", default=None)
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(os.path.abspath(a.root), a.user, a.token))
    print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
