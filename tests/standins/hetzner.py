#!/usr/bin/env python3
"""A stand-in for the Hetzner Cloud API (https://api.hetzner.cloud/v1), for tests only (Python 3 standard
library). It speaks the subset Catalyst uses, with the real JSON shapes:

  GET    /v1/{servers,load_balancers,volumes,primary_ips,firewalls,placement_groups,networks,ssh_keys}
         ?page=&per_page=&label_selector=&name=      list, with meta.pagination
  GET    /v1/<collection>/<id>                       one item ({"server": {...}} …)
  DELETE /v1/<collection>/<id>                       with Hetzner's rules (below)
  POST   /v1/ssh_keys                                validates name and public_key (nothing else is created)
  POST   /v1/volumes/<id>/actions/detach
  POST   /v1/primary_ips/<id>/actions/unassign
  POST   /v1/firewalls/<id>/actions/remove_from_resources
  GET    /v1/pricing

Authentication: `Authorization: Bearer <token>`. The --token is read & write; --readonly-token may only GET
(anything else: 403 token_readonly); any other token: 401 unauthorized. Errors are
{"error": {"code": ..., "message": ..., "details": ...}} with Hetzner's codes.

Deletion rules, as the real API has them:
  - a server goes away --delete-lag list calls after its DELETE (status "deleting" meanwhile); then it leaves
    its networks, firewalls, placement group and load balancer targets, its volumes are detached, its
    auto-delete primary IPs are deleted and the others unassigned;
  - a firewall still applied to a server, a placement group with servers, an attached volume and an assigned
    primary IP answer 422 resource_in_use; a network with servers still attached is deleted (Hetzner detaches
    them); delete protection answers 403 protected.

Seed: --seed FILE (JSON object: collection -> list of items in API shape; missing fields are filled in).

Test hooks (not part of Hetzner's API): GET /__standin/requests (every request so far, in order, as
[{"method", "path"}]) and GET /__standin/state (all collections).

Run: hetzner.py --port 0 --token T [--readonly-token R] [--seed FILE] [--delete-lag N]
It prints "listening on http://127.0.0.1:<port>/v1" once ready.
"""

import argparse
import json
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COLLECTIONS = {
    "servers": "server",
    "load_balancers": "load_balancer",
    "volumes": "volume",
    "primary_ips": "primary_ip",
    "firewalls": "firewall",
    "placement_groups": "placement_group",
    "networks": "network",
    "ssh_keys": "ssh_key",
}

LOCATIONS = [
    # id, name, city, country, network zone
    (1, "fsn1", "Falkenstein", "DE", "eu-central"),
    (2, "nbg1", "Nuremberg", "DE", "eu-central"),
    (3, "hel1", "Helsinki", "FI", "eu-central"),
    (4, "ash", "Ashburn, VA", "US", "us-east"),
    (5, "hil", "Hillsboro, OR", "US", "us-west"),
]
EU = ("fsn1", "nbg1", "hel1")
ALL_LOCATIONS = tuple(l[1] for l in LOCATIONS)
VAT = "0.19"

# The stand-in's catalogue of server types: name -> (cores, memory GB, disk GB, cpu_type, architecture,
# net monthly EUR in the EU locations, locations it is sold in). The figures are the stand-in's own (of the
# kind Hetzner lists), so tests can compute expected costs by hand; US locations cost 20 % more and
# include 1 TB of traffic instead of 20 TB.
SERVER_TYPES = {
    "cx23": (2, 4, 40, "shared", "x86", "3.49", EU),
    "cx33": (4, 8, 80, "shared", "x86", "5.49", EU),
    "cx43": (8, 16, 160, "shared", "x86", "9.49", EU),
    "cx53": (16, 32, 320, "shared", "x86", "17.49", EU),
    "cpx22": (2, 4, 80, "shared", "x86", "7.99", ALL_LOCATIONS),
    "cpx32": (4, 8, 160, "shared", "x86", "13.99", ALL_LOCATIONS),
    "cpx42": (8, 16, 320, "shared", "x86", "25.49", ALL_LOCATIONS),
    "cpx52": (12, 24, 480, "shared", "x86", "36.49", ALL_LOCATIONS),
    "cpx62": (16, 32, 640, "shared", "x86", "50.49", ALL_LOCATIONS),
    "cax11": (2, 4, 40, "shared", "arm", "3.79", EU),
    "cax21": (4, 8, 80, "shared", "arm", "6.49", EU),
    "cax31": (8, 16, 160, "shared", "arm", "12.49", EU),
    "cax41": (16, 32, 320, "shared", "arm", "24.49", EU),
    "ccx13": (2, 8, 80, "dedicated", "x86", "12.49", ALL_LOCATIONS),
    "ccx23": (4, 16, 160, "dedicated", "x86", "24.49", ALL_LOCATIONS),
    "ccx33": (8, 32, 240, "dedicated", "x86", "48.49", ALL_LOCATIONS),
    "ccx43": (16, 64, 360, "dedicated", "x86", "96.49", ALL_LOCATIONS),
    "ccx53": (32, 128, 600, "dedicated", "x86", "192.49", ALL_LOCATIONS),
    "ccx63": (48, 192, 960, "dedicated", "x86", "288.49", ALL_LOCATIONS),
}
# name -> net monthly EUR in the EU locations.
LB_TYPES = {"lb11": "5.39", "lb21": "16.40", "lb31": "32.90"}
IPV4_MONTHLY = "0.50"
VOLUME_GB_MONTH = "0.0440"
TB = 1024 ** 4


def dec(x):
    """Hetzner writes amounts as strings with 16 decimals."""
    from decimal import Decimal, ROUND_HALF_UP
    return str(Decimal(x).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).quantize(Decimal("1E-16")))


def money(net):
    """A price as the API writes it: net to 4 decimals, and gross = that net plus VAT, to 4 decimals."""
    from decimal import Decimal
    n = Decimal(dec(net))
    return {"net": dec(n), "gross": dec(n * (1 + Decimal(VAT)))}


def location_net(net_eu, loc):
    from decimal import Decimal
    return str(Decimal(net_eu) * (Decimal("1.2") if loc not in EU else 1))


def hourly(net_monthly):
    """The stand-in's hourly price: the monthly cap over 730 hours, to 4 decimals."""
    from decimal import Decimal
    return str(Decimal(net_monthly) / Decimal(730))


def price_entry(net_eu, loc, traffic=True):
    monthly = location_net(net_eu, loc)
    e = {"location": loc, "price_hourly": money(hourly(monthly)), "price_monthly": money(monthly)}
    if traffic:
        e["included_traffic"] = (20 if loc in EU else 1) * TB
        e["price_per_tb_traffic"] = money("1.00")
    return e


def prices(table, name, locations=ALL_LOCATIONS):
    if table is SERVER_TYPES:
        net, locations = table[name][5], table[name][6]
    else:
        net = table.get(name, "9.99")
    return [price_entry(net, loc) for loc in locations]


def server_type_json(tid, name, unavailable, deprecated):
    cores, memory, disk, cpu, arch, _net, locs = SERVER_TYPES[name]
    locations = []
    for lid, lname, *_ in LOCATIONS:
        if lname not in locs:
            continue
        dep = deprecated.get((name, lname))
        locations.append({"id": lid, "name": lname, "recommended": name == "cpx32",
                          "available": (name, lname) not in unavailable,
                          "deprecation": None if dep is None else
                          {"announced": "2026-09-01T00:00:00+00:00", "unavailable_after": dep}})
    return {"id": tid, "name": name, "description": name.upper(), "category": None,
            "cores": cores, "memory": float(memory), "disk": disk, "storage_type": "local",
            "cpu_type": cpu, "architecture": arch, "deprecated": False, "deprecation": None,
            "prices": prices(SERVER_TYPES, name), "locations": locations}


def pricing_json():
    return {"pricing": {
        "currency": "EUR",
        "vat_rate": "19.00",
        "image": {"price_per_gb_month": money("0.0110")},
        "volume": {"price_per_gb_month": money(VOLUME_GB_MONTH)},
        "server_backup": {"percentage": "20.00"},
        "floating_ips": [],
        "primary_ips": [
            {"type": "ipv4", "prices": [{"location": loc, "price_hourly": money(hourly(IPV4_MONTHLY)),
                                         "price_monthly": money(IPV4_MONTHLY)} for loc in ALL_LOCATIONS]},
            {"type": "ipv6", "prices": [{"location": loc, "price_hourly": money("0"),
                                         "price_monthly": money("0")} for loc in ALL_LOCATIONS]},
        ],
        "server_types": [{"id": i + 1, "name": n, "prices": prices(SERVER_TYPES, n)}
                         for i, n in enumerate(SERVER_TYPES)],
        "load_balancer_types": [{"id": i + 1, "name": n, "prices": prices(LB_TYPES, n)}
                                for i, n in enumerate(LB_TYPES)],
    }}


class Cloud:
    def __init__(self, seed, delete_lag, unavailable=(), deprecated=()):
        self.lock = threading.Lock()
        # (server type, location) pairs: not available now / deprecated (-> unavailable_after).
        self.unavailable = set(unavailable)
        self.deprecated = dict(deprecated)
        # path -> [times, status, code]: the next `times` requests of that path fail (test hook).
        self.faults = {}
        # Requests answered in the current hour, for the RateLimit-* headers.
        self.budget_used = 0
        self.items = {c: {} for c in COLLECTIONS}
        self.deleting = {}  # server id -> list calls left
        self.delete_lag = delete_lag
        self.requests = []
        self.next_action = 1
        for coll, items in (seed or {}).items():
            if coll not in COLLECTIONS:
                raise SystemExit("seed: unknown collection %r" % coll)
            for it in items:
                self.items[coll][int(it["id"])] = self.fill(coll, dict(it))

    def fill(self, coll, it):
        it.setdefault("name", "%s-%d" % (COLLECTIONS[coll], it["id"]))
        it.setdefault("labels", {})
        it.setdefault("created", "2026-01-01T00:00:00+00:00")
        it.setdefault("protection", {"delete": False} if coll not in ("servers",) else
                      {"delete": False, "rebuild": False})
        loc = it.pop("location_name", None) or "fsn1"
        if coll == "servers":
            st = it.get("server_type")
            if isinstance(st, str) or st is None:
                name = st or "cpx32"
                cores, memory, disk = SERVER_TYPES[name][:3] if name in SERVER_TYPES else (4, 8, 160)
                it["server_type"] = {"id": 1, "name": name, "cores": cores, "memory": float(memory),
                                     "disk": disk, "prices": prices(SERVER_TYPES, name)
                                     if name in SERVER_TYPES else prices(LB_TYPES, name)}
            it.setdefault("status", "running")
            it.setdefault("location", {"id": 1, "name": loc, "network_zone": "eu-central"})
            it.setdefault("public_net", {"ipv4": {"id": it["id"] * 10, "ip": "203.0.113.%d" % (it["id"] % 250),
                                                  "blocked": False, "dns_ptr": ""},
                                         "ipv6": None, "floating_ips": [], "firewalls": []})
            it.setdefault("private_net", [])
            it.setdefault("volumes", [])
            it.setdefault("load_balancers", [])
            it.setdefault("placement_group", None)
        elif coll == "load_balancers":
            lt = it.get("load_balancer_type")
            if isinstance(lt, str) or lt is None:
                name = lt or "lb11"
                it["load_balancer_type"] = {"id": 1, "name": name, "prices": prices(LB_TYPES, name)}
            it.setdefault("location", {"id": 1, "name": loc, "network_zone": "eu-central"})
            it.setdefault("targets", [])
            it.setdefault("services", [])
            it.setdefault("private_net", [])
            it.setdefault("public_net", {"enabled": True, "ipv4": {"ip": "198.51.100.%d" % (it["id"] % 250)},
                                         "ipv6": {"ip": "2001:db8::1"}})
            it.setdefault("algorithm", {"type": "round_robin"})
        elif coll == "volumes":
            it.setdefault("server", None)
            it.setdefault("size", 10)
            it.setdefault("status", "available")
            it.setdefault("location", {"id": 1, "name": loc})
            it.setdefault("linux_device", "/dev/disk/by-id/scsi-0HC_Volume_%d" % it["id"])
        elif coll == "primary_ips":
            it.setdefault("type", "ipv4")
            it.setdefault("ip", "198.51.100.%d" % (it["id"] % 250))
            it.setdefault("assignee_id", None)
            it.setdefault("assignee_type", "server")
            it.setdefault("auto_delete", False)
            it.setdefault("blocked", False)
            it.setdefault("dns_ptr", [])
            it.setdefault("location", {"id": 1, "name": loc})
        elif coll == "firewalls":
            it.setdefault("rules", [])
            it.setdefault("applied_to", [])
        elif coll == "placement_groups":
            it.setdefault("type", "spread")
            it.setdefault("servers", [])
        elif coll == "networks":
            it.setdefault("ip_range", "10.0.0.0/16")
            it.setdefault("subnets", [])
            it.setdefault("routes", [])
            it.setdefault("servers", [])
            it.setdefault("load_balancers", [])
            it.setdefault("expose_routes_to_vswitch", False)
        elif coll == "ssh_keys":
            it.setdefault("fingerprint", "b7:2f:30:a0:2f:6c:58:6c:21:04:58:61:ba:06:3b:2c")
            it.setdefault("public_key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStandin")
        return it

    def action(self, command, resources):
        aid = self.next_action
        self.next_action += 1
        return {"id": aid, "command": command, "status": "running", "progress": 0,
                "started": "2026-01-01T00:00:00+00:00", "finished": None, "error": None,
                "resources": resources}

    def tick(self):
        """One list call passed: servers whose deletion finished disappear."""
        for sid in list(self.deleting):
            self.deleting[sid] -= 1
            if self.deleting[sid] <= 0:
                del self.deleting[sid]
                self.remove_server(sid)

    def remove_server(self, sid):
        self.items["servers"].pop(sid, None)
        for net in self.items["networks"].values():
            net["servers"] = [s for s in net["servers"] if s != sid]
        for fw in self.items["firewalls"].values():
            fw["applied_to"] = [a for a in fw["applied_to"]
                                if not (a.get("type") == "server" and a.get("server", {}).get("id") == sid)]
        for pg in self.items["placement_groups"].values():
            pg["servers"] = [s for s in pg["servers"] if s != sid]
        for lb in self.items["load_balancers"].values():
            lb["targets"] = [t for t in lb["targets"]
                             if not (t.get("type") == "server" and t.get("server", {}).get("id") == sid)]
        for vol in self.items["volumes"].values():
            if vol["server"] == sid:
                vol["server"] = None
        for ip in list(self.items["primary_ips"].values()):
            if ip["assignee_id"] == sid:
                if ip["auto_delete"]:
                    del self.items["primary_ips"][ip["id"]]
                else:
                    ip["assignee_id"] = None


def matches(labels, selector):
    for term in [t.strip() for t in selector.split(",") if t.strip()]:
        m = re.match(r"^([^=!]+)(==|!=|=)(.*)$", term)
        if m:
            key, op, val = m.group(1).strip(), m.group(2), m.group(3).strip()
            if op in ("=", "==") and labels.get(key) != val:
                return False
            if op == "!=" and labels.get(key) == val:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def make_handler(cloud, token, readonly_token):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, status, body=None):
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            # As the real API: 3,600 requests an hour per project, one back every second.
            self.send_header("RateLimit-Limit", "3600")
            self.send_header("RateLimit-Remaining", str(max(0, 3600 - cloud.budget_used)))
            self.send_header("RateLimit-Reset", "0")
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, status, code, message, details=None):
            self.reply(status, {"error": {"code": code, "message": message, "details": details or {}}})

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            if not raw:
                return {}
            try:
                return json.loads(raw)
            except ValueError:
                return None

        def authorised(self):
            auth = self.headers.get("Authorization", "")
            given = auth[7:] if auth.lower().startswith("bearer ") else None
            if given == token:
                return True
            if readonly_token and given == readonly_token:
                if self.command != "GET":
                    self.error(403, "token_readonly", "The token is only allowed to perform GET requests")
                    return False
                return True
            self.error(401, "unauthorized", "unable to authenticate")
            return False

        def route(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path.startswith("/__standin/"):
                with cloud.lock:
                    if url.path == "/__standin/requests" and self.command == "GET":
                        return self.reply(200, cloud.requests)
                    if url.path == "/__standin/state":
                        return self.reply(200, {c: list(v.values()) for c, v in cloud.items.items()})
                    if url.path == "/__standin/faults" and self.command == "POST":
                        # {"path": "/v1/server_types", "times": 2, "status": 503, "code": "unavailable"}
                        body = self.body() or {}
                        cloud.faults[body.get("path", "")] = [int(body.get("times", 1)),
                                                              int(body.get("status", 503)),
                                                              body.get("code", "unavailable")]
                        return self.reply(200, {"ok": True})
                    if url.path == "/__standin/requests" and self.command == "DELETE":
                        cloud.requests.clear()
                        return self.reply(204)
                return self.error(404, "not_found", "no such test hook")
            with cloud.lock:
                cloud.requests.append({"method": self.command, "path": url.path})
                cloud.budget_used += 1
                fault = cloud.faults.get(url.path)
                if fault and fault[0] > 0:
                    fault[0] -= 1
                else:
                    fault = None
            if fault:
                return self.error(fault[1], fault[2], "injected by the stand-in")
            if not url.path.startswith("/v1/"):
                return self.error(404, "not_found", "not found")
            if not self.authorised():
                return
            parts = [p for p in url.path[len("/v1/"):].split("/") if p]
            query = urllib.parse.parse_qs(url.query)
            with cloud.lock:
                return self.dispatch(parts, query)

        def dispatch(self, parts, query):
            if parts == ["pricing"] and self.command == "GET":
                return self.reply(200, pricing_json())
            if parts and parts[0] in ("server_types", "locations") and self.command == "GET":
                return self.catalogue(parts, query)
            if not parts or parts[0] not in COLLECTIONS:
                return self.error(404, "not_found", "unknown endpoint")
            coll = parts[0]
            single = COLLECTIONS[coll]
            if len(parts) == 1:
                if self.command == "GET":
                    return self.list(coll, query)
                if self.command == "POST" and coll == "ssh_keys":
                    body = self.body()
                    if body is None:
                        return self.error(400, "json_error", "invalid JSON")
                    missing = [f for f in ("name", "public_key") if not str(body.get(f) or "").strip()]
                    if missing:
                        return self.error(400, "invalid_input", "invalid input in fields '%s'" % ", ".join(missing),
                                          {"fields": [{"name": f, "messages": ["Missing data for required field."]}
                                                      for f in missing]})
                    return self.error(422, "invalid_input", "the stand-in does not create SSH keys")
                return self.error(405, "method_not_allowed", "method not allowed")
            try:
                rid = int(parts[1])
            except ValueError:
                return self.error(400, "invalid_input", "invalid id")
            item = cloud.items[coll].get(rid)
            if item is None:
                return self.error(404, "not_found", "%s with ID '%d' not found" % (single, rid))
            if len(parts) == 2:
                if self.command == "GET":
                    return self.reply(200, {single: item})
                if self.command == "DELETE":
                    return self.delete(coll, item)
                return self.error(405, "method_not_allowed", "method not allowed")
            if len(parts) == 4 and parts[2] == "actions" and self.command == "POST":
                return self.act(coll, item, parts[3])
            return self.error(404, "not_found", "unknown endpoint")

        def catalogue(self, parts, query):
            """GET /server_types[/<id>] and /locations[/<id>]: read-only, the same for every project."""
            if parts[0] == "server_types":
                items = [server_type_json(i + 1, n, cloud.unavailable, cloud.deprecated)
                         for i, n in enumerate(SERVER_TYPES)]
            else:
                items = [{"id": lid, "name": n, "description": "%s DC Park" % city, "country": c, "city": city,
                          "latitude": 0.0, "longitude": 0.0, "network_zone": z}
                         for lid, n, city, c, z in LOCATIONS]
            single = parts[0][:-1]
            if len(parts) == 2:
                found = [i for i in items if str(i["id"]) == parts[1]]
                if not found:
                    return self.error(404, "not_found", "%s with ID '%s' not found" % (single, parts[1]))
                return self.reply(200, {single: found[0]})
            if len(parts) > 2:
                return self.error(404, "not_found", "unknown endpoint")
            return self.paged(parts[0], items, query)

        def list(self, coll, query):
            if coll == "servers":
                cloud.tick()
            items = sorted(cloud.items[coll].values(), key=lambda i: i["id"])
            sel = (query.get("label_selector") or [""])[0]
            if sel:
                items = [i for i in items if matches(i["labels"], sel)]
            return self.paged(coll, items, query)

        def paged(self, coll, items, query):
            name = (query.get("name") or [""])[0]
            if name:
                items = [i for i in items if i["name"] == name]
            try:
                page = max(1, int((query.get("page") or ["1"])[0]))
                per_page = min(50, max(1, int((query.get("per_page") or ["25"])[0])))
            except ValueError:
                return self.error(400, "invalid_input", "invalid page or per_page")
            total = len(items)
            last = max(1, (total + per_page - 1) // per_page)
            chunk = items[(page - 1) * per_page: page * per_page]
            self.reply(200, {coll: chunk, "meta": {"pagination": {
                "page": page, "per_page": per_page,
                "previous_page": page - 1 if page > 1 else None,
                "next_page": page + 1 if page < last else None,
                "last_page": last, "total_entries": total}}})

        def delete(self, coll, item):
            rid = item["id"]
            if item.get("protection", {}).get("delete"):
                return self.error(403, "protected", "%s %d is delete-protected" % (COLLECTIONS[coll], rid))
            if coll == "servers":
                if rid not in cloud.deleting:
                    item["status"] = "deleting"
                    cloud.deleting[rid] = cloud.delete_lag
                    if cloud.delete_lag <= 0:
                        cloud.deleting.pop(rid)
                        cloud.remove_server(rid)
                return self.reply(200, {"action": cloud.action("delete_server", [{"id": rid, "type": "server"}])})
            if coll == "firewalls" and item["applied_to"]:
                return self.error(422, "resource_in_use", "firewall %d is still applied to resources" % rid)
            if coll == "placement_groups" and item["servers"]:
                return self.error(422, "resource_in_use", "placement group %d still has servers" % rid)
            if coll == "volumes" and item["server"] is not None:
                return self.error(422, "resource_in_use", "volume %d is attached to server %d" % (rid, item["server"]))
            if coll == "primary_ips" and item["assignee_id"] is not None:
                return self.error(422, "resource_in_use", "primary IP %d is assigned to server %d"
                                  % (rid, item["assignee_id"]))
            if coll == "load_balancers":
                for net in cloud.items["networks"].values():
                    net["load_balancers"] = [x for x in net["load_balancers"] if x != rid]
            if coll == "networks":
                for sid in item["servers"]:
                    srv = cloud.items["servers"].get(sid)
                    if srv:
                        srv["private_net"] = [p for p in srv["private_net"] if p.get("network") != rid]
            del cloud.items[coll][rid]
            self.reply(204)

        def act(self, coll, item, action):
            body = self.body()
            if body is None:
                return self.error(400, "json_error", "invalid JSON")
            rid = item["id"]
            if coll == "volumes" and action == "detach":
                item["server"] = None
                return self.reply(201, {"action": cloud.action("detach_volume", [{"id": rid, "type": "volume"}])})
            if coll == "primary_ips" and action == "unassign":
                item["assignee_id"] = None
                return self.reply(201, {"action": cloud.action("unassign_primary_ip",
                                                               [{"id": rid, "type": "primary_ip"}])})
            if coll == "firewalls" and action == "remove_from_resources":
                remove = body.get("remove_from") or []
                ids = {r.get("server", {}).get("id") for r in remove if r.get("type") == "server"}
                item["applied_to"] = [a for a in item["applied_to"]
                                      if not (a.get("type") == "server" and a.get("server", {}).get("id") in ids)]
                return self.reply(201, {"actions": [cloud.action("remove_firewall",
                                                                 [{"id": rid, "type": "firewall"}])]})
            return self.error(404, "not_found", "unknown action")

        def do_GET(self):
            self.route()

        def do_DELETE(self):
            self.route()

        def do_POST(self):
            self.route()

        def do_PUT(self):
            self.route()

    return Handler


def main():
    p = argparse.ArgumentParser(description="Hetzner Cloud API stand-in (tests only)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--token", required=True, help="the read & write token")
    p.add_argument("--readonly-token", default=None)
    p.add_argument("--seed", default=None, help="JSON file: collection -> items")
    p.add_argument("--delete-lag", type=int, default=1,
                   help="server list calls a deleted server stays visible (status deleting)")
    p.add_argument("--unavailable", action="append", default=[], metavar="TYPE@LOCATION",
                   help="a server type not available now in a location (repeatable)")
    p.add_argument("--deprecated", action="append", default=[], metavar="TYPE@LOCATION=DATE",
                   help="a server type deprecated in a location, unavailable after DATE (repeatable)")
    a = p.parse_args()
    seed = None
    if a.seed:
        with open(a.seed, encoding="utf-8") as f:
            seed = json.load(f)
    def pair(v):
        t, _, loc = v.partition("@")
        if t not in SERVER_TYPES or loc not in ALL_LOCATIONS:
            raise SystemExit("unknown server type or location in %r" % v)
        return (t, loc)
    unavailable = [pair(v) for v in a.unavailable]
    deprecated = [(pair(v.partition("=")[0]), v.partition("=")[2] or "2027-01-01T00:00:00+00:00")
                  for v in a.deprecated]
    cloud = Cloud(seed, a.delete_lag, unavailable, deprecated)
    server = ThreadingHTTPServer((a.host, a.port), make_handler(cloud, a.token, a.readonly_token))
    print("listening on http://%s:%d/v1" % (a.host, server.server_address[1]), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
