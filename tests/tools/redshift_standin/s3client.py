"""GET, PUT, LIST and DELETE against an S3-compatible endpoint (path-style), signed with botocore's SigV4."""

import html
import http.client
import os
import re
import urllib.parse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class S3Error(Exception):
    def __init__(self, status, code, message, url):
        super().__init__("%s (HTTP %s, %s)" % (message, status, code))
        self.status, self.code, self.message, self.url = status, code, message, url


def parse_s3_url(url):
    """'s3://bucket/key' -> (bucket, key), or None."""
    m = re.fullmatch(r"s3://([^/]+)/(.+)", url)
    return (m.group(1), m.group(2)) if m else None


class S3Client:
    def __init__(self, endpoint, region="us-east-1", access_key=None, secret_key=None, session_token=None):
        u = urllib.parse.urlsplit(endpoint)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("S3 endpoint must be http(s)://host:port, not %r" % endpoint)
        self.endpoint = endpoint.rstrip("/")
        self.scheme, self.host, self.port = u.scheme, u.hostname, u.port
        self.region = region
        access_key = access_key or os.environ.get("AWS_ACCESS_KEY_ID")
        secret_key = secret_key or os.environ.get("AWS_SECRET_ACCESS_KEY")
        session_token = session_token or os.environ.get("AWS_SESSION_TOKEN")
        if not access_key or not secret_key:
            raise ValueError("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        self.credentials = Credentials(access_key, secret_key, session_token)

    def _request(self, method, bucket, key, body=b"", query=""):
        path = "/%s/%s" % (urllib.parse.quote(bucket, safe=""), urllib.parse.quote(key, safe="/~"))
        if not key:
            path = "/%s" % urllib.parse.quote(bucket, safe="")
        if query:
            path += "?" + query
        url = self.endpoint + path
        req = AWSRequest(method=method, url=url, data=body)
        S3SigV4Auth(self.credentials, "s3", self.region).add_auth(req)
        conn_cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body or None, headers=dict(req.headers.items()))
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, data
        finally:
            conn.close()

    def get(self, bucket, key):
        """The object's bytes; raises S3Error (status 404, code NoSuchKey when it does not exist)."""
        status, data = self._request("GET", bucket, key)
        if status != 200:
            raise _error(status, data, "s3://%s/%s" % (bucket, key))
        return data

    def put(self, bucket, key, body):
        status, data = self._request("PUT", bucket, key, body)
        if status != 200:
            raise _error(status, data, "s3://%s/%s" % (bucket, key))


    def list(self, bucket, prefix):
        """The keys of every object whose key starts with prefix, in key order."""
        return [key for key, _size in self.list_objects(bucket, prefix)]

    def list_objects(self, bucket, prefix):
        """[(key, size)] of every object whose key starts with prefix (ListObjectsV2, every page)."""
        out, token = [], None
        for _ in range(100000):
            params = [("list-type", "2"), ("prefix", prefix)]
            if token:
                params.append(("continuation-token", token))
            query = "&".join("%s=%s" % (k, urllib.parse.quote(v, safe="")) for k, v in sorted(params))
            status, data = self._request("GET", bucket, "", query=query)
            if status != 200:
                raise _error(status, data, "s3://%s/%s" % (bucket, prefix))
            text = data.decode("utf-8", "replace")
            for m in re.finditer(r"<Contents>(.*?)</Contents>", text, re.S):
                key = re.search(r"<Key>(.*?)</Key>", m.group(1), re.S)
                size = re.search(r"<Size>(\d+)</Size>", m.group(1))
                if key:
                    out.append((html.unescape(key.group(1)), int(size.group(1)) if size else 0))
            more = re.search(r"<IsTruncated>true</IsTruncated>", text)
            nxt = re.search(r"<NextContinuationToken>(.*?)</NextContinuationToken>", text, re.S)
            if not more or not nxt:
                return out
            token = html.unescape(nxt.group(1))
        return out

    def delete(self, bucket, key):
        """Removes the object; one that is not there is no error (as S3 answers 204 either way)."""
        status, data = self._request("DELETE", bucket, key)
        if status not in (200, 204, 404):
            raise _error(status, data, "s3://%s/%s" % (bucket, key))


def _error(status, data, url):
    text = data.decode("utf-8", "replace")
    code = re.search(r"<Code>(.*?)</Code>", text)
    msg = re.search(r"<Message>(.*?)</Message>", text)
    return S3Error(status, code.group(1) if code else "HTTP%d" % status,
                   msg.group(1) if msg else "HTTP status %d" % status, url)
