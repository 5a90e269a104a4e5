"""PostgreSQL frontend/backend protocol (version 3.0) framing, and a minimal client.

Every message after the startup phase is a type byte, an int32 length that counts itself, and a
body. The startup-phase packets (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest) have
no type byte.
"""

import socket
import struct

PROTOCOL_3_0 = 196608
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102

MAX_MESSAGE = 1 << 30


class ProtocolError(Exception):
    pass


class Closed(Exception):
    """The peer closed the connection."""


class PgError(Exception):
    """An ErrorResponse, with its fields (a dict of field-type letter -> text)."""

    def __init__(self, fields, raw=None):
        super().__init__(fields.get("M", "error"))
        self.fields = fields
        self.raw = raw  # the whole ErrorResponse message, to relay as is

    @property
    def sqlstate(self):
        return self.fields.get("C", "")


def message(kind, body=b""):
    return kind + struct.pack("!i", len(body) + 4) + body


def cstr(s):
    return s.encode("utf-8") + b"\0"


def parse_fields(body):
    """ErrorResponse/NoticeResponse body -> {letter: text}."""
    fields, i = {}, 0
    while i < len(body) and body[i] != 0:
        j = body.index(b"\0", i + 1)
        fields[chr(body[i])] = body[i + 1:j].decode("utf-8", "replace")
        i = j + 1
    return fields


def build_fields(kind, fields):
    body = b"".join(k.encode() + cstr(v) for k, v in fields.items()) + b"\0"
    return message(kind, body)


def error_response(message_text, sqlstate, severity="ERROR", detail=None, hint=None):
    fields = {"S": severity, "V": severity, "C": sqlstate, "M": message_text}
    if detail:
        fields["D"] = detail
    if hint:
        fields["H"] = hint
    return build_fields(b"E", fields)


def notice_response(message_text, severity="INFO", sqlstate="00000"):
    return build_fields(b"N", {"S": severity, "V": severity, "C": sqlstate, "M": message_text})


def query_message(sql):
    return message(b"Q", cstr(sql))


def parse_startup(body):
    """StartupMessage body after the protocol code -> dict of parameters."""
    parts = body.split(b"\0")
    params = {}
    for k, v in zip(parts[0::2], parts[1::2]):
        if not k:
            break
        params[k.decode("utf-8", "replace")] = v.decode("utf-8", "replace")
    return params


def startup_message(params):
    body = struct.pack("!i", PROTOCOL_3_0) + b"".join(cstr(k) + cstr(v) for k, v in params.items()) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


class Reader:
    """Buffers bytes from a socket and cuts them into messages."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        self.buf += data

    def pending(self):
        """True when reading would not block on the socket (TLS may hold decrypted bytes)."""
        p = getattr(self.sock, "pending", None)
        return bool(p and p())

    def try_message(self):
        """(type, body, raw) if a whole typed message is buffered, else None."""
        if len(self.buf) < 5:
            return None
        (length,) = struct.unpack_from("!i", self.buf, 1)
        if length < 4 or length > MAX_MESSAGE:
            raise ProtocolError("invalid message length %d" % length)
        if len(self.buf) < 1 + length:
            return None
        raw = bytes(self.buf[:1 + length])
        del self.buf[:1 + length]
        return raw[:1], raw[5:], raw

    def read_message(self):
        while True:
            m = self.try_message()
            if m is not None:
                return m
            self.fill()

    def read_startup(self):
        """An untyped startup-phase packet -> (code, body after the code)."""
        while len(self.buf) < 8:
            self.fill()
        (length,) = struct.unpack_from("!i", self.buf, 0)
        if length < 8 or length > 10000:
            raise ProtocolError("invalid startup packet length %d" % length)
        while len(self.buf) < length:
            self.fill()
        raw = bytes(self.buf[:length])
        del self.buf[:length]
        (code,) = struct.unpack_from("!i", raw, 4)
        return code, raw[8:], raw


class Result:
    def __init__(self):
        self.columns = []
        self.description = []  # [(name, type_oid, typmod)], where the reader decodes it
        self.rows = []
        self.tag = None
        self.notices = []


class Client:
    """A minimal client connection (trust authentication only), for the stand-in's own
    side connections: simple query protocol, text results."""

    def __init__(self, host, port, user, database, application_name="redshift-standin"):
        self.sock = socket.create_connection((host, port), timeout=60)
        self.reader = Reader(self.sock)
        self.sock.sendall(startup_message({"user": user, "database": database,
                                           "application_name": application_name,
                                           "client_encoding": "UTF8"}))
        self.backend_pid = None
        while True:
            kind, body, raw = self.reader.read_message()
            if kind == b"R":
                (code,) = struct.unpack_from("!i", body, 0)
                if code != 0:
                    raise ProtocolError("the stand-in's side connection supports trust authentication only "
                                        "(the server asked for authentication method %d)" % code)
            elif kind == b"E":
                raise PgError(parse_fields(body), raw)
            elif kind == b"K":
                self.backend_pid = struct.unpack_from("!i", body, 0)[0]
            elif kind == b"Z":
                break

    def query(self, sql):
        """Runs sql (one or more statements); returns the last statement's Result or raises PgError."""
        self.sock.sendall(query_message(sql))
        res, err = Result(), None
        while True:
            kind, body, raw = self.reader.read_message()
            if kind == b"T":
                res = Result()
                (n,) = struct.unpack_from("!h", body, 0)
                i = 2
                for _ in range(n):
                    j = body.index(b"\0", i)
                    res.columns.append(body[i:j].decode())
                    i = j + 1 + 18
            elif kind == b"D":
                res.rows.append(decode_data_row(body))
            elif kind == b"C":
                res.tag = body[:-1].decode()
            elif kind == b"E":
                err = PgError(parse_fields(body), raw)
            elif kind == b"N":
                res.notices.append(parse_fields(body))
            elif kind == b"Z":
                if err:
                    raise err
                return res

    def close(self):
        try:
            self.sock.sendall(message(b"X"))
        except OSError:
            pass
        self.sock.close()


def decode_row_description(body):
    """RowDescription -> [(name, type_oid, typmod)]."""
    (n,) = struct.unpack_from("!h", body, 0)
    i, out = 2, []
    for _ in range(n):
        j = body.index(b"\0", i)
        name = body[i:j].decode()
        _table, _attnum, oid, _typlen, typmod, _fmt = struct.unpack_from("!ihihih", body, j + 1)
        out.append((name, oid, typmod))
        i = j + 1 + 18
    return out


def decode_data_row(body):
    (n,) = struct.unpack_from("!h", body, 0)
    i, row = 2, []
    for _ in range(n):
        (ln,) = struct.unpack_from("!i", body, i)
        i += 4
        if ln < 0:
            row.append(None)
        else:
            row.append(body[i:i + ln].decode("utf-8"))
            i += ln
    return row
