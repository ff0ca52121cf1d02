"""An HTTP receiver for the tests, standing in for a webhook endpoint, Slack, Teams and PagerDuty.

It verifies Purser-Signature with Python's own hmac (an implementation independent of Purser's),
records every request as a JSON line in LOG (path, headers, body, signature_valid), and answers
by path: /fail → 500, /big → 10 MB, /redirect → 302, anything else → 202.
Prints its port once it listens.

Usage: python webhook_receiver.py LOG SECRET
"""
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG, SECRET = sys.argv[1], sys.argv[2].encode()
TOLERANCE = 300


def signature_valid(header, body):
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > TOLERANCE:
        return False
    expected = hmac.new(SECRET, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        record = {
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "signature_valid": signature_valid(self.headers.get("Purser-Signature", ""), body),
        }
        with open(LOG, "a") as out:
            out.write(json.dumps(record) + "\n")
        if self.path.startswith("/fail"):
            self.send_response(500)
            self.end_headers()
        elif self.path.startswith("/big"):
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 1024 * 1024))
            self.end_headers()
            self.wfile.write(b"x" * (10 * 1024 * 1024))
        elif self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        else:
            self.send_response(202)
            self.end_headers()
            self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
