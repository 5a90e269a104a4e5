#!/usr/bin/python3
"""The AWS control-plane stand-in (tests/tools/aws_control_plane) driven by botocore's own clients
(Redshift and IAM, signed by botocore, retried by botocore) and by hand-made raw requests that
break one rule each. Every response botocore receives is parsed again with botocore's QueryParser
against the operation's output shape, and every element of the response must come out of it (a
misnamed element would be dropped silently).

Environment: LOADSTAR_SOURCE_DIR (the checkout; default: two levels up).
"""

import datetime
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.parsers
import botocore.serialize
import botocore.session

SOURCE_DIR = os.environ.get("LOADSTAR_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TOOL_DIR = os.path.join(SOURCE_DIR, "tests", "tools", "aws_control_plane")
SERVER = os.path.join(TOOL_DIR, "server.py")

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, TOOL_DIR)
import conformance  # noqa: E402
import models  # noqa: E402
import patterns  # noqa: E402

ACCESS_KEY = "AKIDLOADSTARTEST"
SECRET_KEY = "loadstar-test-secret-key"
CLUSTER_ENDPOINT = ("127.0.0.1", 54390)
REGION = "eu-west-1"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "redshift.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
READ_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                                                   "Resource": ["arn:aws:s3:::warehouse", "arn:aws:s3:::warehouse/*"]}]}
PASSWORD = "Loadstar1pass"


class StandIn:
    """The stand-in as a child process."""

    def __init__(self, *extra, record=None):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
        env.pop("AWS_SESSION_TOKEN", None)
        self.log = tempfile.TemporaryFile()
        args = ["/usr/bin/python3", SERVER, "--listen", "127.0.0.1:0",
                "--cluster-endpoint", "%s:%d" % CLUSTER_ENDPOINT] + list(extra)
        if record:
            args += ["--record", record]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, env=env)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError("the stand-in did not start: %r\n%s" % (line, self.stderr()))
        self.address = line.split()[1]
        self.url = "http://" + self.address

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def records(self):
        with urllib.request.urlopen(self.url + "/__standin/requests", timeout=10) as r:
            return json.loads(r.read())

    def record(self, request_id):
        found = [e for e in self.records() if e["request_id"] == request_id]
        assert len(found) == 1, (request_id, found)
        return found[0]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


# --- every response, parsed again ---------------------------------------------------------

def _xml_leaves(node):
    children = list(node)
    if not children:
        return 1 if (node.text or "").strip() else 0
    return sum(_xml_leaves(c) for c in children)


def _parsed_leaves(value):
    if isinstance(value, dict):
        return sum(_parsed_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(_parsed_leaves(v) for v in value)
    return 0 if value == "" or value is None else 1


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def strict_names(node, shape, where, out):
    """Element names and nesting of NODE against SHAPE, as the Query protocol writes them; what
    differs goes to OUT. botocore's QueryParser reads a list's children whatever their names, so
    <member> in place of <Cluster> would pass it; a stricter client (loadstar's) would not."""
    t = shape.type_name
    children = list(node)
    if t == "structure":
        names = {}
        for mname, mshape in shape.members.items():
            names[mshape.serialization.get("name", mname)] = mshape
        for child in children:
            tag = _local(child.tag)
            if tag not in names:
                out.append("%s: <%s> is not a member of %s" % (where, tag, shape.name))
            else:
                strict_names(child, names[tag], "%s.%s" % (where, tag), out)
    elif t == "list":
        inner = shape.member.serialization.get("name", "member")
        for i, child in enumerate(children):
            if _local(child.tag) != inner:
                out.append("%s: list element <%s>, not <%s>" % (where, _local(child.tag), inner))
            strict_names(child, shape.member, "%s[%d]" % (where, i), out)
    elif t == "map":
        out.append("%s: the stand-in answers no map" % where)
    elif children:
        out.append("%s: a %s with child elements" % (where, t))
    elif shape.name == "policyDocumentType" and not (node.text or "").startswith("%7B"):
        out.append("%s: IAM answers policy documents URL-encoded, not %r" % (where, (node.text or "")[:40]))


class ResponseChecker:
    """Parses each response a client gets with botocore.parsers.QueryParser against the operation's
    output shape; counts what it checked and collects what went wrong."""

    def __init__(self):
        self.failures = []
        self.checked = 0
        self.clients = []

    def attach(self, client):
        client.meta.events.register("after-call", self.after_call)
        self.clients.append(client)
        return client

    def close(self):
        for client in self.clients:
            client.close()

    def after_call(self, http_response, parsed, model, **_kw):
        self.checked += 1
        body = http_response.content
        response = {"body": body, "headers": dict(http_response.headers), "status_code": http_response.status_code}
        out = botocore.parsers.QueryParser().parse(response, model.output_shape)
        root = ET.fromstring(body)
        where = "%s (%d)" % (model.name, http_response.status_code)
        if http_response.status_code >= 300:
            err = out.get("Error", {})
            if _local(root.tag) != "ErrorResponse" or not err.get("Code") or not err.get("Message") \
                    or err.get("Type") not in ("Sender", "Receiver") \
                    or not out.get("ResponseMetadata", {}).get("RequestId"):
                self.failures.append("%s: error response lacks Type/Code/Message/RequestId: %r" % (where, body[:300]))
            return
        if _local(root.tag) != model.name + "Response":
            self.failures.append("%s: root element %s" % (where, root.tag))
        if not out.get("ResponseMetadata", {}).get("RequestId"):
            self.failures.append("%s: no RequestId" % where)
        out.pop("ResponseMetadata", None)
        if model.output_shape is None:
            return
        wrapper = model.output_shape.serialization.get("resultWrapper")
        result = [c for c in root if _local(c.tag) == wrapper]
        if len(result) != 1:
            self.failures.append("%s: no single %s element" % (where, wrapper))
            return
        strict_names(result[0], model.output_shape, wrapper, self.failures)
        xml_n, parsed_n = _xml_leaves(result[0]), _parsed_leaves(out)
        if xml_n != parsed_n:
            self.failures.append("%s: %d values in the XML, %d parsed by QueryParser" % (where, xml_n, parsed_n))


def client_error(testcase, call, code, status):
    with testcase.assertRaises(botocore.exceptions.ClientError) as cm:
        call()
    err = cm.exception.response
    testcase.assertEqual(err["Error"]["Code"], code, err)
    testcase.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
    return err


# --- hand-made requests ---------------------------------------------------------------------

class Raw:
    """A raw Query request signed with botocore's SigV4Auth (or broken on purpose)."""

    def __init__(self, standin):
        self.standin = standin

    def send(self, service, params, region=None, secret=SECRET_KEY, access=ACCESS_KEY, token=None, when=None,
             method="POST", tamper=None, sign=True, path="/", content_type="application/x-www-form-urlencoded"):
        region = region or ("us-east-1" if service == "iam" else REGION)
        query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="")
        if method == "GET":
            req = botocore.awsrequest.AWSRequest(method="GET", url="%s%s?%s" % (self.standin.url, path, query))
        else:
            req = botocore.awsrequest.AWSRequest(
                method="POST", url=self.standin.url + path, data=query.encode(),
                headers={"Content-Type": content_type + "; charset=utf-8"})
        if sign:
            auth = botocore.auth.SigV4Auth(botocore.credentials.Credentials(access, secret, token), service, region)
            if when is None:
                auth.add_auth(req)
            else:  # botocore's signer at a chosen time
                req.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
                auth._modify_request_before_signing(req)
                canonical = auth.canonical_request(req)
                auth._inject_signature_to_request(req, auth.signature(auth.string_to_sign(req, canonical), req))
        prepared = req.prepare()
        body = prepared.body if prepared.body is not None else b""
        if isinstance(body, str):
            body = body.encode()
        headers = dict(prepared.headers.items())
        if tamper:
            body = tamper(body)
            headers.pop("Content-Length", None)
        http = urllib.request.Request(prepared.url, data=body if method == "POST" else None, headers=headers,
                                      method=method)
        try:
            with urllib.request.urlopen(http, timeout=10) as r:
                status, rbody, rid = r.status, r.read(), r.headers.get("x-amzn-RequestId")
        except urllib.error.HTTPError as e:
            status, rbody, rid = e.code, e.read(), e.headers.get("x-amzn-RequestId")
        root = ET.fromstring(rbody)
        code = message = None
        if _local(root.tag) == "ErrorResponse":
            err = root.find("{*}Error")
            code, message = err.find("{*}Code").text, err.find("{*}Message").text
            self.check_error_shape(root)
        return status, code, message, rid, rbody

    @staticmethod
    def check_error_shape(root):
        err = root.find("{*}Error")
        assert err is not None and err.find("{*}Type").text in ("Sender", "Receiver"), ET.tostring(root)
        assert root.find("{*}RequestId").text, ET.tostring(root)


def cluster_params(ident, **extra):
    p = {"Action": "CreateCluster", "Version": "2012-12-01", "ClusterIdentifier": ident, "NodeType": "dc2.large",
         "MasterUsername": "loadstar", "MasterUserPassword": PASSWORD}
    p.update(extra)
    return p


class ControlPlaneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.record_path = os.path.join(cls.tmp.name, "requests.jsonl")
        cls.standin = StandIn("--create-describes", "2", "--delete-describes", "1", record=cls.record_path)
        cls.checker = ResponseChecker()
        session = botocore.session.get_session()
        common = dict(endpoint_url=cls.standin.url, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                      config=botocore.config.Config(retries={"max_attempts": 2, "mode": "standard"}))
        cls.iam = cls.checker.attach(session.create_client("iam", region_name="us-east-1", **common))
        cls.rs = cls.checker.attach(session.create_client("redshift", region_name=REGION, **common))
        cls.raw = Raw(cls.standin)

    @classmethod
    def tearDownClass(cls):
        cls.checker.close()
        cls.standin.stop()
        cls.tmp.cleanup()

    def tearDown(self):
        failures, self.checker.failures[:] = list(self.checker.failures), []
        self.assertEqual(failures, [], self.standin.stderr()[-3000:])

    def make_role(self, name):
        return self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]

    # --- the life cycle, through botocore's clients ----------------------------------------

    def test_life_cycle(self):
        iam, rs = self.iam, self.rs
        role = iam.create_role(RoleName="loadstar-copy", AssumeRolePolicyDocument=json.dumps(TRUST),
                               Description="COPY from the warehouse bucket",
                               Tags=[{"Key": "app", "Value": "loadstar"}])["Role"]
        self.assertEqual(role["Arn"], "arn:aws:iam::123456789012:role/loadstar-copy")
        self.assertRegex(role["RoleId"], r"^AROA[A-Z0-9]{17}$")
        # botocore URL-decodes and parses policy documents: the stand-in encoded it as IAM does
        self.assertEqual(role["AssumeRolePolicyDocument"], TRUST)
        client_error(self, lambda: self.make_role("LOADSTAR-COPY"), "EntityAlreadyExists", 409)
        got = iam.get_role(RoleName="loadstar-copy")["Role"]
        self.assertEqual((got["Arn"], got["Tags"], got["Description"]),
                         (role["Arn"], [{"Key": "app", "Value": "loadstar"}], "COPY from the warehouse bucket"))

        iam.put_role_policy(RoleName="loadstar-copy", PolicyName="read-warehouse", PolicyDocument=json.dumps(READ_S3))
        self.assertEqual(iam.get_role_policy(RoleName="loadstar-copy", PolicyName="read-warehouse")["PolicyDocument"],
                         READ_S3)
        self.assertEqual(iam.list_role_policies(RoleName="loadstar-copy")["PolicyNames"], ["read-warehouse"])
        iam.attach_role_policy(RoleName="loadstar-copy", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        self.assertEqual(iam.list_attached_role_policies(RoleName="loadstar-copy")["AttachedPolicies"],
                         [{"PolicyName": "AmazonS3ReadOnlyAccess",
                           "PolicyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}])

        c = rs.create_cluster(ClusterIdentifier="loadstar-life", NodeType="dc2.large", ClusterType="multi-node",
                              NumberOfNodes=2, DBName="sparkify", MasterUsername="loadstar",
                              MasterUserPassword=PASSWORD, IamRoles=[role["Arn"]], DefaultIamRoleArn=role["Arn"],
                              Tags=[{"Key": "app", "Value": "loadstar"}])["Cluster"]
        self.assertEqual((c["ClusterStatus"], c["NumberOfNodes"], c["DBName"]), ("creating", 2, "sparkify"))
        self.assertNotIn("Endpoint", c)
        self.assertEqual(c["PendingModifiedValues"], {"MasterUserPassword": "****"})
        client_error(self, lambda: rs.create_cluster(ClusterIdentifier="loadstar-life", NodeType="dc2.large",
                                                     MasterUsername="loadstar", MasterUserPassword=PASSWORD),
                     "ClusterAlreadyExists", 400)
        # deleting a cluster that is still being created is refused
        client_error(self, lambda: rs.delete_cluster(ClusterIdentifier="loadstar-life", SkipFinalClusterSnapshot=True),
                     "InvalidClusterState", 400)
        self.assertEqual(rs.describe_clusters(ClusterIdentifier="loadstar-life")["Clusters"][0]["ClusterStatus"],
                         "creating")

        waiter = rs.get_waiter("cluster_available")  # acceptors from waiters-2.json, a short delay
        self.assertEqual(waiter.config.operation, "DescribeClusters")
        self.assertIn("available", [a.expected for a in waiter.config.acceptors])
        start = time.monotonic()
        waiter.wait(ClusterIdentifier="loadstar-life", WaiterConfig={"Delay": 0.05, "MaxAttempts": 10})
        self.assertLess(time.monotonic() - start, 5)
        c = rs.describe_clusters(ClusterIdentifier="loadstar-life")["Clusters"][0]
        self.assertEqual(c["ClusterStatus"], "available")
        self.assertEqual(c["ClusterAvailabilityStatus"], "Available")
        self.assertEqual(c["Endpoint"], {"Address": CLUSTER_ENDPOINT[0], "Port": CLUSTER_ENDPOINT[1]})
        self.assertEqual(c["IamRoles"], [{"IamRoleArn": role["Arn"], "ApplyStatus": "in-sync"}])
        self.assertEqual(c["DefaultIamRoleArn"], role["Arn"])
        self.assertEqual([n["NodeRole"] for n in c["ClusterNodes"]], ["LEADER", "COMPUTE-0", "COMPUTE-1"])
        self.assertIsInstance(c["ClusterCreateTime"], datetime.datetime)
        self.assertEqual(c["Tags"], [{"Key": "app", "Value": "loadstar"}])
        # clusters live in a region
        client_error(self, lambda: self.client_in("us-west-2").describe_clusters(ClusterIdentifier="loadstar-life"),
                     "ClusterNotFound", 404)
        self.assertEqual(len(rs.describe_clusters(TagKeys=["app"])["Clusters"]), 1)
        self.assertEqual(rs.describe_clusters(TagKeys=["other"])["Clusters"], [])

        extra = self.make_role("loadstar-extra")
        c = rs.modify_cluster_iam_roles(ClusterIdentifier="loadstar-life", AddIamRoles=[extra["Arn"]])["Cluster"]
        self.assertEqual(sorted((r["IamRoleArn"], r["ApplyStatus"]) for r in c["IamRoles"]),
                         [(role["Arn"], "in-sync"), (extra["Arn"], "adding")])
        c = rs.describe_clusters(ClusterIdentifier="loadstar-life")["Clusters"][0]
        self.assertIn({"IamRoleArn": extra["Arn"], "ApplyStatus": "adding"}, c["IamRoles"])
        c = rs.describe_clusters(ClusterIdentifier="loadstar-life")["Clusters"][0]
        self.assertIn({"IamRoleArn": extra["Arn"], "ApplyStatus": "in-sync"}, c["IamRoles"])
        c = rs.modify_cluster_iam_roles(ClusterIdentifier="loadstar-life", RemoveIamRoles=[extra["Arn"]])["Cluster"]
        self.assertIn({"IamRoleArn": extra["Arn"], "ApplyStatus": "removing"}, c["IamRoles"])
        client_error(self, lambda: rs.modify_cluster_iam_roles(ClusterIdentifier="loadstar-life",
                                                               AddIamRoles=["arn:aws:iam::123456789012:role/nobody"]),
                     "InvalidParameterValue", 400)
        c = rs.describe_clusters(ClusterIdentifier="loadstar-life")["Clusters"][0]
        self.assertIn({"IamRoleArn": extra["Arn"], "ApplyStatus": "removing"}, c["IamRoles"])
        c = rs.describe_clusters(ClusterIdentifier="loadstar-life")["Clusters"][0]
        self.assertEqual(c["IamRoles"], [{"IamRoleArn": role["Arn"], "ApplyStatus": "in-sync"}])

        client_error(self, lambda: rs.delete_cluster(ClusterIdentifier="loadstar-life"),
                     "InvalidParameterCombination", 400)
        c = rs.delete_cluster(ClusterIdentifier="loadstar-life", SkipFinalClusterSnapshot=True)["Cluster"]
        self.assertEqual(c["ClusterStatus"], "deleting")
        client_error(self, lambda: rs.delete_cluster(ClusterIdentifier="loadstar-life", SkipFinalClusterSnapshot=True),
                     "InvalidClusterState", 400)
        client_error(self, lambda: rs.modify_cluster_iam_roles(ClusterIdentifier="loadstar-life",
                                                               AddIamRoles=[extra["Arn"]]),
                     "InvalidClusterState", 400)
        rs.get_waiter("cluster_deleted").wait(ClusterIdentifier="loadstar-life",
                                              WaiterConfig={"Delay": 0.05, "MaxAttempts": 10})
        client_error(self, lambda: rs.describe_clusters(ClusterIdentifier="loadstar-life"), "ClusterNotFound", 404)
        self.assertEqual(rs.describe_clusters(TagKeys=["app"])["Clusters"], [])
        client_error(self, lambda: rs.delete_cluster(ClusterIdentifier="loadstar-life", SkipFinalClusterSnapshot=True),
                     "ClusterNotFound", 404)

        client_error(self, lambda: iam.delete_role(RoleName="loadstar-copy"), "DeleteConflict", 409)
        iam.delete_role_policy(RoleName="loadstar-copy", PolicyName="read-warehouse")
        client_error(self, lambda: iam.delete_role_policy(RoleName="loadstar-copy", PolicyName="read-warehouse"),
                     "NoSuchEntity", 404)
        client_error(self, lambda: iam.delete_role(RoleName="loadstar-copy"), "DeleteConflict", 409)
        iam.detach_role_policy(RoleName="loadstar-copy", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        iam.delete_role(RoleName="loadstar-copy")
        iam.delete_role(RoleName="loadstar-extra")
        client_error(self, lambda: iam.get_role(RoleName="loadstar-copy"), "NoSuchEntity", 404)
        client_error(self, lambda: iam.delete_role(RoleName="loadstar-copy"), "NoSuchEntity", 404)
        client_error(self, lambda: iam.put_role_policy(RoleName="loadstar-copy", PolicyName="p",
                                                       PolicyDocument=json.dumps(READ_S3)), "NoSuchEntity", 404)
        self.assertGreater(self.checker.checked, 30)

    def client_in(self, region):
        return self.checker.attach(botocore.session.get_session().create_client(
            "redshift", region_name=region, endpoint_url=self.standin.url, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY))

    def test_final_snapshot(self):
        arn = self.make_role("loadstar-snap")["Arn"]
        self.rs.create_cluster(ClusterIdentifier="loadstar-snap", NodeType="ra3.xlplus", MasterUsername="loadstar",
                               MasterUserPassword=PASSWORD, IamRoles=[arn])
        self.rs.get_waiter("cluster_available").wait(ClusterIdentifier="loadstar-snap",
                                                     WaiterConfig={"Delay": 0.05, "MaxAttempts": 10})
        c = self.rs.describe_clusters(ClusterIdentifier="loadstar-snap")["Clusters"][0]
        self.assertEqual((c["NumberOfNodes"], [n["NodeRole"] for n in c["ClusterNodes"]]), (1, ["SHARED"]))
        client_error(self, lambda: self.rs.delete_cluster(ClusterIdentifier="loadstar-snap",
                                                          SkipFinalClusterSnapshot=True,
                                                          FinalClusterSnapshotIdentifier="final-1"),
                     "InvalidParameterCombination", 400)
        c = self.rs.delete_cluster(ClusterIdentifier="loadstar-snap",
                                   FinalClusterSnapshotIdentifier="final-1")["Cluster"]
        self.assertEqual(c["ClusterStatus"], "final-snapshot")
        statuses = []
        for _ in range(10):
            try:
                found = self.rs.describe_clusters(ClusterIdentifier="loadstar-snap")["Clusters"]
                statuses.append(found[0]["ClusterStatus"])
            except botocore.exceptions.ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "ClusterNotFound")
                break
        self.assertEqual(statuses, ["final-snapshot", "deleting"])
        self.rs.create_cluster(ClusterIdentifier="loadstar-snap", NodeType="dc2.large", MasterUsername="loadstar",
                               MasterUserPassword=PASSWORD)
        for _ in range(3):
            self.rs.describe_clusters(ClusterIdentifier="loadstar-snap")
        client_error(self, lambda: self.rs.delete_cluster(ClusterIdentifier="loadstar-snap",
                                                          FinalClusterSnapshotIdentifier="final-1"),
                     "ClusterSnapshotAlreadyExists", 400)
        self.rs.delete_cluster(ClusterIdentifier="loadstar-snap", SkipFinalClusterSnapshot=True)

    # --- well-formed requests the service refuses -----------------------------------------

    def test_refused_values(self):
        rs, iam = self.rs, self.iam
        first = len(self.standin.records()) + 1

        def create(**kw):
            p = dict(ClusterIdentifier="loadstar-refused", NodeType="dc2.large", MasterUsername="loadstar",
                     MasterUserPassword=PASSWORD)
            p.update(kw)
            return lambda: rs.create_cluster(**p)
        for bad in ("short1A", "nouppercase1", "NOLOWERCASE1", "NoDigitsHere", "Has space1", "Has@sign1",
                    "Quote'1Aa", "Slash/1Aa", "A1" + "a" * 63):
            err = client_error(self, create(MasterUserPassword=bad), "InvalidParameterValue", 400)
            self.assertIn("MasterUserPassword", err["Error"]["Message"])
        for kw in ({"ClusterIdentifier": "Upper"}, {"ClusterIdentifier": "ends-"}, {"ClusterIdentifier": "two--dash"},
                   {"ClusterIdentifier": "1st"}, {"NodeType": "dc9.huge"}, {"NodeType": "ds2.xlarge"},
                   {"DBName": "select"}, {"DBName": "Upper"}, {"MasterUsername": "public"},
                   {"MasterUsername": "user"}, {"Port": 80}, {"NumberOfNodes": 33, "ClusterType": "multi-node"},
                   {"ClusterType": "two-node"}, {"IamRoles": ["not-an-arn"]},
                   {"IamRoles": ["arn:aws:iam::123456789012:role/nobody"]},
                   {"DefaultIamRoleArn": "arn:aws:iam::123456789012:role/nobody"}):
            client_error(self, create(**kw), "InvalidParameterValue", 400)
        for kw in ({"ClusterType": "multi-node"}, {"ClusterType": "multi-node", "NumberOfNodes": 1},
                   {"ClusterType": "single-node", "NumberOfNodes": 2}, {"NodeType": "dc2.8xlarge"}):
            client_error(self, create(**kw), "InvalidParameterCombination", 400)
        client_error(self, lambda: rs.describe_clusters(MaxRecords=5), "InvalidParameterValue", 400)

        bad_json = "{'Version': '2012-10-17'"
        err = client_error(self, lambda: iam.create_role(RoleName="r1", AssumeRolePolicyDocument=bad_json),
                           "MalformedPolicyDocument", 400)
        self.assertEqual(err["Error"]["Message"], "This policy contains invalid Json")
        ec2 = json.loads(json.dumps(TRUST))
        ec2["Statement"][0]["Principal"]["Service"] = "ec2.amazonaws.com"
        client_error(self, lambda: iam.create_role(RoleName="r1", AssumeRolePolicyDocument=json.dumps(ec2)),
                     "MalformedPolicyDocument", 400)
        with_resource = json.loads(json.dumps(TRUST))
        with_resource["Statement"][0]["Resource"] = "*"
        client_error(self, lambda: iam.create_role(RoleName="r1", AssumeRolePolicyDocument=json.dumps(with_resource)),
                     "MalformedPolicyDocument", 400)
        self.make_role("loadstar-refused")
        client_error(self, lambda: iam.put_role_policy(RoleName="loadstar-refused", PolicyName="p",
                                                       PolicyDocument=json.dumps(TRUST)),
                     "MalformedPolicyDocument", 400)
        client_error(self, lambda: iam.attach_role_policy(RoleName="loadstar-refused",
                                                          PolicyArn="arn:aws:iam::123456789012:policy/mine"),
                     "NoSuchEntity", 404)
        iam.delete_role(RoleName="loadstar-refused")
        client_error(self, lambda: iam.get_role(RoleName="r1"), "NoSuchEntity", 404)
        # refused values are conforming requests: the record says so
        refused = [e for e in self.standin.records()[first - 1:]
                   if e["error"] in ("InvalidParameterValue", "MalformedPolicyDocument")
                   and e["action"] in ("CreateCluster", "CreateRole")]
        self.assertGreater(len(refused), 20)
        for e in refused:
            self.assertEqual((e["conformance"], e["signature_ok"]), ("ok", True), e)

    # --- requests that break the model or the signature -----------------------------------

    def expect(self, status, code, params, service="redshift", conforms=False, signed=True, **kw):
        got_status, got_code, message, rid, _body = self.raw.send(service, params, **kw)
        self.assertEqual((got_status, got_code), (status, code), message)
        entry = self.standin.record(rid)
        self.assertEqual(entry["signature_ok"], signed, entry)
        if conforms:
            self.assertEqual(entry["conformance"], "ok", entry)
        else:
            self.assertIsInstance(entry["conformance"], list, entry)
            self.assertTrue(entry["conformance"], entry)
        self.assertEqual((entry["status"], entry["error"]), (status, code), entry)
        return message, entry

    def test_nonconforming_requests(self):
        v = {"Version": "2012-12-01"}
        msg, _ = self.expect(400, "InvalidAction", {"Action": "CreateWarehouse", **v})
        self.assertEqual(msg, "Could not find operation CreateWarehouse for version 2012-12-01")
        self.expect(400, "InvalidAction", {"Action": "DescribeClusters", "Version": "2012-12-02"})
        msg, _ = self.expect(400, "InvalidAction", {"Action": "DescribeClusters"})
        self.assertIn("NO_VERSION_SPECIFIED", msg)
        self.expect(400, "MissingAction", {"Version": "2012-12-01"})
        # an IAM request signed for iam but carrying Redshift's version
        self.expect(400, "InvalidAction", {"Action": "CreateCluster", **v}, service="iam")

        role_arn = "arn:aws:iam::123456789012:role/x"
        msg, entry = self.expect(400, "UnknownParameter", cluster_params("c1", **{"IamRoles.member.1": role_arn}))
        self.assertIn("IamRoles.member.1", msg)
        self.assertTrue(any("IamRoles.IamRoleArn.N" in p for p in entry["conformance"]), entry)
        self.expect(400, "UnknownParameter", cluster_params("c1", NumberOfNode="2"))
        self.expect(400, "UnknownParameter", cluster_params("c1", **{"Tags.member.1.Key": "a"}))
        self.expect(400, "UnknownParameter", cluster_params("c1", **{"Tags.Tag.1.Name": "a"}))
        self.expect(400, "UnknownParameter", {"Action": "DescribeClusters", **v, "ClusterIdentifier.1": "x"})
        msg, _ = self.expect(400, "InvalidParameterValue", cluster_params("c1", NumberOfNodes="two"))
        self.assertIn("NumberOfNodes", msg)
        self.expect(400, "InvalidParameterValue", cluster_params("c1", NumberOfNodes="99999999999"))
        self.expect(400, "InvalidParameterValue", {"Action": "DeleteCluster", **v, "ClusterIdentifier": "c1",
                                                   "SkipFinalClusterSnapshot": "True"})
        self.expect(400, "InvalidParameterValue", cluster_params("c1", AquaConfigurationStatus="on"))
        self.expect(400, "InvalidParameterValue", cluster_params("c1", **{"IamRoles.IamRoleArn.2": role_arn}))
        self.expect(400, "InvalidParameterValue", {"Action": "DescribeClusterSnapshots", **v,
                                                   "StartTime": "yesterday"})
        p = cluster_params("c1")
        del p["MasterUserPassword"]
        msg, _ = self.expect(400, "MissingParameter", p)
        self.assertEqual(msg, "The request must contain the parameter MasterUserPassword")
        self.expect(400, "UnknownParameter", {"Action": "DescribeClusters", **v, "ClusterIdentifier": "x",
                                              "Marker": "1", "Bogus": "1"})
        self.expect(404, "MalformedQueryString", {"Action": "DescribeClusters", **v}, content_type="application/json")
        self.expect(404, "NotFound", {"Action": "DescribeClusters", **v}, path="/redshift")
        # a conforming request for an operation the stand-in does not implement
        _m, entry = self.expect(501, "NotImplemented", {"Action": "DescribeClusterSnapshots", **v}, conforms=True)
        self.assertEqual(entry["fault"], "not-implemented")

        iv = {"Version": "2010-05-08"}
        msg, _ = self.expect(400, "ValidationError", {"Action": "CreateRole", **iv,
                                                      "AssumeRolePolicyDocument": json.dumps(TRUST)}, service="iam")
        self.assertEqual(msg, "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: "
                              "Member must not be null")
        msg, _ = self.expect(400, "ValidationError", {"Action": "GetRole", **iv, "RoleName": "r" * 65}, service="iam")
        self.assertIn("Member must have length less than or equal to 64", msg)
        msg, _ = self.expect(400, "ValidationError", {"Action": "GetRole", **iv, "RoleName": "no spaces"},
                             service="iam")
        self.assertIn("regular expression pattern", msg)
        self.expect(400, "ValidationError", {"Action": "ListRolePolicies", **iv, "RoleName": "r", "MaxItems": "0"},
                    service="iam")
        self.expect(400, "ValidationError", {"Action": "CreateRole", **iv, "RoleName": "r",
                                             "AssumeRolePolicyDocument": json.dumps(TRUST),
                                             "Tags.member.1.Key": "k"}, service="iam")
        self.expect(400, "UnknownParameter", {"Action": "CreateRole", **iv, "RoleName": "r",
                                              "AssumeRolePolicyDocument": json.dumps(TRUST),
                                              "Tags.Tag.1.Key": "k", "Tags.Tag.1.Value": "v"}, service="iam")

    def test_signatures(self):
        ok = {"Action": "DescribeClusters", "Version": "2012-12-01"}
        self.expect(200, None, ok, conforms=True)
        msg, entry = self.expect(403, "SignatureDoesNotMatch", ok, conforms=True, signed=False, secret="wrong")
        self.assertIn("The Canonical String for this request should have been", msg)
        self.assertIn("SignatureDoesNotMatch", entry["signature_problem"])
        self.expect(403, "SignatureDoesNotMatch", ok, conforms=True, signed=False,
                    tamper=lambda b: b + b"&MaxRecords=20")
        now = datetime.datetime.now(datetime.timezone.utc)
        msg, _ = self.expect(403, "SignatureDoesNotMatch", ok, conforms=True, signed=False,
                             when=now - datetime.timedelta(minutes=20))
        self.assertTrue(msg.startswith("Signature expired: "), msg)
        msg, _ = self.expect(403, "SignatureDoesNotMatch", ok, conforms=True, signed=False,
                             when=now + datetime.timedelta(minutes=20))
        self.assertTrue(msg.startswith("Signature not yet current: "), msg)
        self.expect(200, None, ok, conforms=True, when=now - datetime.timedelta(minutes=10))
        msg, _ = self.expect(403, "SignatureDoesNotMatch", {"Action": "ListRoles", "Version": "2010-05-08"},
                             service="iam", region="eu-west-1", conforms=True, signed=False)
        self.assertIn("scoped to a valid region", msg)
        msg, _ = self.expect(403, "SignatureDoesNotMatch", ok, service="s3", conforms=True, signed=False)
        self.assertIn("scoped to correct service: 'redshift'", msg)
        self.expect(403, "InvalidClientTokenId", ok, conforms=True, signed=False, access="AKIDSOMEONEELSE")
        self.expect(403, "InvalidClientTokenId", ok, conforms=True, signed=False, token="a-session-token")
        self.expect(403, "MissingAuthenticationToken", ok, conforms=True, signed=False, sign=False)
        # a bad signature on a bad request: refused for the signature, recorded for both
        self.expect(403, "SignatureDoesNotMatch", {"Action": "Nope", "Version": "2012-12-01"}, signed=False,
                    secret="wrong")
        # a signer that is not botocore's: curl's --aws-sigv4
        r = subprocess.run(["curl", "-sS", "-D", "-", "--aws-sigv4", "aws:amz:%s:redshift" % REGION,
                            "--user", "%s:%s" % (ACCESS_KEY, SECRET_KEY),
                            "-d", "Action=DescribeClusters&Version=2012-12-01&MaxRecords=20", self.standin.url + "/"],
                           capture_output=True, text=True, timeout=20)
        self.assertIn("<DescribeClustersResponse", r.stdout, r.stderr)
        rid = [line.split(":", 1)[1].strip() for line in r.stdout.splitlines()
               if line.lower().startswith("x-amzn-requestid:")][0]
        entry = self.standin.record(rid)
        self.assertEqual((entry["signature_ok"], entry["conformance"], entry["status"]), (True, "ok", 200), entry)
        # GET with the query string, as AWS accepts it
        _m, entry = self.expect(200, None, {"Action": "ListRoles", "Version": "2010-05-08", "MaxItems": "5"},
                                service="iam", method="GET", conforms=True)
        self.assertEqual((entry["method"], entry["service"], entry["params"]), ("GET", "iam", {"MaxItems": "5"}))

    # --- the record -----------------------------------------------------------------------

    def test_record(self):
        self.iam.list_roles()
        records = self.standin.records()
        with open(self.record_path, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual(lines, records)
        keys = {"seq", "time", "method", "path", "service", "region", "action", "version", "params", "conformance",
                "signature_ok", "signature_problem", "fault", "status", "error", "request_id"}
        for e in records:
            self.assertEqual(set(e), keys, e)
        self.assertEqual([e["seq"] for e in records], list(range(1, len(records) + 1)))
        last = records[-1]
        self.assertEqual((last["service"], last["action"], last["version"], last["region"], last["status"],
                          last["conformance"], last["signature_ok"]),
                         ("iam", "ListRoles", "2010-05-08", "us-east-1", 200, "ok", True))


class FaultsTest(unittest.TestCase):
    """--throttle-every, --fail-once and a life cycle counted in seconds, on a stand-in of their own."""

    def test_faults(self):
        standin = StandIn("--throttle-every", "3", "--fail-once", "CreateCluster:InsufficientClusterCapacity",
                          "--fail-once", "GetRole:ServiceFailure", "--create-describes", "0",
                          "--create-seconds", "0.5", "--region", REGION)
        try:
            checker = ResponseChecker()
            session = botocore.session.get_session()
            common = dict(endpoint_url=standin.url, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                          config=botocore.config.Config(retries={"max_attempts": 4, "mode": "legacy"}))
            iam = checker.attach(session.create_client("iam", region_name="us-east-1", **common))
            rs = checker.attach(session.create_client("redshift", region_name=REGION, **common))
            iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
            iam.get_role(RoleName="r")                 # ServiceFailure once, retried by botocore
            for _ in range(4):
                iam.list_roles()
            client_error(self, lambda: rs.create_cluster(ClusterIdentifier="c", NodeType="dc2.large",
                                                         MasterUsername="loadstar", MasterUserPassword=PASSWORD),
                         "InsufficientClusterCapacity", 400)
            self.assertEqual(rs.create_cluster(ClusterIdentifier="c", NodeType="dc2.large", MasterUsername="loadstar",
                                               MasterUserPassword=PASSWORD)["Cluster"]["ClusterStatus"], "creating")
            self.assertEqual(rs.describe_clusters(ClusterIdentifier="c")["Clusters"][0]["ClusterStatus"], "creating")
            time.sleep(0.6)
            self.assertEqual(rs.describe_clusters(ClusterIdentifier="c")["Clusters"][0]["ClusterStatus"], "available")
            # --region: Redshift requests signed for another region are refused
            other = checker.attach(session.create_client("redshift", region_name="us-west-2", **common))
            client_error(self, lambda: other.describe_clusters(), "SignatureDoesNotMatch", 403)
            self.assertEqual(checker.failures, [])

            records = standin.records()
            throttled = [e for e in records if e["fault"] == "throttle"]
            self.assertTrue(throttled)
            for e in throttled:
                self.assertEqual((e["status"], e["error"], e["conformance"]), (400, "Throttling", "ok"), e)
                retry = records[e["seq"]]  # the next request: botocore's retry of the same call
                self.assertEqual((retry["action"], retry["params"]), (e["action"], e["params"]))
            authenticated = [e for e in records if e["signature_ok"]]
            self.assertEqual([i + 1 for i, e in enumerate(authenticated) if e["fault"] == "throttle"],
                             [n for n in range(1, len(authenticated) + 1) if n % 3 == 0])
            once = [(e["action"], e["error"]) for e in records if e["fault"] == "fail-once"]
            self.assertEqual(once, [("GetRole", "ServiceFailure"), ("CreateCluster", "InsufficientClusterCapacity")])
            self.assertEqual(len([e for e in records if e["action"] == "GetRole" and e["status"] == 200]), 1)
        finally:
            checker.close()
            standin.stop()

    def test_loopback_only(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
        for listen in ("0.0.0.0:0", "192.0.2.1:0", "localhost:0"):
            r = subprocess.run(["/usr/bin/python3", SERVER, "--listen", listen, "--cluster-endpoint", "127.0.0.1:1"],
                               capture_output=True, text=True, env=env, timeout=20)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("loopback", r.stderr)
        env.pop("AWS_SECRET_ACCESS_KEY")
        r = subprocess.run(["/usr/bin/python3", SERVER, "--listen", "127.0.0.1:0", "--cluster-endpoint", "127.0.0.1:1"],
                           capture_output=True, text=True, env=env, timeout=20)
        self.assertEqual(r.returncode, 2, r.stderr)


class SerializationRulesTest(unittest.TestCase):
    """The stand-in's reading of parameters against botocore's QuerySerializer, for every operation
    of both models: a sample input serialised by botocore must be read back, unchanged, with no
    problem of naming, type or presence."""

    def sample(self, shape, depth=0):
        t = shape.type_name
        if t == "structure":
            if depth > 4:
                return {}
            return {m: self.sample(s, depth + 1) for m, s in shape.members.items()}
        if t == "list":
            return [self.sample(shape.member, depth + 1) for _ in range(2)]
        if t == "map":
            return {"k%d" % i: self.sample(shape.value, depth + 1) for i in (1, 2)}
        if t == "string":
            enum = shape.metadata.get("enum")
            return enum[-1] if enum else "s" * max(1, shape.metadata.get("min", 1))
        if t in ("integer", "long"):
            return int(shape.metadata.get("min", 7))
        if t in ("float", "double"):
            return 1.5
        if t == "boolean":
            return depth % 2 == 0
        if t == "timestamp":
            return datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
        if t == "blob":
            return b"\x00blob"
        raise AssertionError(t)

    def test_every_operation(self):
        services = models.load_services()
        serializer = botocore.serialize.create_serializer("query", include_validation=False)
        count = 0
        for service in services.values():
            for name in sorted(service.operations):
                op = service.operation(name)
                if op.input_shape is None:
                    continue
                value = self.sample(op.input_shape)
                body = serializer.serialize_to_request(value, op)["body"]
                pairs = [(k, v if isinstance(v, str) else str(v)) for k, v in body.items()]
                got_op, checked = conformance.check(service, pairs)
                self.assertIs(got_op.name, op.name)
                wrong = [str(p) for p in checked.problems if p.kind != "constraint"]
                self.assertEqual(wrong, [], "%s %s" % (service.name, name))
                self.assertEqual(checked.value, value, "%s %s" % (service.name, name))
                count += 1
        self.assertGreater(count, 250)

    def test_empty_list_and_flattened(self):
        service = models.load_services()["redshift"]
        op, checked = conformance.check(service, [("Action", "ModifyClusterIamRoles"), ("Version", "2012-12-01"),
                                                  ("ClusterIdentifier", "c"), ("AddIamRoles", "")])
        self.assertEqual((checked.problems, checked.value), ([], {"ClusterIdentifier": "c", "AddIamRoles": []}))
        _op, checked = conformance.check(service, [("Action", "DescribeClusters"), ("Version", "2012-12-01"),
                                                   ("Marker", "a"), ("Marker", "b")])
        self.assertEqual([p.kind for p in checked.problems], ["unknown"])

    def test_patterns_translate(self):
        services = models.load_services()
        for service in services.values():
            for name in service.model.shape_names:
                pat = service.model.shape_for(name).metadata.get("pattern")
                if pat is not None:
                    self.assertIsNotNone(patterns.compiled(pat), "%s %s: %s" % (service.name, name, pat))
        tag = patterns.compiled(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+")
        self.assertTrue(tag.fullmatch("Ünïcode tag 1"))
        self.assertFalse(tag.fullmatch("no*stars"))
        self.assertFalse(patterns.compiled(r"[\w+=,.@-]+").fullmatch("é"))  # Java's \w is ASCII


if __name__ == "__main__":
    unittest.main(verbosity=2)
