#!/usr/bin/python3
"""A stand-in for the AWS control plane loadstar provisions with: the Amazon Redshift API
(Version 2012-12-01, signing name `redshift`) and IAM (Version 2010-05-08, `iam`, signed for
us-east-1), both AWS Query APIs, served on one loopback port. Every request is checked against
the service models shipped with botocore and its SigV4 signature verified with botocore's signer;
IAM roles and Redshift clusters are kept in memory with their life cycle. See
docs/AWS_CONTROL_PLANE_STANDIN.md for what it checks and what it cannot.

  server.py --listen 127.0.0.1:0 --cluster-endpoint HOST:PORT [--account-id 123456789012]
            [--region REGION] [--create-describes N] [--create-seconds T]
            [--delete-describes N] [--delete-seconds T] [--throttle-every N]
            [--fail-once ACTION:CODE]... [--record FILE]

Prints "ready HOST:PORT" on stdout once it listens (port 0 picks a free one), logs each request
to stderr. Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN
if set). GET /__standin/requests answers the record of all requests so far as a JSON array.
"""

import argparse
import datetime
import http.server
import ipaddress
import json
import os
import socket
import sys
import threading
import traceback
import urllib.parse
import uuid

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import conformance  # noqa: E402
import iam  # noqa: E402
import models  # noqa: E402
import redshift  # noqa: E402
import sigv4check  # noqa: E402
import xmlresponse  # noqa: E402

RECORD_PATH = "/__standin/requests"
IAM_REGION = "us-east-1"


def loopback_address(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, not %r" % text)
    host = host.strip("[]")
    try:
        if not ipaddress.ip_address(host).is_loopback:
            raise argparse.ArgumentTypeError("only loopback addresses are allowed, not %s" % host)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a numeric loopback address, not %r" % host)
    return host, int(port)


def host_port(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError("expected HOST:PORT, not %r" % text)
    return host.strip("[]"), int(port)


def fault(text):
    action, sep, code = text.partition(":")
    if not sep or not action or not code:
        raise argparse.ArgumentTypeError("expected ACTION:CODE, not %r" % text)
    return action, code


def non_negative(kind):
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("expected a number, not %r" % text)
        if v < 0:
            raise argparse.ArgumentTypeError("expected a number >= 0, not %r" % text)
        return v
    return parse


class ControlPlane:
    """Everything the server knows; handle() is called for each request under one lock."""

    def __init__(self, args, creds):
        self.services = models.load_services()
        self.creds = creds
        self.account_id = args.account_id
        self.region = args.region
        self.iam = iam.Iam(args.account_id)
        life = redshift.LifeCycle(args.create_describes, args.create_seconds,
                                  args.delete_describes, args.delete_seconds)
        self.redshift = redshift.Redshift(args.account_id, args.cluster_endpoint, life, self.iam)
        self.throttle_every = args.throttle_every
        self.fail_once = list(args.fail_once or [])
        self.record_file = open(args.record, "a", encoding="utf-8") if args.record else None
        self.records = []
        self.counted = 0
        self.lock = threading.Lock()

    # --- one request ------------------------------------------------------------------------

    def handle(self, method, raw_path, headers, body):
        """(status, headers, body) for a request to the Query API."""
        with self.lock:
            request_id = str(uuid.uuid4())
            entry = {"seq": len(self.records) + 1,
                     "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                     "method": method, "path": raw_path.partition("?")[0], "service": None, "region": None,
                     "action": None, "version": None, "params": {}, "conformance": "ok",
                     "signature_ok": False, "signature_problem": None, "fault": None,
                     "status": None, "error": None, "request_id": request_id}
            try:
                status, code, message, namespace, body_out = self._handle(method, raw_path, headers, body,
                                                                          request_id, entry)
            except Exception:  # noqa: BLE001 - a bug in the stand-in: answer 500 and say so
                traceback.print_exc()
                status, code, message, namespace, body_out = 500, "InternalFailure", \
                    "The stand-in failed on this request (see its log).", None, None
            if body_out is None:
                kind = "Receiver" if status >= 500 else "Sender"
                body_out = xmlresponse.error(namespace, kind, code, message, request_id)
            entry["status"] = status
            entry["error"] = code
            self._record(entry, message)
            out_headers = [("x-amzn-RequestId", request_id), ("Content-Type", "text/xml"),
                           ("Content-Length", str(len(body_out)))]
            return status, out_headers, body_out

    def _handle(self, method, raw_path, headers, body, request_id, entry):
        path, _, query = raw_path.partition("?")
        problems = []  # conformance problems found before the model check (Problem objects)
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True) if query else []
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if method == "POST" and body:
            if ctype == "application/x-www-form-urlencoded":
                try:
                    pairs += urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                                    errors="strict")
                except (UnicodeDecodeError, ValueError):
                    problems.append(conformance.Problem("type", None, "the body is not UTF-8 form data"))
            else:
                problems.append(conformance.Problem("type", None, "a POST body must be "
                                                    "application/x-www-form-urlencoded, not %r" % ctype))
        elif method not in ("GET", "POST"):
            problems.append(conformance.Problem("type", None, "the Query API takes GET or POST, not %s" % method))
        given = dict(pairs)
        entry["params"] = {k: v for k, v in pairs if k not in ("Action", "Version")}
        entry["action"] = given.get("Action")
        entry["version"] = given.get("Version")
        by_version = models.service_for_version(given.get("Version"))

        # Authentication first, as AWS does: which service the scope names decides the rest.
        auth = headers.get("Authorization")
        scope = None
        failure = None
        try:
            if auth is None:
                raise sigv4check.Failure("MissingAuthenticationToken", "Request is missing Authentication Token")
            scope = sigv4check.parse_authorization(auth)
            entry["service"] = scope.service if scope.service in self.services else by_version
            entry["region"] = scope.region
            expect_region = IAM_REGION if scope.service == "iam" else self.region
            sigv4check.verify(scope, by_version, expect_region, self.creds, method, raw_path, headers, body,
                              datetime.datetime.now(datetime.timezone.utc))
            entry["signature_ok"] = True
        except sigv4check.Failure as f:
            failure = f
            entry["signature_problem"] = "%s: %s" % (f.code, f.message.split("\n")[0])
            if entry["service"] is None:
                entry["service"] = by_version
        service = self.services.get(entry["service"]) if entry["service"] else None
        namespace = service.namespace if service else None

        # The model check happens for every request, so that the record says how each conformed.
        op, checked = (None, None)
        if service is not None:
            op, checked = conformance.check(service, pairs)
            problems += checked.problems
        else:
            problems.append(conformance.Problem("action", "Version", "names neither service: %r"
                                                % given.get("Version")))
        if path != "/":
            problems.insert(0, conformance.Problem("path", None, "the Query API is served at /, not %s" % path))
        if problems:
            entry["conformance"] = [str(p) for p in problems]

        if failure is not None:
            status, _kind = (service or self.services["redshift"]).error_status(failure.code)
            return status, failure.code, failure.message, namespace, None

        self.counted += 1
        if self.throttle_every and self.counted % self.throttle_every == 0:
            entry["fault"] = "throttle"
            return 400, "Throttling", "Rate exceeded", namespace, None

        if problems:
            first = problems[0]
            if first.kind == "path":
                return 404, "NotFound", first.text, namespace, None
            if first.param is None and first.kind == "type":
                return models.COMMON_ERRORS["MalformedQueryString"], "MalformedQueryString", first.text, namespace, None
            code, message = conformance.error_for(service.name, problems)
            return service.error_status(code)[0], code, message, namespace, None

        for i, (action, code) in enumerate(self.fail_once):
            if action == op.name:
                del self.fail_once[i]
                entry["fault"] = "fail-once"
                return service.error_status(code)[0], code, \
                    "The stand-in was told to fail this request once (--fail-once %s:%s)." % (action, code), \
                    namespace, None

        handler = self._handler(service.name, op.name)
        if handler is None:
            entry["fault"] = "not-implemented"
            return 501, "NotImplemented", "The stand-in does not implement %s %s." % (service.name, op.name), \
                namespace, None
        try:
            result = handler(scope.region, checked.value)
        except models.ApiError as e:
            return service.error_status(e.code)[0], e.code, e.message, namespace, None
        return 200, None, None, namespace, xmlresponse.response(service, op, result, request_id)

    def _handler(self, service, action):
        if service == "iam":
            fn = getattr(self.iam, action, None)
            return (lambda _region, p: fn(p)) if fn is not None and action[:1].isupper() else None
        fn = getattr(self.redshift, action, None)
        return fn if fn is not None and action[:1].isupper() else None

    def _record(self, entry, message):
        self.records.append(entry)
        if self.record_file is not None:
            self.record_file.write(json.dumps(entry, sort_keys=True) + "\n")
            self.record_file.flush()
        what = "%s %s" % (entry["service"] or "?", entry["action"] or "?")
        tail = "" if entry["error"] is None else " %s: %s" % (entry["error"], (message or "").split("\n")[0])
        if entry["conformance"] != "ok":
            tail += " [does not conform: %s]" % "; ".join(entry["conformance"])
        sys.stderr.write("aws-control-plane: #%d %s -> %d%s\n" % (entry["seq"], what, entry["status"], tail))
        sys.stderr.flush()

    def record_json(self):
        with self.lock:
            return json.dumps(self.records, sort_keys=True).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # a response is headers, then body: do not wait for an ACK in between
    server_version = "aws-control-plane-standin"
    plane = None  # set by main

    def log_message(self, fmt, *args):  # the plane logs each request itself
        pass

    def _body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _serve(self):
        body = self._body()
        if self.command == "GET" and self.path.partition("?")[0] == RECORD_PATH:
            data = self.plane.record_json()
            self._send(200, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))], data)
            return
        status, headers, out = self.plane.handle(self.command, self.path, self.headers, body)
        self._send(status, headers, out)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=loopback_address, required=True, help="HOST:PORT to listen on (loopback)")
    ap.add_argument("--cluster-endpoint", type=host_port, required=True,
                    help="HOST:PORT reported as an available cluster's Endpoint (the Redshift SQL stand-in)")
    ap.add_argument("--account-id", default="123456789012", help="the account in ARNs (default 123456789012)")
    ap.add_argument("--region", help="the only region Redshift requests may be signed for (default: any)")
    ap.add_argument("--create-describes", type=non_negative(int), default=1,
                    help="describes a new cluster answers `creating` to (default 1)")
    ap.add_argument("--create-seconds", type=non_negative(float), default=0.0,
                    help="seconds a new cluster is `creating` at least (default 0)")
    ap.add_argument("--delete-describes", type=non_negative(int), default=1,
                    help="describes a deleted cluster answers `deleting` to before it is gone (default 1)")
    ap.add_argument("--delete-seconds", type=non_negative(float), default=0.0,
                    help="seconds a deleted cluster is `deleting` at least (default 0)")
    ap.add_argument("--throttle-every", type=non_negative(int), default=0,
                    help="answer every Nth authenticated request 400 Throttling (default 0: never)")
    ap.add_argument("--fail-once", type=fault, action="append", metavar="ACTION:CODE",
                    help="answer the first well-formed ACTION request with error CODE (repeatable)")
    ap.add_argument("--record", metavar="FILE", help="append one JSON line per request to FILE")
    args = ap.parse_args(argv)

    access = os.environ.get("AWS_ACCESS_KEY_ID")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not access or not secret:
        ap.error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must name the credentials requests are signed with")
    plane = ControlPlane(args, (access, secret, os.environ.get("AWS_SESSION_TOKEN") or None))
    for action, code in plane.fail_once:
        if not any(action in s.operations for s in plane.services.values()):
            ap.error("--fail-once: %s is an operation of neither service" % action)

    Handler.plane = plane
    host, port = args.listen

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        daemon_threads = True

    server = Server((host, port), Handler)
    bound = server.server_address
    print("ready %s:%d" % (bound[0], bound[1]), flush=True)
    sys.stderr.write("aws-control-plane: listening on %s:%d; models %s, %s; clusters' endpoint %s:%d\n"
                     % (bound[0], bound[1], plane.services["redshift"].file, plane.services["iam"].file,
                        args.cluster_endpoint[0], args.cluster_endpoint[1]))
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
