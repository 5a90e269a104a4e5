"""Verifies a request's AWS Signature Version 4 (Authorization header) the way AWS does, with
botocore's own signer doing the arithmetic: the request as it arrived (method, path, query,
the headers it says it signed, body) is rebuilt as a botocore AWSRequest and signed again with
the stand-in's credentials, for the region and service of the request's credential scope.

What botocore decides as a client is left out: which headers to sign (it skips User-Agent and
Expect; AWS checks whatever the request lists in SignedHeaders), and the query string's encoding
(AWS decodes it and encodes it again canonically, so botocore is given the decoded pairs)."""

import datetime
import hashlib
import hmac
import re
import urllib.parse
from email.utils import parsedate_to_datetime

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

SKEW = datetime.timedelta(minutes=15)
_ISO_BASIC = re.compile(r"\d{8}T\d{6}Z")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your "
            "AWS Secret Access Key and signing method. Consult the service documentation for details.")


class Failure(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class _Verifier(SigV4Auth):
    """botocore's signer, told exactly which headers the request signed."""

    def __init__(self, credentials, service, region, signed):
        super().__init__(credentials, service, region)
        self._signed = signed

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name in self._signed:
            for value in request.headers.get_all(name) or []:
                header_map[name] = value
        return header_map


class Scope:
    """What the Authorization header claims."""

    def __init__(self, access_key, date, region, service, terminator, signed_headers, signature):
        self.access_key = access_key
        self.date = date
        self.region = region
        self.service = service
        self.terminator = terminator
        self.signed_headers = signed_headers
        self.signature = signature


def parse_authorization(value):
    """The Scope of an Authorization header; raises Failure when it is malformed."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        raise Failure("IncompleteSignature", "Unsupported AWS 'algorithm': '%s'" % algorithm)
    fields = {}
    for part in rest.split(","):
        k, eq, v = part.strip().partition("=")
        if eq:
            fields[k] = v
    missing = [k for k in ("Credential", "Signature", "SignedHeaders") if k not in fields]
    if missing:
        raise Failure("IncompleteSignature", " ".join("Authorization header requires '%s' parameter." % k
                                                      for k in missing) + " Authorization=%s" % value)
    cred = fields["Credential"].split("/")
    if len(cred) != 5:
        raise Failure("IncompleteSignature", "Authorization header requires a Credential of the form "
                      "ACCESSKEY/yyyymmdd/region/service/aws4_request, not '%s'." % fields["Credential"])
    return Scope(cred[0], cred[1], cred[2], cred[3], cred[4], fields["SignedHeaders"].split(";"),
                 fields["Signature"])


def request_time(headers):
    """(timestamp 'yyyymmddThhmmssZ', datetime) from X-Amz-Date, else Date; raises Failure."""
    amz = headers.get("X-Amz-Date")
    if amz is not None:
        if not _ISO_BASIC.fullmatch(amz):
            raise Failure("IncompleteSignature", "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                          "http://en.wikipedia.org/wiki/ISO_8601" % amz)
        try:
            when = datetime.datetime.strptime(amz, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise Failure("IncompleteSignature", "Date must be in ISO-8601 'basic format'. Got '%s'." % amz)
        return amz, when
    date = headers.get("Date")
    if date is not None:
        try:
            when = parsedate_to_datetime(date).astimezone(datetime.timezone.utc)
        except (TypeError, ValueError):
            raise Failure("IncompleteSignature", "Date must be an RFC 1123 date or X-Amz-Date given. Got '%s'."
                          % date)
        return when.strftime("%Y%m%dT%H%M%SZ"), when
    raise Failure("IncompleteSignature",
                  "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")


def verify(scope, expect_service, expect_region, creds, method, raw_path, headers, body, now):
    """Check SCOPE (from the Authorization header) and the signature of the request; raises
    Failure with AWS's code and message. EXPECT_SERVICE is the service the request's Version
    names, or None (named in the message when the scope names a service the stand-in does not
    serve); EXPECT_REGION the region the scope must name, or None for any region.
    CREDS is (access key, secret key, session token or None); HEADERS an email.message.Message."""
    access_key, secret_key, token = creds
    if scope.terminator != "aws4_request":
        raise Failure("SignatureDoesNotMatch", "Credential should be scoped with a valid terminator: "
                      "'aws4_request', not '%s'." % scope.terminator)
    if scope.access_key != access_key:
        raise Failure("InvalidClientTokenId", "The security token included in the request is invalid.")
    sent_token = headers.get("X-Amz-Security-Token")
    if (token or None) != (sent_token or None):
        raise Failure("InvalidClientTokenId", "The security token included in the request is invalid.")
    if scope.service not in ("redshift", "iam"):
        raise Failure("SignatureDoesNotMatch", "Credential should be scoped to correct service: '%s'. "
                      % (expect_service or "redshift"))
    if (expect_region and scope.region != expect_region) or not _REGION.fullmatch(scope.region):
        raise Failure("SignatureDoesNotMatch", "Credential should be scoped to a valid region, not '%s'. "
                      % scope.region)
    stamp, when = request_time(headers)
    if scope.date != stamp[:8]:
        raise Failure("SignatureDoesNotMatch", "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                      "version of date from HTTP: '%s' != '%s', from '%s'." % (scope.date, stamp[:8], stamp))
    fmt = "%Y%m%dT%H%M%SZ"
    if when < now - SKEW:
        raise Failure("SignatureDoesNotMatch", "Signature expired: %s is now earlier than %s (%s - 15 min.)"
                      % (stamp, (now - SKEW).strftime(fmt), now.strftime(fmt)))
    if when > now + SKEW:
        raise Failure("SignatureDoesNotMatch", "Signature not yet current: %s is still later than %s (%s + 15 "
                      "min.)" % (stamp, (now + SKEW).strftime(fmt), now.strftime(fmt)))
    signed = scope.signed_headers
    if "host" not in signed:
        raise Failure("SignatureDoesNotMatch",
                      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    if "x-amz-content-sha256" in signed:
        claimed = headers.get("X-Amz-Content-SHA256", "")
        if claimed != hashlib.sha256(body).hexdigest():
            raise Failure("SignatureDoesNotMatch",
                          "The provided 'x-amz-content-sha256' header does not match what was computed.")

    path, _, query = raw_path.partition("?")
    request = AWSRequest(method=method, url="http://%s%s" % (headers.get("Host", ""), path), data=body)
    if query:
        request.params = urllib.parse.parse_qsl(query, keep_blank_values=True)
    for name, value in headers.items():
        if name.lower() in signed:
            request.headers[name] = value
    request.context["timestamp"] = stamp
    auth = _Verifier(Credentials(access_key, secret_key, token), scope.service, scope.region, signed)
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    expected = auth.signature(string_to_sign, request)
    if not hmac.compare_digest(expected, scope.signature):
        raise Failure("SignatureDoesNotMatch", "%s\n\nThe Canonical String for this request should have been\n"
                      "'%s'\n\nThe String-to-Sign should have been\n'%s'\n" % (MISMATCH, canonical, string_to_sign))
