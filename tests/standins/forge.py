#!/usr/bin/env python3
"""A stand-in for a Gitea / Forgejo forge's API v1, for tests only (Python 3 standard library + `git`).
It speaks the subset Catalyst uses (server/src/gitops/forge.rs), with Gitea's JSON shapes and status codes:

  GET    /api/v1/orgs/{org}                   200 organisation / 404
  POST   /api/v1/orgs/{org}/repos             {"name", "private", "default_branch", ...} -> 201 repository;
                                              409 if it exists, 404 if the organisation does not, 422 bad name
  GET    /api/v1/repos/{owner}/{repo}         200 repository / 404
  DELETE /api/v1/repos/{owner}/{repo}         204 / 404 (its deploy keys go with it)
  GET    /api/v1/repos/{owner}/{repo}/keys    200 list of deploy keys
  POST   /api/v1/repos/{owner}/{repo}/keys    {"title", "key", "read_only"} -> 201 key; 422 if the key is
                                              not an OpenSSH public key or already registered anywhere
  DELETE /api/v1/repos/{owner}/{repo}/keys/{id}  204 / 404

Every repository is a real bare repository: {root}/{org}/{name}.git, which tests/standins/git_http.py serves
(run it with the same --root); a repository's clone_url is {--git-url}/{org}/{name}.git, its ssh_url
git@{--ssh-host}:{org}/{name}.git (port 22, Gitea's scp form) or ssh://git@{host}:{port}/{org}/{name}.git. Authentication: `Authorization: token <--token>`; anything else 401.
Errors are {"message": ..., "url": ...} as Gitea answers.

Run: forge.py --root DIR --git-url URL --token T [--org ORG ...] [--port 0]
It prints "listening on http://127.0.0.1:<port>" once ready.

Test hooks (not part of Gitea's API): GET /__standin/state (organisations, repositories and their keys) and
POST /__standin/fail {"status": 500, "message": "..."} (the next API call answers that, once).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
KEY = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]+( .*)?$")


class State:
    def __init__(self, root, git_url, ssh_host, orgs):
        self.root = root
        self.git_url = git_url.rstrip("/")
        self.ssh_host = ssh_host
        self.orgs = set(orgs)
        self.repos = {}  # (owner, name) -> dict
        self.keys = {}  # (owner, name) -> [key dict]
        self.next_id = 1
        self.fail = None
        self.lock = threading.Lock()

    def new_id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def ssh_url(self, owner, name):
        # As Gitea answers: the scp form on port 22, an ssh:// URL with the port otherwise.
        host, _, port = self.ssh_host.partition(":")
        if port in ("", "22"):
            return "git@%s:%s/%s.git" % (host, owner, name)
        return "ssh://git@%s:%s/%s/%s.git" % (host, port, owner, name)

    def repo_json(self, owner, name):
        r = self.repos[(owner, name)]
        return {
            "id": r["id"],
            "name": name,
            "full_name": "%s/%s" % (owner, name),
            "owner": {"id": 1, "login": owner},
            "private": r["private"],
            "default_branch": r["default_branch"],
            "clone_url": "%s/%s/%s.git" % (self.git_url, owner, name),
            "ssh_url": self.ssh_url(owner, name),
            "html_url": "%s/%s/%s" % (self.git_url, owner, name),
        }


def make_handler(state, token):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, status, body=None):
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, status, message):
            self.reply(status, {"message": message, "url": "https://forge.invalid/api/swagger"})

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            try:
                return json.loads(raw or b"{}")
            except ValueError:
                return None

        def handle_any(self):
            payload = self.body()
            path = self.path.partition("?")[0]
            with state.lock:
                if path == "/__standin/state":
                    return self.reply(200, {
                        "repos": sorted("%s/%s" % k for k in state.repos),
                        "keys": {"%s/%s" % k: v for k, v in state.keys.items()},
                    })
                if path == "/__standin/fail" and self.command == "POST":
                    state.fail = payload or {}
                    return self.reply(204)
                if self.headers.get("Authorization", "") != "token %s" % token:
                    return self.error(401, "user does not exist [uid: 0, name: ]")
                if state.fail is not None:
                    f, state.fail = state.fail, None
                    return self.error(int(f.get("status", 500)), f.get("message", "internal error"))
                if payload is None:
                    return self.error(400, "invalid JSON")
                return self.route(path, payload)

        def route(self, path, payload):
            parts = [p for p in path.split("/") if p]
            if parts[:2] != ["api", "v1"]:
                return self.error(404, "not found")
            parts = parts[2:]
            m = self.command
            if len(parts) == 2 and parts[0] == "orgs" and m == "GET":
                if parts[1] not in state.orgs:
                    return self.error(404, "GetOrgByName")
                return self.reply(200, {"id": 1, "username": parts[1], "name": parts[1], "visibility": "private"})
            if len(parts) == 3 and parts[0] == "orgs" and parts[2] == "repos" and m == "POST":
                return self.create_repo(parts[1], payload)
            if len(parts) >= 3 and parts[0] == "repos":
                owner, name = parts[1], parts[2]
                if (owner, name) not in state.repos:
                    return self.error(404, "The target couldn't be found.")
                rest = parts[3:]
                if not rest and m == "GET":
                    return self.reply(200, state.repo_json(owner, name))
                if not rest and m == "DELETE":
                    del state.repos[(owner, name)]
                    state.keys.pop((owner, name), None)
                    shutil.rmtree(os.path.join(state.root, owner, name + ".git"), ignore_errors=True)
                    return self.reply(204)
                if rest == ["keys"] and m == "GET":
                    return self.reply(200, state.keys.get((owner, name), []))
                if rest == ["keys"] and m == "POST":
                    return self.add_key(owner, name, payload)
                if len(rest) == 2 and rest[0] == "keys" and m == "DELETE":
                    keys = state.keys.get((owner, name), [])
                    kept = [k for k in keys if str(k["id"]) != rest[1]]
                    if len(kept) == len(keys):
                        return self.error(404, "The target couldn't be found.")
                    state.keys[(owner, name)] = kept
                    return self.reply(204)
            return self.error(404, "not found")

        def create_repo(self, org, payload):
            if org not in state.orgs:
                return self.error(404, "GetOrgByName")
            name = str(payload.get("name", ""))
            if not NAME.match(name) or name.endswith(".git") or name in (".", ".."):
                return self.error(422, "[Name]: invalid name")
            if (org, name) in state.repos:
                return self.error(409, "The repository with the same name already exists.")
            path = os.path.join(state.root, org, name + ".git")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            subprocess.run(["git", "init", "-q", "--bare", path], check=True)
            subprocess.run(["git", "-C", path, "config", "http.receivepack", "true"], check=True)
            state.repos[(org, name)] = {
                "id": state.new_id(),
                "private": bool(payload.get("private", False)),
                "default_branch": str(payload.get("default_branch") or "main"),
            }
            state.keys[(org, name)] = []
            return self.reply(201, state.repo_json(org, name))

        def add_key(self, owner, name, payload):
            key = str(payload.get("key", "")).strip()
            if not KEY.match(key):
                return self.error(422, "[Key]: invalid key content")
            material = " ".join(key.split()[:2])
            for keys in state.keys.values():
                if any(" ".join(k["key"].split()[:2]) == material for k in keys):
                    return self.error(422, "Key content has been used as non-deploy key")
            k = {
                "id": state.new_id(),
                "key_id": 0,
                "key": key,
                "title": str(payload.get("title", "")),
                "read_only": bool(payload.get("read_only", False)),
                "url": "/api/v1/repos/%s/%s/keys" % (owner, name),
            }
            state.keys[(owner, name)].append(k)
            return self.reply(201, k)

        do_GET = handle_any
        do_POST = handle_any
        do_DELETE = handle_any

    return Handler


def main():
    p = argparse.ArgumentParser(description="Gitea/Forgejo API stand-in (tests only)")
    p.add_argument("--root", required=True)
    p.add_argument("--git-url", required=True)
    p.add_argument("--ssh-host", default="forge.invalid")
    p.add_argument("--token", required=True)
    p.add_argument("--org", action="append", default=None)
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args()
    state = State(os.path.abspath(a.root), a.git_url, a.ssh_host, a.org or ["sovereigns"])
    server = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(state, a.token))
    print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
