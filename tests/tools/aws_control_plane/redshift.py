"""Redshift clusters as the stand-in keeps them, per region, with their life cycle:

  CreateCluster -> creating -> available -> (DeleteCluster) [final-snapshot ->] deleting -> gone

A cluster stays in a passing state until it has been described LifeCycle.describes times and
LifeCycle.seconds have passed since it entered it (both, each 0 for "no wait"). Once available its
Endpoint is the address the stand-in was given (the Redshift SQL stand-in's). Role changes by
ModifyClusterIamRoles show ApplyStatus adding/removing for one describe, then in-sync/gone.
The checks of CreateCluster's values follow the constraints written in the model's documentation
(and the management guide's node-type table, which also gives the node ranges)."""

import datetime
import re
import time
import uuid

from models import ApiError

# node type -> (smallest, largest) number of nodes CreateCluster accepts; 1 means single-node is allowed
NODE_RANGES = {
    "dc2.large": (1, 32), "dc2.8xlarge": (2, 128),
    "ra3.xlplus": (1, 16), "ra3.4xlarge": (2, 32), "ra3.16xlarge": (2, 128),
}
RETIRED_NODE_TYPES = {"ds2.xlarge", "ds2.8xlarge", "dc1.large", "dc1.8xlarge"}
SLICES = {"dc2.large": 2, "dc2.8xlarge": 16, "ra3.xlplus": 2, "ra3.4xlarge": 4, "ra3.16xlarge": 16}
# Amazon Redshift's reserved words (Database Developer Guide, r_pg_keywords)
RESERVED = set("""AES128 AES256 ALL ALLOWOVERWRITE ANALYSE ANALYZE AND ANY ARRAY AS ASC AUTHORIZATION AZ64
BACKUP BETWEEN BINARY BLANKSASNULL BOTH BYTEDICT BZIP2 CASE CAST CHECK COLLATE COLUMN CONSTRAINT CREATE
CREDENTIALS CROSS CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURRENT_USER_ID DEFAULT DEFERRABLE
DEFLATE DEFRAG DELTA DELTA32K DESC DISABLE DISTINCT DO ELSE EMPTYASNULL ENABLE ENCODE ENCRYPT ENCRYPTION END
EXCEPT EXPLICIT FALSE FOR FOREIGN FREEZE FROM FULL GLOBALDICT256 GLOBALDICT64K GRANT GROUP GZIP HAVING
IDENTITY IGNORE ILIKE IN INITIALLY INNER INTERSECT INTERVAL INTO IS ISNULL JOIN LANGUAGE LEADING LEFT LIKE
LIMIT LOCALTIME LOCALTIMESTAMP LUN LUNS LZO LZOP MINUS MOSTLY13 MOSTLY16 MOSTLY32 MOSTLY8 NATURAL NEW NOT
NOTNULL NULL NULLS OFF OFFLINE OFFSET OID OLD ON ONLY OPEN OR ORDER OUTER OVERLAPS PARALLEL PARTITION PERCENT
PERMISSIONS PLACING PRIMARY RAW READRATIO RECOVER REFERENCES REJECTLOG RESORT RESPECT RESTORE RIGHT SELECT
SESSION_USER SIMILAR SNAPSHOT SOME SYSDATE SYSTEM TABLE TAG TDES TEXT255 TEXT32K THEN TIMESTAMP TO TOP
TRAILING TRUE TRUNCATECOLUMNS UNION UNIQUE USER USING VERBOSE WALLET WHEN WHERE WITH WITHOUT""".split())

_IDENT = re.compile(r"[a-z](?:[a-z0-9]|-(?!-))*")            # and not ending in a hyphen
_SNAPSHOT = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|-(?!-))*")
_DBNAME = re.compile(r"[a-z_][a-z0-9_$]*")
_USER = re.compile(r"[a-z][a-z0-9_+.@-]*")
_ROLE_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:iam::\d{12}:role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64}")
_FORBIDDEN_IN_PASSWORD = set("'\"\\/@")
GONE = "gone"


class LifeCycle:
    def __init__(self, create_describes=1, create_seconds=0.0, delete_describes=1, delete_seconds=0.0):
        self.create = (create_describes, create_seconds)
        self.delete = (delete_describes, delete_seconds)


def _bad(message):
    return ApiError("InvalidParameterValue", message)


def _check_identifier(ident, what, limit):
    if not 1 <= len(ident) <= limit or not _IDENT.fullmatch(ident) or ident.endswith("-"):
        raise _bad("%s must contain from 1 to %d alphanumeric characters or hyphens, lowercase letters only, "
                   "start with a letter, and neither end with a hyphen nor contain two consecutive hyphens: %r"
                   % (what, limit, ident))


def check_password(pw):
    problems = []
    if not 8 <= len(pw) <= 64:
        problems.append("be between 8 and 64 characters in length")
    if not any(c.isascii() and c.isupper() for c in pw):
        problems.append("contain at least one uppercase letter")
    if not any(c.isascii() and c.islower() for c in pw):
        problems.append("contain at least one lowercase letter")
    if not any(c.isdigit() and c.isascii() for c in pw):
        problems.append("contain one number")
    if any(not 33 <= ord(c) <= 126 or c in _FORBIDDEN_IN_PASSWORD for c in pw):
        problems.append("use only printable ASCII characters (codes 33-126) except ' \" \\ / @")
    if problems:
        raise _bad("The parameter MasterUserPassword is not a valid password. It must %s." % ", ".join(problems))


class Cluster:
    def __init__(self, region, params, nodes, cluster_type, roles, now):
        self.region = region
        self.p = params
        self.nodes = nodes
        self.cluster_type = cluster_type
        self.roles = [[arn, "in-sync"] for arn in roles]
        self.default_role = params.get("DefaultIamRoleArn")
        self.created = datetime.datetime.now(datetime.timezone.utc)
        self.namespace = str(uuid.uuid4())
        self.status = "creating"
        self.entered = now
        self.seen = 0
        self.final_snapshot = None

    @property
    def ident(self):
        return self.p["ClusterIdentifier"]

    def enter(self, status, now):
        self.status, self.entered, self.seen = status, now, 0

    def advance(self, life, now):
        """Move through passing states whose wait is over; GONE when deletion has finished."""
        while True:
            if self.status == "creating":
                wait, following = life.create, "available"
            elif self.status == "final-snapshot":
                wait, following = life.delete, "deleting"
            elif self.status == "deleting":
                wait, following = life.delete, GONE
            else:
                return self.status
            if self.seen < wait[0] or now - self.entered < wait[1]:
                return self.status
            self.enter(following, now)
            if following == GONE:
                return GONE

    def described(self):
        self.seen += 1
        for role in self.roles:
            if role[1] == "adding":
                role[1] = "in-sync"
        self.roles = [r for r in self.roles if r[1] != "removing"]

    def view(self, account_id, endpoint):
        p = self.p
        v = {
            "ClusterIdentifier": self.ident, "NodeType": p["NodeType"], "ClusterStatus": self.status,
            "ClusterAvailabilityStatus": {"available": "Available", "modifying": "Modifying"}.get(
                self.status, "Unavailable"),
            "MasterUsername": p["MasterUsername"], "DBName": p.get("DBName", "dev"),
            "AutomatedSnapshotRetentionPeriod": p.get("AutomatedSnapshotRetentionPeriod", 1),
            "ManualSnapshotRetentionPeriod": p.get("ManualSnapshotRetentionPeriod", -1),
            "ClusterSecurityGroups": [],
            "VpcSecurityGroups": [{"VpcSecurityGroupId": g, "Status": "active"}
                                  for g in p.get("VpcSecurityGroupIds", [])],
            "ClusterParameterGroups": [{"ParameterGroupName": p.get("ClusterParameterGroupName",
                                                                    "default.redshift-1.0"),
                                        "ParameterApplyStatus": "in-sync"}],
            "ClusterSubnetGroupName": p.get("ClusterSubnetGroupName", "default"),
            "AvailabilityZone": p.get("AvailabilityZone", self.region + "a"),
            "PreferredMaintenanceWindow": p.get("PreferredMaintenanceWindow", "sat:10:00-sat:10:30"),
            "PendingModifiedValues": {"MasterUserPassword": "****"} if self.status == "creating" else {},
            "ClusterVersion": p.get("ClusterVersion", "1.0"),
            "AllowVersionUpgrade": p.get("AllowVersionUpgrade", True),
            "NumberOfNodes": self.nodes,
            "PubliclyAccessible": p.get("PubliclyAccessible", False),
            "Encrypted": p.get("Encrypted", False),
            "Tags": p.get("Tags", []),
            "EnhancedVpcRouting": p.get("EnhancedVpcRouting", False),
            "IamRoles": [{"IamRoleArn": arn, "ApplyStatus": status} for arn, status in self.roles],
            "MaintenanceTrackName": p.get("MaintenanceTrackName", "current"),
            "ClusterNamespaceArn": "arn:aws:redshift:%s:%s:namespace:%s" % (self.region, account_id, self.namespace),
            "AquaConfiguration": {"AquaStatus": "disabled",
                                  "AquaConfigurationStatus": p.get("AquaConfigurationStatus", "auto")},
        }
        if self.default_role:
            v["DefaultIamRoleArn"] = self.default_role
        if "KmsKeyId" in p:
            v["KmsKeyId"] = p["KmsKeyId"]
        if self.status != "creating":
            v["ClusterCreateTime"] = self.created
            v["Endpoint"] = {"Address": endpoint[0], "Port": endpoint[1]}
            if self.cluster_type == "single-node":
                v["ClusterNodes"] = [{"NodeRole": "SHARED", "PrivateIPAddress": "10.0.0.10"}]
            else:
                v["ClusterNodes"] = [{"NodeRole": "LEADER", "PrivateIPAddress": "10.0.0.10"}] + [
                    {"NodeRole": "COMPUTE-%d" % i, "PrivateIPAddress": "10.0.0.%d" % (11 + i)}
                    for i in range(self.nodes)]
        return v


class Redshift:
    def __init__(self, account_id, endpoint, life, iam, clock=time.monotonic):
        self.account_id = account_id
        self.endpoint = endpoint  # (host, port) of the SQL stand-in, reported as the clusters' Endpoint
        self.life = life
        self.iam = iam
        self.clock = clock
        self.clusters = {}   # (region, identifier) -> Cluster
        self.snapshots = {}  # (region, identifier) -> the cluster's identifier

    def _advance(self, region):
        now = self.clock()
        for key in [k for k in self.clusters if k[0] == region]:
            if self.clusters[key].advance(self.life, now) == GONE:
                del self.clusters[key]

    def _cluster(self, region, ident):
        self._advance(region)
        c = self.clusters.get((region, ident))
        if c is None:
            raise ApiError("ClusterNotFound", "Cluster %s not found." % ident)
        return c

    def _check_roles(self, arns, what):
        for arn in arns:
            if not _ROLE_ARN.fullmatch(arn):
                raise _bad("%s: %r is not the ARN of an IAM role (arn:aws:iam::ACCOUNT:role/NAME)." % (what, arn))
            role = self.iam.role_by_arn(arn)
            if role is None:
                raise _bad("%s: the role %s does not exist (no role of the stand-in's IAM has that ARN)."
                           % (what, arn))

    # --- operations -----------------------------------------------------------------------------

    def CreateCluster(self, region, p):
        ident = p["ClusterIdentifier"]
        _check_identifier(ident, "ClusterIdentifier", 63)
        self._advance(region)
        if (region, ident) in self.clusters:
            raise ApiError("ClusterAlreadyExists", "Cluster already exists")
        node_type = p["NodeType"]
        if node_type in RETIRED_NODE_TYPES:
            raise _bad("Node type %s is retired; use dc2 or ra3 node types." % node_type)
        if node_type not in NODE_RANGES:
            raise _bad("Invalid node type: %s" % node_type)
        ctype = p.get("ClusterType")
        nodes = p.get("NumberOfNodes")
        if ctype not in (None, "single-node", "multi-node"):
            raise _bad("Invalid cluster type. Valid values are multi-node or single-node: %r" % ctype)
        if ctype is None:
            ctype = "single-node" if nodes in (None, 1) else "multi-node"
        lo, hi = NODE_RANGES[node_type]
        if ctype == "single-node":
            if nodes not in (None, 1):
                raise ApiError("InvalidParameterCombination",
                               "Number of nodes for a single-node cluster must be 1, not %d." % nodes)
            if lo > 1:
                raise ApiError("InvalidParameterCombination",
                               "Node type %s cannot be used for a single-node cluster." % node_type)
            nodes = 1
        else:
            if nodes is None:
                raise ApiError("InvalidParameterCombination",
                               "NumberOfNodes is required for a multi-node cluster.")
            if nodes < 2:
                raise ApiError("InvalidParameterCombination",
                               "Number of nodes for cluster type multi-node must be greater than or equal to 2")
            if nodes > hi:
                raise _bad("Number of nodes for node type %s must be at most %d, not %d." % (node_type, hi, nodes))
        db = p.get("DBName", "dev")
        if not 1 <= len(db) <= 64 or not _DBNAME.fullmatch(db) or db.upper() in RESERVED:
            raise _bad("DBName must be 1 to 64 lowercase letters, digits, _ or $, begin with a letter or _, and "
                       "not be a reserved word: %r" % db)
        user = p["MasterUsername"]
        if not 1 <= len(user) <= 128 or not _USER.fullmatch(user) or user.upper() in RESERVED \
                or user.lower() == "public":
            raise _bad("MasterUsername must be 1 to 128 lowercase letters, digits or _+.@-, begin with a letter, "
                       "not be PUBLIC or a reserved word: %r" % user)
        check_password(p["MasterUserPassword"])
        port = p.get("Port", 5439)
        if not 1150 <= port <= 65535:
            raise _bad("Port must be from 1150 to 65535, not %d." % port)
        keep = p.get("AutomatedSnapshotRetentionPeriod")
        if keep is not None and (not 0 <= keep <= 35 or (keep == 0 and node_type.startswith("ra3."))):
            raise _bad("AutomatedSnapshotRetentionPeriod must be from 0 to 35 (from 1 for RA3 node types), not %d."
                       % keep)
        manual = p.get("ManualSnapshotRetentionPeriod")
        if manual is not None and manual != -1 and not 1 <= manual <= 3653:
            raise _bad("ManualSnapshotRetentionPeriod must be -1 or from 1 to 3653, not %d." % manual)
        roles = list(dict.fromkeys(p.get("IamRoles", [])))
        self._check_roles(roles, "IamRoles")
        default = p.get("DefaultIamRoleArn")
        if default is not None and default not in roles:
            raise _bad("DefaultIamRoleArn %s must be one of the cluster's IamRoles." % default)
        c = Cluster(region, dict(p), nodes, ctype, roles, self.clock())
        self.clusters[(region, ident)] = c
        return {"Cluster": c.view(self.account_id, self.endpoint)}

    def DescribeClusters(self, region, p):
        self._advance(region)
        ident = p.get("ClusterIdentifier")
        if ident is not None:
            found = [self._cluster(region, ident)]
        else:
            found = [c for (r, _i), c in sorted(self.clusters.items()) if r == region]
        keys, values = p.get("TagKeys"), p.get("TagValues")
        if keys:
            found = [c for c in found if any(t.get("Key") in keys for t in c.p.get("Tags", []))]
        if values:
            found = [c for c in found if any(t.get("Value") in values for t in c.p.get("Tags", []))]
        limit = p.get("MaxRecords", 100)
        if not 20 <= limit <= 100:
            raise _bad("MaxRecords must be from 20 to 100, not %d." % limit)
        start = 0
        if "Marker" in p:
            if not p["Marker"].isdigit() or int(p["Marker"]) > len(found):
                raise _bad("Invalid Marker: %r" % p["Marker"])
            start = int(p["Marker"])
        page = found[start:start + limit]
        views = [c.view(self.account_id, self.endpoint) for c in page]
        for c in page:
            c.described()
        out = {"Clusters": views}
        if start + limit < len(found):
            out["Marker"] = str(start + limit)
        return out

    def DeleteCluster(self, region, p):
        c = self._cluster(region, p["ClusterIdentifier"])
        skip = p.get("SkipFinalClusterSnapshot", False)
        snap = p.get("FinalClusterSnapshotIdentifier")
        if skip and snap is not None:
            raise ApiError("InvalidParameterCombination",
                           "FinalClusterSnapshotIdentifier must not be given when SkipFinalClusterSnapshot is true.")
        if not skip and snap is None:
            raise ApiError("InvalidParameterCombination",
                           "FinalClusterSnapshotIdentifier is required unless SkipFinalClusterSnapshot is specified.")
        if snap is not None:
            if not 1 <= len(snap) <= 255 or not _SNAPSHOT.fullmatch(snap) or snap.endswith("-"):
                raise _bad("FinalClusterSnapshotIdentifier must be 1 to 255 alphanumeric characters or hyphens, "
                           "begin with a letter, and neither end with a hyphen nor contain two consecutive "
                           "hyphens: %r" % snap)
            keep = p.get("FinalClusterSnapshotRetentionPeriod")
            if keep is not None and keep != -1 and not 1 <= keep <= 3653:
                raise _bad("FinalClusterSnapshotRetentionPeriod must be -1 or from 1 to 3653, not %d." % keep)
            if (region, snap) in self.snapshots:
                raise ApiError("ClusterSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot "
                               "with the identifier %s already exists." % snap)
        if c.status == "creating":
            raise ApiError("InvalidClusterState",
                           "There is an operation running on the Cluster. Please try to delete it at a later time.")
        if c.status in ("final-snapshot", "deleting"):
            raise ApiError("InvalidClusterState", "Cluster %s is already being deleted." % c.ident)
        if snap is not None:
            self.snapshots[(region, snap)] = c.ident
            c.final_snapshot = snap
        c.enter("final-snapshot" if snap is not None else "deleting", self.clock())
        return {"Cluster": c.view(self.account_id, self.endpoint)}

    def ModifyClusterIamRoles(self, region, p):
        c = self._cluster(region, p["ClusterIdentifier"])
        add = list(dict.fromkeys(p.get("AddIamRoles", [])))
        remove = list(dict.fromkeys(p.get("RemoveIamRoles", [])))
        if set(add) & set(remove):
            raise ApiError("InvalidParameterCombination", "A role cannot be both added and removed: %s"
                           % ", ".join(sorted(set(add) & set(remove))))
        if c.status != "available":
            raise ApiError("InvalidClusterState", "The cluster %s is %s, not available." % (c.ident, c.status))
        self._check_roles(add, "AddIamRoles")
        current = {arn for arn, status in c.roles if status != "removing"}
        for arn in add:
            if arn in current:
                raise _bad("AddIamRoles: the role %s is already associated with the cluster." % arn)
        for arn in remove:
            if arn not in current:
                raise _bad("RemoveIamRoles: the role %s is not associated with the cluster." % arn)
        after = (current | set(add)) - set(remove)
        default = p.get("DefaultIamRoleArn", c.default_role)
        if default is not None and default not in after:
            if "DefaultIamRoleArn" in p:
                raise _bad("DefaultIamRoleArn %s must be one of the cluster's IamRoles." % default)
            default = None
        for role in c.roles:
            if role[0] in remove:
                role[1] = "removing"
        c.roles.extend([arn, "adding"] for arn in add)
        c.default_role = default
        return {"Cluster": c.view(self.account_id, self.endpoint)}
