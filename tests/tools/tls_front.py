#!/usr/bin/env python3
"""A TLS front for a plain-HTTP server on loopback, for tests.

Listens on 127.0.0.1:PORT, completes a TLS handshake with every client using the given
certificate and key, and forwards the decrypted bytes to 127.0.0.1:UPSTREAM (and the answers
back), one upstream connection per client connection, kept alive as long as the client keeps its
own. The local S3 server cannot speak TLS itself; put this in front of it.

What it counted is rewritten after every connection to --stats, one "name=value" line each:
  accepted          TCP connections accepted
  handshakes        TLS handshakes that completed
  handshake_failed  handshakes the client (or this side) broke off, e.g. an untrusted certificate
Prints "listening on 127.0.0.1:PORT" once it accepts connections. Stop it with SIGTERM.
"""

import argparse
import os
import select
import socket
import ssl
import sys
import threading

IDLE_SECONDS = 120


class Stats:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.counts = {"accepted": 0, "handshakes": 0, "handshake_failed": 0}
        self.write()

    def add(self, name):
        with self.lock:
            self.counts[name] += 1
            self.write()

    def write(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            for name, value in self.counts.items():
                f.write(f"{name}={value}\n")
        os.replace(tmp, self.path)


def pump(client, upstream):
    """Copies bytes both ways until either side closes or nothing moves for IDLE_SECONDS."""
    while True:
        if client.pending() == 0:
            ready, _, _ = select.select([client, upstream], [], [], IDLE_SECONDS)
            if not ready:
                return
        else:
            ready = [client]
        if client in ready:
            data = client.recv(65536)
            if not data:
                return
            upstream.sendall(data)
        if upstream in ready:
            data = upstream.recv(65536)
            if not data:
                return
            client.sendall(data)


def serve(conn, context, upstream_port, stats, verbose):
    stats.add("accepted")
    conn.settimeout(30)
    try:
        client = context.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        stats.add("handshake_failed")
        if verbose:
            print(f"handshake failed: {e}", file=sys.stderr, flush=True)
        conn.close()
        return
    stats.add("handshakes")
    client.settimeout(None)
    try:
        with socket.create_connection(("127.0.0.1", upstream_port)) as upstream:
            pump(client, upstream)
    except (ssl.SSLError, OSError) as e:
        if verbose:
            print(f"connection ended: {e}", file=sys.stderr, flush=True)
    finally:
        try:
            client.close()
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cert", required=True, help="PEM certificate chain the server presents")
    parser.add_argument("--key", required=True, help="PEM private key of the certificate")
    parser.add_argument("--upstream-port", type=int, required=True, help="plain-HTTP server on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--stats", required=True, help="file the counts are written to")
    parser.add_argument("--verbose", action="store_true", help="one stderr line per failure")
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    stats = Stats(args.stats)
    listener = socket.create_server(("127.0.0.1", args.port), backlog=64)
    print(f"listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, context, args.upstream_port, stats, args.verbose),
                         daemon=True).start()


if __name__ == "__main__":
    main()
