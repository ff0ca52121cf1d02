"""moto (an AWS API emulator) on an ephemeral loopback port, for the SageMaker driver's tests.

Prints the port on the first line, then serves until killed. `--check-credentials` turns on moto's
IAM checks from the first call, so an access key moto does not know is refused as AWS refuses it
(moto accepts any signature either way: the SigV4 vectors check signing).
"""
import os
import socket
import signal
import sys

if "--check-credentials" in sys.argv:
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"

from moto.server import ThreadedMotoServer  # noqa: E402  (after the environment is set)

probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
print(port, flush=True)
# The server runs on its own threads; this one waits for the signal that ends the peer.
while True:
    signal.pause()
