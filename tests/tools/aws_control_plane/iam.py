"""IAM roles as the stand-in keeps them: roles with a trust policy, inline policies and attached
managed policies, with the errors IAM gives (NoSuchEntity, EntityAlreadyExists, DeleteConflict,
MalformedPolicyDocument, LimitExceeded). Values come in and go out in the model's member names."""

import datetime
import json
import random
import re
import string
import urllib.parse

from models import ApiError

TRUSTED_SERVICE = "redshift.amazonaws.com"
INLINE_LIMIT = 10240      # characters of all of a role's inline policies, white space not counted
TRUST_LIMIT = 2048        # characters of a trust policy (the default quota ACLSizePerRole)
ATTACHED_LIMIT = 10       # managed policies per role (the default quota PoliciesPerRole)
_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                   "NotResource", "Condition"}
_AWS_POLICY = re.compile(r"arn:aws:iam::aws:policy/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)")


def _malformed(message):
    return ApiError("MalformedPolicyDocument", message)


def _as_list(v):
    return v if isinstance(v, list) else [v]


def check_policy(text, trust):
    """The parsed policy document TEXT, checked as IAM checks a trust policy (TRUST) or a
    permissions policy; raises ApiError(MalformedPolicyDocument) with IAM's messages."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise _malformed("This policy contains invalid Json")
    if not isinstance(doc, dict) or not set(doc) <= {"Version", "Id", "Statement"}:
        raise _malformed("Syntax errors in policy.")
    if doc.get("Version") not in (None, "2012-10-17", "2008-10-17"):
        raise _malformed("The policy failed legacy parsing")
    if "Statement" not in doc:
        raise _malformed("Syntax errors in policy.")
    statements = _as_list(doc["Statement"])
    if not statements:
        raise _malformed("Syntax errors in policy.")
    for st in statements:
        if not isinstance(st, dict) or not set(st) <= _STATEMENT_KEYS or st.get("Effect") not in ("Allow", "Deny"):
            raise _malformed("Syntax errors in policy.")
        if "Action" not in st and "NotAction" not in st:
            raise _malformed("Policy statement must contain actions.")
        if trust:
            for field in ("Resource", "NotResource"):
                if field in st:
                    raise _malformed("Has prohibited field %s" % field)
            if "Principal" not in st and "NotPrincipal" not in st:
                raise _malformed("Missing required field Principal")
        else:
            if "Principal" in st or "NotPrincipal" in st:
                raise _malformed("Policy document should not specify a principal.")
            if "Resource" not in st and "NotResource" not in st:
                raise _malformed("Policy statement must contain resources.")
    return doc


def trusts(doc, service):
    """Whether the trust policy DOC lets SERVICE's principal call sts:AssumeRole."""
    for st in _as_list(doc["Statement"]):
        principal = st.get("Principal")
        if st.get("Effect") != "Allow" or not isinstance(principal, dict):
            continue
        if service not in _as_list(principal.get("Service", [])):
            continue
        if any(a in ("sts:AssumeRole", "sts:*", "*") for a in _as_list(st.get("Action", []))):
            return True
    return False


def _size(text):
    return len("".join(text.split()))


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


class Iam:
    def __init__(self, account_id):
        self.account_id = account_id
        self.roles = {}  # lower-case name -> role dict (role names are unique regardless of case)

    def _role(self, name):
        role = self.roles.get(name.lower())
        if role is None:
            raise ApiError("NoSuchEntity", "The role with name %s cannot be found." % name)
        return role

    def role_by_arn(self, arn):
        for role in self.roles.values():
            if role["Arn"] == arn:
                return role
        return None

    def _view(self, role, last_used=False):
        v = {k: role[k] for k in ("Path", "RoleName", "RoleId", "Arn", "CreateDate", "MaxSessionDuration")}
        v["AssumeRolePolicyDocument"] = urllib.parse.quote(role["AssumeRolePolicyDocument"], safe="")
        if role.get("Description") is not None:
            v["Description"] = role["Description"]
        if role["Tags"]:
            v["Tags"] = role["Tags"]
        if last_used:
            v["RoleLastUsed"] = {}
        return v

    # --- operations (each takes the decoded input, returns the output in member names) ----------

    def CreateRole(self, p):
        name = p["RoleName"]
        if name.lower() in self.roles:
            raise ApiError("EntityAlreadyExists", "Role with name %s already exists." % name)
        doc_text = p["AssumeRolePolicyDocument"]
        if _size(doc_text) > TRUST_LIMIT:
            raise ApiError("LimitExceeded", "Cannot exceed quota for ACLSizePerRole: %d" % TRUST_LIMIT)
        doc = check_policy(doc_text, trust=True)
        if not trusts(doc, TRUSTED_SERVICE):
            raise _malformed("The stand-in serves roles for Amazon Redshift only: the trust policy must "
                             "allow the service principal %s sts:AssumeRole." % TRUSTED_SERVICE)
        path = p.get("Path", "/")
        role = {
            "Path": path, "RoleName": name,
            "RoleId": "AROA" + "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(17)),
            "Arn": "arn:aws:iam::%s:role%s%s" % (self.account_id, path, name),
            "CreateDate": _now(), "AssumeRolePolicyDocument": doc_text,
            "Description": p.get("Description"), "MaxSessionDuration": p.get("MaxSessionDuration", 3600),
            "Tags": p.get("Tags", []), "inline": {}, "attached": [],
        }
        self.roles[name.lower()] = role
        return {"Role": self._view(role)}

    def GetRole(self, p):
        return {"Role": self._view(self._role(p["RoleName"]), last_used=True)}

    def ListRoles(self, p):
        prefix = p.get("PathPrefix", "/")
        roles = sorted((r for r in self.roles.values() if r["Path"].startswith(prefix)), key=lambda r: r["RoleName"])
        page, more, marker = _page(roles, p)
        out = {"Roles": [self._view(r) for r in page], "IsTruncated": more}
        if marker:
            out["Marker"] = marker
        return out

    def DeleteRole(self, p):
        role = self._role(p["RoleName"])
        if role["inline"]:
            raise ApiError("DeleteConflict", "Cannot delete entity, must delete policies first.")
        if role["attached"]:
            raise ApiError("DeleteConflict", "Cannot delete entity, must detach all policies first.")
        del self.roles[role["RoleName"].lower()]
        return None

    def PutRolePolicy(self, p):
        role = self._role(p["RoleName"])
        text = p["PolicyDocument"]
        check_policy(text, trust=False)
        others = sum(_size(t) for n, t in role["inline"].items() if n != p["PolicyName"])
        if others + _size(text) > INLINE_LIMIT:
            raise ApiError("LimitExceeded", "Maximum policy size of %d bytes exceeded for role %s"
                           % (INLINE_LIMIT, role["RoleName"]))
        role["inline"][p["PolicyName"]] = text
        return None

    def GetRolePolicy(self, p):
        role = self._role(p["RoleName"])
        text = role["inline"].get(p["PolicyName"])
        if text is None:
            raise ApiError("NoSuchEntity", "The role policy with name %s cannot be found." % p["PolicyName"])
        return {"RoleName": role["RoleName"], "PolicyName": p["PolicyName"],
                "PolicyDocument": urllib.parse.quote(text, safe="")}

    def DeleteRolePolicy(self, p):
        role = self._role(p["RoleName"])
        if p["PolicyName"] not in role["inline"]:
            raise ApiError("NoSuchEntity", "The role policy with name %s cannot be found." % p["PolicyName"])
        del role["inline"][p["PolicyName"]]
        return None

    def ListRolePolicies(self, p):
        role = self._role(p["RoleName"])
        page, more, marker = _page(sorted(role["inline"]), p)
        out = {"PolicyNames": page, "IsTruncated": more}
        if marker:
            out["Marker"] = marker
        return out

    def AttachRolePolicy(self, p):
        role = self._role(p["RoleName"])
        arn = p["PolicyArn"]
        if not _AWS_POLICY.fullmatch(arn):
            raise ApiError("NoSuchEntity", "Policy %s does not exist or is not attachable." % arn)
        if arn not in role["attached"]:
            if len(role["attached"]) >= ATTACHED_LIMIT:
                raise ApiError("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: %d" % ATTACHED_LIMIT)
            role["attached"].append(arn)
        return None

    def DetachRolePolicy(self, p):
        role = self._role(p["RoleName"])
        if p["PolicyArn"] not in role["attached"]:
            raise ApiError("NoSuchEntity", "Policy %s was not found." % p["PolicyArn"])
        role["attached"].remove(p["PolicyArn"])
        return None

    def ListAttachedRolePolicies(self, p):
        role = self._role(p["RoleName"])
        attached = [{"PolicyName": _AWS_POLICY.fullmatch(a).group(1), "PolicyArn": a} for a in role["attached"]]
        page, more, marker = _page(attached, p)
        out = {"AttachedPolicies": page, "IsTruncated": more}
        if marker:
            out["Marker"] = marker
        return out


def _page(items, p):
    """(page, truncated, next marker) of ITEMS for MaxItems (default 100) and Marker."""
    start = 0
    if "Marker" in p:
        if not p["Marker"].isdigit() or int(p["Marker"]) > len(items):
            raise ApiError("InvalidInput", "Invalid Marker.")
        start = int(p["Marker"])
    n = p.get("MaxItems", 100)
    page = items[start:start + n]
    more = start + n < len(items)
    return page, more, str(start + n) if more else None
