#!/usr/bin/env python3
"""Stand-in for the part of the Hetzner Cloud API the wizard's token check uses: GET /v1/servers.

Answers like the real API: 200 with an empty server list for an accepted token, 401 with Hetzner's error
body for any other. Accepted tokens: every --token given, plus any 64+ character token that starts with
"valid". Usage: hetzner_tokens.py --port 0 [--token T ...]; prints "listening on PORT" when ready.
"""
import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", action="append", default=[])
    args = ap.parse_args()
    accepted = set(args.token)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):  # quiet
            pass

        def send_json(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?")[0]
            auth = self.headers.get("authorization", "")
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
            if path != "/v1/servers":
                return self.send_json(404, {"error": {"code": "not_found", "message": "not found"}})
            if token in accepted or (token.startswith("valid") and len(token) >= 64):
                return self.send_json(200, {"servers": [], "meta": {"pagination": {"page": 1, "per_page": 1, "total_entries": 0}}})
            return self.send_json(401, {"error": {"code": "unauthorized", "message": "unable to authenticate"}})

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
