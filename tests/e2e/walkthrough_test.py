#!/usr/bin/python3
"""The README's walkthrough, from nothing to answers and back, against the stand-ins:

  loadstar cluster create   -> the AWS control-plane stand-in (tests/tools/aws_control_plane), which
                               reports the Redshift stand-in's address as the cluster's endpoint
  loadstar run              -> the Sparkify sample from the local S3 server into the Redshift
                               stand-in (tests/tools/redshift_standin), over TLS
  loadstar report           -> the analysts' questions
  loadstar export           -> UNLOAD ... FORMAT PARQUET into the local S3 server, read back by DuckDB
  loadstar cluster delete   -> cluster and role gone; safe twice

Every request loadstar sent to the control plane must conform to botocore's models and be signed
right. Environment: LOADSTAR_SOURCE_DIR, LOADSTAR_BINARY.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get("LOADSTAR_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LOADSTAR = os.environ.get("LOADSTAR_BINARY") or os.path.join(SOURCE_DIR, "build", "loadstar")
SAMPLE = os.path.join(SOURCE_DIR, "..", "shared", "data", "sparkify-sample")
TOOLS = os.environ.get("LOADSTAR_TOOLS_DIR") or os.path.join(SOURCE_DIR, ".tools")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
import redshift_standin_test as standin  # noqa: E402  (PostgreSQL, s3rver and the Redshift stand-in)

BUCKET = standin.BUCKET
KEY = SECRET = "S3RVER"  # one set of credentials for S3 and the control plane, as with real AWS
PASSWORD = "Sparkify2018xyz"
SERVICES = standin.Services()


def setUpModule():
    try:
        SERVICES.start()
    except Exception:
        SERVICES.stop()
        raise


def tearDownModule():
    SERVICES.stop()


class WalkthroughTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="loadstar-walkthrough-")
        self.record = os.path.join(self.tmp, "control-plane.jsonl")
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET)
        self.cp = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(SOURCE_DIR, "tests", "tools", "aws_control_plane", "server.py"),
             "--listen", "127.0.0.1:0", "--cluster-endpoint", "127.0.0.1:%d" % SERVICES.port,
             "--create-describes", "3", "--delete-describes", "2", "--record", self.record],
            stdout=subprocess.PIPE, stderr=open(os.path.join(self.tmp, "cp.log"), "w"), env=env, text=True)
        line = self.cp.stdout.readline()
        self.assertTrue(line.startswith("ready "), line)
        self.cp_endpoint = "http://" + line.split()[1]
        # The cluster's database and master user, as the cluster would have them.
        admin = standin.Conn(SERVICES.direct_conninfo())
        for sql in ("DROP DATABASE IF EXISTS dev WITH (FORCE)", "DROP ROLE IF EXISTS loadstar",
                    "CREATE ROLE loadstar LOGIN SUPERUSER", "CREATE DATABASE dev OWNER loadstar"):
            self.assertTrue(admin.exec(sql).ok, sql)
        admin.close()
        for root, _dirs, files in os.walk(SAMPLE):
            for name in files:
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    SERVICES.s3.put(BUCKET, "sparkify/" + os.path.relpath(path, SAMPLE), f.read())

    def tearDown(self):
        self.cp.terminate()
        self.cp.wait(timeout=10)
        self.cp.stdout.close()

    def loadstar(self, *args, timeout=300):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PG", "LOADSTAR_"))}
        env.update(AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="us-east-1",
                   AWS_ENDPOINT_URL_S3=SERVICES.s3_endpoint, AWS_ENDPOINT_URL_REDSHIFT=self.cp_endpoint,
                   AWS_ENDPOINT_URL_IAM=self.cp_endpoint, LOADSTAR_CLUSTER_PASSWORD=PASSWORD,
                   PGPASSWORD=PASSWORD)
        r = subprocess.run([LOADSTAR, *args], env=env, capture_output=True, text=True, timeout=timeout)
        self.assertEqual(r.returncode, 0, "loadstar %s:\n%s\n%s\n%s" % (
            " ".join(args), r.stdout, r.stderr, SERVICES.log_tail()))
        return r

    def test_from_nothing_to_answers_and_back(self):
        src = "s3://%s/sparkify/" % BUCKET
        create = self.loadstar("cluster", "create", "--name", "sparkify", "--read", src + "song_data/", "--read",
                               src + "log_data/", "--staging", "s3://%s/staging/" % BUCKET,
                               "--lake", "s3://%s/lake/" % BUCKET, "--poll-interval", "0.05")
        settings = dict(line.split(": ", 1) for line in create.stdout.splitlines()
                        if line.startswith(("warehouse: ", "iam-role: ")))
        warehouse, role = settings["warehouse"], settings["iam-role"]
        self.assertEqual(warehouse, "host=127.0.0.1 port=%d dbname=dev user=loadstar sslmode=require" % SERVICES.port)

        run = self.loadstar("run", "--dialect", "redshift", "--warehouse", warehouse, "--iam-role", role,
                            "--staging", "s3://%s/staging/" % BUCKET, "--songs", src + "song_data/",
                            "--events", src + "log_data/", "--workers", "2")
        self.assertIn("staged parts:", run.stdout)
        self.assertIn("songplays", run.stdout)
        self.assertIn("TLS", SERVICES.log_tail(200000))  # the run's connections were encrypted

        report = self.loadstar("report", "--warehouse", warehouse, "--format", "json")
        answers = json.loads(report.stdout)
        self.assertEqual(answers["match_share"][0]["plays"], 6820)  # shared/docs/SAMPLE_FIGURES.md

        self.loadstar("export", "--warehouse", warehouse, "--iam-role", role, "--to", "s3://%s/lake/" % BUCKET)
        lake = os.path.join(self.tmp, "lake")
        keys = SERVICES.s3.list(BUCKET, "lake/")
        self.assertTrue(any(k.endswith(".parquet") for k in keys), keys)
        for key in keys:
            path = os.path.join(lake, os.path.relpath(key, "lake/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(SERVICES.s3.get(BUCKET, key))
        songplays_dirs = [os.path.join(d, "") for d, _s, files in os.walk(lake)
                          if any(f.endswith(".parquet") for f in files) and "songplays" in d]
        self.assertTrue(songplays_dirs and all("year=2018" in d and "month=11" in d for d in songplays_dirs),
                        songplays_dirs)
        songplays_root = songplays_dirs[0].split("/year=")[0]
        read = subprocess.run(["node", os.path.join(SOURCE_DIR, "tests", "tools", "parquet_read.mjs"), "--hive",
                               songplays_root],
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, LOADSTAR_TOOLS_DIR=TOOLS))
        self.assertEqual(read.returncode, 0, read.stderr)
        self.assertEqual(len(json.loads(read.stdout)["rows"]), 6820)

        self.loadstar("cluster", "delete", "--name", "sparkify", "--poll-interval", "0.05")
        self.loadstar("cluster", "delete", "--name", "sparkify", "--poll-interval", "0.05")
        status = self.loadstar("cluster", "status", "--name", "sparkify")
        self.assertIn("status    none", status.stdout)

        with open(self.record) as f:
            requests = [json.loads(line) for line in f if line.strip()]
        self.assertIn("CreateCluster", [r["action"] for r in requests])
        for r in requests:
            self.assertEqual(r["conformance"], "ok", r)
            self.assertTrue(r["signature_ok"], r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
