#!/usr/bin/python3
"""A stand-in for Amazon Redshift in loadstar's tests: a PostgreSQL wire-protocol proxy in front of
a private PostgreSQL 15 that behaves like Redshift where loadstar depends on it (see
docs/REDSHIFT_STANDIN.md for what it checks and what it cannot).

  standin.py --listen 127.0.0.1:PORT --upstream 127.0.0.1:PGPORT --s3-endpoint http://127.0.0.1:S3PORT
             [--tls-cert FILE --tls-key FILE] [--slices N] [--hold-commit-file PATH]

Prints "ready HOST:PORT" on stdout once it listens (PORT 0 picks a free port), logs to stderr.
S3 credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
"""

import argparse
import ipaddress
import os
import socket
import ssl
import sys
import threading

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from session import HOLD_LIMIT_SECONDS, Config, Session  # noqa: E402


def loopback_address(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, not %r" % text)
    try:
        if not ipaddress.ip_address(host).is_loopback:
            raise argparse.ArgumentTypeError("only loopback addresses are allowed, not %s" % host)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a numeric loopback address, not %r" % host)
    return host, int(port)


def slice_count(text):
    if not text.isdigit() or not 1 <= int(text) <= 4096:
        raise argparse.ArgumentTypeError("expected a number of slices from 1 to 4096, not %r" % text)
    return int(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=loopback_address, required=True, help="HOST:PORT to listen on")
    ap.add_argument("--upstream", type=loopback_address, required=True, help="HOST:PORT of PostgreSQL")
    ap.add_argument("--s3-endpoint", required=True, help="http://127.0.0.1:PORT of the local S3 server")
    ap.add_argument("--tls-cert", help="certificate (PEM) for clients that ask for TLS")
    ap.add_argument("--tls-key", help="its private key (PEM)")
    ap.add_argument("--slices", type=slice_count, default=2,
                    help="rows of stv_slices (default 2, the slices of a one-node dc2.large cluster)")
    ap.add_argument("--hold-commit-file", metavar="PATH",
                    help="test facility, not a Redshift behaviour: while PATH exists, a COMMIT of a transaction "
                         "that ran a COPY from S3 waits (at most %d s); PATH.held gets the backend pid"
                         % HOLD_LIMIT_SECONDS)
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    hold = os.path.abspath(args.hold_commit_file) if args.hold_commit_file else None
    cfg = Config(args.upstream, args.s3_endpoint, tls, slices=args.slices, hold_commit_file=hold)

    host, port = args.listen
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, port))
    server.listen(64)
    bound = server.getsockname()
    print("ready %s:%d" % (bound[0], bound[1]), flush=True)
    sys.stderr.write("standin: listening on %s:%d, upstream %s:%d, S3 %s%s, %d slices%s\n"
                     % (bound[0], bound[1], args.upstream[0], args.upstream[1], args.s3_endpoint,
                        ", TLS" if tls else "", args.slices,
                        ", COMMIT hold file %s" % hold if hold else ""))
    sys.stderr.flush()
    sid = 0
    try:
        while True:
            conn, _ = server.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sid += 1
            threading.Thread(target=Session(conn, cfg, sid).run, daemon=True).start()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
