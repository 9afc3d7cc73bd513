#!/usr/bin/env python3
"""A real SMTP server for Catalyst's tests (aiosmtpd, RFC 5321 over TCP).

Every message it accepts is stored in DIR as <n>.eml (the raw message) and <n>.json (envelope plus the
message parsed with Python's email package: from, to, subject, the text/plain and text/html parts decoded),
written atomically, so tests assert what was delivered, not what was sent.

Test behaviour, chosen by the recipient's local part (a real server refuses recipients the same way):
  fail-once…@   refused with 451 (temporary) the first time the address is seen, accepted afterwards
  reject…@      refused with 550 (permanent) every time
Prints "listening on 127.0.0.1:<port>" once it accepts connections; runs until SIGTERM/SIGINT.
"""
import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import signal
import socket

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, directory):
        self.directory = directory
        self.seen = set()
        self.count = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("fail-once") and address.lower() not in self.seen:
            self.seen.add(address.lower())
            return "451 4.3.0 Try again later (test server: first attempt refused)"
        if local.startswith("reject"):
            return "550 5.1.1 No such mailbox here (test server)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.count)
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            kind = part.get_content_type()
            if kind in ("text/plain", "text/html") and kind not in parts:
                parts[kind] = part.get_content()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message.get("From", "")),
            "to": str(message.get("To", "")),
            "subject": str(message.get("Subject", "")),
            "content_type": message.get_content_type(),
            "text": parts.get("text/plain", ""),
            "html": parts.get("text/html", ""),
        }
        for name, data in ((f"{n}.eml", raw), (f"{n}.json", json.dumps(record).encode())):
            tmp = os.path.join(self.directory, f".{name}.tmp")
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, os.path.join(self.directory, name))
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    port = args.port or free_port()
    controller = Controller(Handler(args.dir), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
