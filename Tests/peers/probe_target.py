"""A probe target for the monitoring tests: an OpenAI-compatible endpoint streaming server-sent
events, which fails on command, and targets that misbehave.

  POST /v1/chat/completions  streams TOKENS chunks (data: {"choices":[{"delta":{"content":…}}]}),
                             the first after TTFT_MS, the next GAP_MS apart, then data: [DONE];
                             503 with an error body while failing; 401 without
                             "Authorization: Bearer KEY" once a key is set.
  GET  /health               200 "ok", or 503 while failing.
  POST /endpoints/NAME/invocations-response-stream   SageMaker's InvokeEndpointWithResponseStream:
                             an AWS event stream of TOKENS PayloadPart events (the first after
                             TTFT_MS); 403 without a SigV4 Authorization for service sagemaker;
                             a ModelError (424) while failing.
  GET  /control?fail=1|0&fail_next=N&ttft_ms=N&gap_ms=N&tokens=N&key=K   changes the above (fail_next:
                             the next N requests fail; key: the bearer key chats need from
                             then on); answers the state.
  GET  /hang                 answers nothing for 60 s.
  GET  /huge                 streams zeros without end.
  GET  /loop                 302 to itself, for ever.
Every probe request is counted; /control answers {"requests": n, …}.
Prints its port once it listens.

Usage: python probe_target.py
"""
import json
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATE = {"fail": False, "fail_next": 0, "ttft_ms": 200, "gap_ms": 20, "tokens": 5, "requests": 0, "key": ""}
LOCK = threading.Lock()
# The endpoint's own latency (time to first token, gaps between tokens, a hang) is what the probes
# measure, so the peer really waits; every wait goes through pause().
QUIET = threading.Event()


def pause(milliseconds):
    """Hold this answer for `milliseconds` of real time (nothing ever sets QUIET)."""
    QUIET.wait(milliseconds / 1000)


def event(headers, payload):
    """One event-stream message: prelude (lengths, CRC-32), string headers, payload, CRC-32."""
    encoded = b"".join(
        struct.pack("B", len(name)) + name.encode() + b"\x07" + struct.pack(">H", len(value)) + value.encode()
        for name, value in headers
    )
    prelude = struct.pack(">II", 16 + len(encoded) + len(payload), len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def count(self):
        with LOCK:
            STATE["requests"] += 1
            state = dict(STATE)
            if STATE["fail_next"] > 0:
                STATE["fail_next"] -= 1
                state["fail"] = True
            return state

    def plain(self, status, body, content_type="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/control":
            with LOCK:
                for name, values in parse_qs(url.query).items():
                    STATE[name] = values[0] == "1" if name == "fail" else values[0] if name == "key" else int(values[0])
                state = dict(STATE)
            return self.plain(200, json.dumps(state), "application/json")
        state = self.count()
        if url.path == "/health":
            return self.plain(503, "failing") if state["fail"] else self.plain(200, "ok")
        if url.path == "/hang":
            pause(60_000)
            return self.plain(200, "late")
        if url.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            block = b"\0" * 65536
            try:
                while True:
                    self.wfile.write(block)
            except (BrokenPipeError, ConnectionResetError):
                return
        if url.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.plain(404, "no such path")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        state = self.count()
        path = urlparse(self.path).path
        if path.startswith("/endpoints/") and path.endswith("/invocations-response-stream"):
            return self.sagemaker(state)
        if path != "/v1/chat/completions":
            return self.plain(404, "no such path")
        if state["key"] and self.headers.get("Authorization", "") != "Bearer " + state["key"]:
            return self.plain(401, json.dumps({"error": {"message": "invalid api key"}}), "application/json")
        if state["fail"]:
            return self.plain(503, json.dumps({"error": {"message": "overloaded"}}), "application/json")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        pause(state["ttft_ms"])
        for index in range(state["tokens"]):
            if index:
                pause(state["gap_ms"])
            chunk = {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": f"t{index}"}}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


    def sagemaker(self, state):
        authorization = self.headers.get("Authorization", "")
        if not authorization.startswith("AWS4-HMAC-SHA256 Credential=") or "/sagemaker/aws4_request" not in authorization:
            return self.plain(403, json.dumps({"__type": "UnrecognizedClientException", "message": "not signed"}), "application/json")
        if state["fail"]:
            return self.plain(424, json.dumps({"__type": "ModelError", "message": "the model failed"}), "application/json")
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Connection", "close")
        self.end_headers()
        pause(state["ttft_ms"])
        headers = [(":event-type", "PayloadPart"), (":content-type", "application/octet-stream"), (":message-type", "event")]
        for index in range(state["tokens"]):
            if index:
                pause(state["gap_ms"])
            self.wfile.write(event(headers, f'data: {{"token": {{"text": "t{index}"}}}}\n\n'.encode()))
            self.wfile.flush()
        self.close_connection = True


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
