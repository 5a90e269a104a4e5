#!/usr/bin/python3
"""`loadstar cluster create|status|delete` against the AWS control-plane stand-in
(tests/tools/aws_control_plane, docs/AWS_CONTROL_PLANE_STANDIN.md): every request loadstar sends
must conform to botocore's models of Redshift and IAM and carry a valid signature; create and
delete are idempotent; throttling is retried; the master password goes in a request body and
nowhere else.

Environment: LOADSTAR_SOURCE_DIR (the checkout), LOADSTAR_BINARY (the loadstar binary).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

SOURCE_DIR = os.environ.get("LOADSTAR_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LOADSTAR = os.environ.get("LOADSTAR_BINARY") or os.path.join(SOURCE_DIR, "build", "loadstar")
SERVER = os.path.join(SOURCE_DIR, "tests", "tools", "aws_control_plane", "server.py")
KEY, SECRET = "AKIDLOADSTARTEST", "loadstar-test-secret-key"
PASSWORD = "Sparkify2018xyz"
sys.dont_write_bytecode = True


class ControlPlane:
    """The stand-in as a child process; its record of every request in a file."""

    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix="loadstar-cluster-")
        self.record = os.path.join(self.dir, "requests.jsonl")
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET)
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", SERVER, "--listen", "127.0.0.1:0", "--cluster-endpoint", "127.0.0.1:5439",
             "--create-describes", "3", "--delete-describes", "2", "--record", self.record, *extra],
            stdout=subprocess.PIPE, stderr=open(os.path.join(self.dir, "stderr"), "w"), env=env, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            raise RuntimeError("the control-plane stand-in did not start: " + line)
        self.endpoint = "http://" + line.split()[1]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def requests(self):
        if not os.path.exists(self.record):
            return []
        with open(self.record) as f:
            return [json.loads(line) for line in f if line.strip()]


def loadstar(cp, *args, password=True, timeout=120):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="us-west-2",
               AWS_ENDPOINT_URL_REDSHIFT=cp.endpoint, AWS_ENDPOINT_URL_IAM=cp.endpoint)
    if password:
        env["LOADSTAR_CLUSTER_PASSWORD"] = PASSWORD
    return subprocess.run([LOADSTAR, "cluster", *args, "--poll-interval", "0.05", "--timeout", "60"],
                          env=env, capture_output=True, text=True, timeout=timeout)


CREATE = ["create", "--name", "sparkify", "--read", "s3://udacity-dend/song_data/", "--read",
          "s3://udacity-dend/log_data/", "--staging", "s3://mine/staging/", "--lake", "s3://mine/lake/"]


class ClusterTest(unittest.TestCase):
    def setUp(self):
        self.cp = ControlPlane("--throttle-every", "7")

    def tearDown(self):
        self.cp.stop()

    def assertAllConform(self):
        reqs = self.cp.requests()
        self.assertTrue(reqs)
        for r in reqs:
            self.assertEqual(r["conformance"], "ok", r)
            self.assertTrue(r["signature_ok"], r)

    def test_create_status_delete_twice_each(self):
        first = loadstar(self.cp, *CREATE)
        self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
        self.assertIn("status    available", first.stdout)
        self.assertIn("warehouse: host=127.0.0.1 port=5439 dbname=dev user=loadstar", first.stdout)
        self.assertIn("iam-role: arn:aws:iam::", first.stdout)
        self.assertIn(":role/loadstar-sparkify", first.stdout)
        self.assertIn("creating", first.stderr)  # progress while it waits
        self.assertNotIn(PASSWORD, first.stdout + first.stderr)

        again = loadstar(self.cp, *CREATE)
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertIn("status    available", again.stdout)

        status = loadstar(self.cp, "status", "--name", "sparkify", password=False)
        self.assertEqual(status.returncode, 0, status.stdout + status.stderr)
        self.assertIn("endpoint  127.0.0.1:5439", status.stdout)

        reqs = self.cp.requests()
        actions = [r["action"] for r in reqs if r["fault"] is None]
        # One cluster and one role, however often create ran.
        created = [r for r in reqs if r["action"] == "CreateCluster" and r["status"] == 200]
        self.assertEqual(len(created), 1, actions)
        self.assertIn("ClusterAlreadyExists", [r["error"] for r in reqs if r["action"] == "CreateCluster"])
        self.assertIn("EntityAlreadyExists", [r["error"] for r in reqs if r["action"] == "CreateRole"])
        # The password travelled only as the CreateCluster parameter.
        for r in reqs:
            for k, v in r["params"].items():
                if v == PASSWORD:
                    self.assertEqual((r["action"], k), ("CreateCluster", "MasterUserPassword"))
        # The policy: least privilege, as asked.
        put = [r for r in reqs if r["action"] == "PutRolePolicy" and r["status"] == 200][0]
        policy = json.loads(put["params"]["PolicyDocument"])
        resources = sorted(res for st in policy["Statement"] for res in
                           (st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]))
        self.assertIn("arn:aws:s3:::udacity-dend/song_data/*", resources)
        self.assertIn("arn:aws:s3:::mine/lake/*", resources)
        writes = [st for st in policy["Statement"] if "s3:PutObject" in st["Action"]]
        self.assertEqual([st["Resource"] for st in writes], [["arn:aws:s3:::mine/lake/*"]])
        # Throttled requests were retried, not fatal.
        self.assertTrue(any(r["fault"] == "throttle" for r in reqs))

        gone = loadstar(self.cp, "delete", "--name", "sparkify", password=False)
        self.assertEqual(gone.returncode, 0, gone.stdout + gone.stderr)
        self.assertIn("are gone", gone.stdout)
        twice = loadstar(self.cp, "delete", "--name", "sparkify", password=False)
        self.assertEqual(twice.returncode, 0, twice.stdout + twice.stderr)
        none = loadstar(self.cp, "status", "--name", "sparkify", password=False)
        self.assertIn("status    none", none.stdout)
        self.assertIn("iam role  (none)", none.stdout)
        self.assertAllConform()

    def test_usage_errors_before_any_request(self):
        no_password = loadstar(self.cp, *CREATE, password=False)
        self.assertEqual(no_password.returncode, 2, no_password.stderr)
        self.assertIn("LOADSTAR_CLUSTER_PASSWORD", no_password.stderr)
        bad_name = loadstar(self.cp, "create", "--name", "Bad_Name", "--lake", "s3://mine/lake/")
        self.assertEqual(bad_name.returncode, 2, bad_name.stderr)
        self.assertIn("is not a Redshift cluster identifier", bad_name.stderr)
        self.assertEqual([r for r in self.cp.requests() if r["action"] in ("CreateCluster", "CreateRole")], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
