"""Checks a Query-protocol request against the service model: the action and version, every
parameter's name (as botocore's QuerySerializer would have written it), its type and the model's
constraints, and the required members. It also turns the flat `Name.member.1` parameters back
into the values a client passed, for the service to act on.

The serialization rules mirror botocore/serialize.py QuerySerializer:
- a structure member is `Prefix.Name`, where Name is the member's locationName, else its name;
- a list is `Prefix.member.N` (N from 1), `member` being the list member's locationName if it has
  one; a flattened list is `Prefix.N`, or `Other.N` when its member has locationName Other (the
  last part of the prefix replaced); an empty list is `Prefix=` with an empty value;
- a map is `Prefix.entry.N.key` / `Prefix.entry.N.value` (`Prefix.N.key` when flattened), key
  and value named by their locationNames when given;
- booleans are `true`/`false`, timestamps ISO 8601 (unless the shape says otherwise), blobs
  base64.
"""

import base64
import binascii
import datetime
import email.utils
import re

import patterns

_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|NaN|-?Infinity")
_ISO8601 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})")
_INDEX = re.compile(r"[1-9][0-9]*")


class Problem:
    """One way a request departs from the model. KIND decides the error code the service answers
    (see error_for): action, required, unknown, type, constraint."""

    def __init__(self, kind, param, text, member_path=None, value=None, constraint=None):
        self.kind = kind
        self.param = param          # the query parameter's name ("IamRoles.IamRoleArn.1")
        self.text = text            # what is wrong, for the record and the error message
        self.member_path = member_path  # the member's path in the input ("Tags.1.Key"), for IAM's messages
        self.value = value
        self.constraint = constraint

    def __str__(self):
        return "%s: %s" % (self.param, self.text) if self.param else self.text


class Checked:
    def __init__(self):
        self.problems = []
        self.value = {}

    def add(self, *args, **kw):
        self.problems.append(Problem(*args, **kw))


def check(service, params):
    """Check PARAMS (a list of (name, value) as received, Action and Version included) against
    SERVICE (models.Service). Returns (operation model or None, Checked)."""
    out = Checked()
    seen = {}
    for name, value in params:
        if name in seen:
            out.add("unknown", name, "given more than once")
            continue
        seen[name] = value
    action = seen.pop("Action", None)
    version = seen.pop("Version", None)
    if action is None:
        out.add("action", "Action", "missing")
        return None, out
    if version != service.api_version or action not in service.operations:
        out.add("action", "Action", "Could not find operation %s for version %s"
                % (action, version if version is not None else "NO_VERSION_SPECIFIED"))
        return None, out
    op = service.operation(action)
    shape = op.input_shape
    if shape is None:
        for name in seen:
            out.add("unknown", name, "not a member of %s's input (it has none)" % action)
        return op, out
    out.value = _Decoder(out, seen).structure(shape, "", list(seen), "")
    return op, out


class _Decoder:
    def __init__(self, out, params):
        self.out = out
        self.params = params

    def value(self, shape, full, keys, path):
        t = shape.type_name
        if t == "structure":
            if full in keys:
                self.out.add("unknown", full, "is a structure (%s); give its members as %s.NAME"
                             % (shape.name, full))
                keys = [k for k in keys if k != full]
            return self.structure(shape, full, keys, path)
        if t == "list":
            return self.list(shape, full, keys, path)
        if t == "map":
            return self.map(shape, full, keys, path)
        for k in keys:
            if k != full:
                self.out.add("unknown", k, "not a member of the input: %s is a %s" % (full, t))
        if full not in keys:
            return None
        return self.scalar(shape, full, self.params[full], path)

    def structure(self, shape, prefix, keys, path):
        result = {}
        claimed = set()
        for mname, mshape in shape.members.items():
            sname = mshape.serialization.get("name", mname)
            full = "%s.%s" % (prefix, sname) if prefix else sname
            if mshape.type_name == "list" and mshape.serialization.get("flattened") \
                    and mshape.member.serialization.get("name"):
                full = ".".join(full.split(".")[:-1] + [mshape.member.serialization["name"]])
            mine = [k for k in keys if k == full or k.startswith(full + ".")]
            if not mine:
                continue
            claimed.update(mine)
            v = self.value(mshape, full, mine, "%s.%s" % (path, mname) if path else mname)
            if v is not None:
                result[mname] = v
        for k in keys:
            if k not in claimed:
                where = "%s (%s)" % (prefix, shape.name) if prefix else shape.name
                self.out.add("unknown", k, "not a member of %s" % where)
        for req in shape.required_members:
            if req not in result:
                sname = shape.members[req].serialization.get("name", req)
                full = "%s.%s" % (prefix, sname) if prefix else sname
                self.out.add("required", full, "required and missing",
                             member_path="%s.%s" % (path, req) if path else req)
        return result

    def list(self, shape, full, keys, path):
        if keys == [full] and self.params[full] == "":
            items = []
        else:
            if full in keys:
                self.out.add("type", full, "a list is given as its elements, or as an empty value for "
                             "an empty list, not %r" % self.params[full], member_path=path)
            if shape.serialization.get("flattened"):
                base = full
            else:
                base = "%s.%s" % (full, shape.member.serialization.get("name", "member"))
            items = self.elements(shape.member, base, [k for k in keys if k != full], path, full)
        self.length(shape, full, len(items), path, "list")
        return items

    def elements(self, member, base, keys, path, full):
        groups = {}
        for k in keys:
            rest = k[len(base) + 1:] if k.startswith(base + ".") else None
            index = rest.split(".", 1)[0] if rest else None
            if index is None or not _INDEX.fullmatch(index):
                expect = "%s.N" % base
                self.out.add("unknown", k, "not a member of the input: the elements of %s are %s"
                             % (full, expect))
                continue
            groups.setdefault(int(index), []).append(k)
        if groups and sorted(groups) != list(range(1, len(groups) + 1)):
            self.out.add("type", base, "element numbers must run 1..%d without gaps, not %s"
                         % (len(groups), sorted(groups)), member_path=path)
        items = []
        for i in sorted(groups):
            v = self.value(member, "%s.%d" % (base, i), groups[i], "%s.%d.member" % (path, i))
            items.append(v)
        return items

    def map(self, shape, full, keys, path):
        base = full if shape.serialization.get("flattened") else full + ".entry"
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        entries = {}
        for k in keys:
            rest = k[len(base) + 1:] if k.startswith(base + ".") else ""
            parts = rest.split(".", 1)
            if len(parts) != 2 or not _INDEX.fullmatch(parts[0]) or \
                    not (parts[1] == kname or parts[1] == vname or parts[1].startswith(vname + ".")):
                self.out.add("unknown", k, "not a member of the input: the entries of %s are %s.N.%s and "
                             "%s.N.%s" % (full, base, kname, base, vname))
                continue
            entries.setdefault(int(parts[0]), []).append(k)
        result = {}
        for i in sorted(entries):
            prefix = "%s.%d" % (base, i)
            kkey = "%s.%s" % (prefix, kname)
            group = entries[i]
            if kkey not in group:
                self.out.add("required", kkey, "a map entry needs its key", member_path=path)
                continue
            key = self.scalar(shape.key, kkey, self.params[kkey], path)
            vkeys = [k for k in group if k != kkey]
            result[key] = self.value(shape.value, "%s.%s" % (prefix, vname), vkeys, path) if vkeys else None
        self.length(shape, full, len(result), path, "map")
        return result

    def length(self, shape, full, n, path, what):
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        if lo is not None and n < lo:
            self.out.add("constraint", full, "a %s of %d elements; at least %d" % (what, n, lo), member_path=path,
                         value=n, constraint="Member must have length greater than or equal to %d" % lo)
        if hi is not None and n > hi:
            self.out.add("constraint", full, "a %s of %d elements; at most %d" % (what, n, hi), member_path=path,
                         value=n, constraint="Member must have length less than or equal to %d" % hi)

    def scalar(self, shape, full, text, path):
        t = shape.type_name
        meta = shape.metadata
        if t == "string":
            enum = meta.get("enum")
            if enum and text not in enum:
                self.out.add("constraint", full, "%r is not one of %s" % (text, ", ".join(enum)), member_path=path,
                             value=text, constraint="Member must satisfy enum value set: [%s]" % ", ".join(enum))
            lo, hi = meta.get("min"), meta.get("max")
            if lo is not None and len(text) < lo:
                self.out.add("constraint", full, "%d characters; at least %d" % (len(text), lo), member_path=path,
                             value=text, constraint="Member must have length greater than or equal to %d" % lo)
            if hi is not None and len(text) > hi:
                self.out.add("constraint", full, "%d characters; at most %d" % (len(text), hi), member_path=path,
                             value=text, constraint="Member must have length less than or equal to %d" % hi)
            pat = meta.get("pattern")
            if pat is not None:
                rx = patterns.compiled(pat)
                if rx is not None and rx.fullmatch(text) is None:
                    self.out.add("constraint", full, "%r does not match the pattern %s" % (text, pat),
                                 member_path=path, value=text,
                                 constraint="Member must satisfy regular expression pattern: %s" % pat)
            return text
        if t in ("integer", "long"):
            if not _INT.fullmatch(text):
                self.out.add("type", full, "%r is not an %s" % (text, t), member_path=path, value=text)
                return None
            v = int(text)
            lim = (-2 ** 31, 2 ** 31 - 1) if t == "integer" else (-2 ** 63, 2 ** 63 - 1)
            if not lim[0] <= v <= lim[1]:
                self.out.add("type", full, "%s is out of range for an %s" % (text, t), member_path=path, value=text)
                return None
            self.bounds(meta, full, v, path)
            return v
        if t in ("float", "double"):
            if not _FLOAT.fullmatch(text):
                self.out.add("type", full, "%r is not a number" % text, member_path=path, value=text)
                return None
            v = float(text)
            self.bounds(meta, full, v, path)
            return v
        if t == "boolean":
            if text not in ("true", "false"):
                self.out.add("type", full, "%r is not a boolean (true or false)" % text, member_path=path, value=text)
                return None
            return text == "true"
        if t == "timestamp":
            fmt = (shape.serialization.get("timestampFormat") or "iso8601").lower()
            v = _timestamp(fmt, text)
            if v is None:
                self.out.add("type", full, "%r is not a timestamp (%s)" % (text, fmt), member_path=path, value=text)
            return v
        if t == "blob":
            try:
                return base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                self.out.add("type", full, "%r is not base64" % text, member_path=path, value=text)
                return None
        self.out.add("type", full, "the stand-in does not know the type %s" % t, member_path=path)
        return None

    def bounds(self, meta, full, v, path):
        lo, hi = meta.get("min"), meta.get("max")
        if lo is not None and v < lo:
            self.out.add("constraint", full, "%s is less than %s" % (v, lo), member_path=path, value=v,
                         constraint="Member must have value greater than or equal to %s" % lo)
        if hi is not None and v > hi:
            self.out.add("constraint", full, "%s is greater than %s" % (v, hi), member_path=path, value=v,
                         constraint="Member must have value less than or equal to %s" % hi)


def _timestamp(fmt, text):
    if fmt == "iso8601":
        m = _ISO8601.fullmatch(text)
        if not m:
            return None
        try:
            frac = m.group(7) or ""
            micro = int((frac[1:] + "000000")[:6]) if frac else 0
            tz = m.group(8)
            if tz == "Z":
                offset = datetime.timezone.utc
            else:
                sign = -1 if tz[0] == "-" else 1
                hh, mm = int(tz[1:3]), int(tz[-2:])
                offset = datetime.timezone(sign * datetime.timedelta(hours=hh, minutes=mm))
            return datetime.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                                     int(m.group(5)), int(m.group(6)), micro, offset)
        except ValueError:
            return None
    if fmt == "unixtimestamp":
        if not _FLOAT.fullmatch(text):
            return None
        return datetime.datetime.fromtimestamp(float(text), datetime.timezone.utc)
    if fmt == "rfc822":
        try:
            return email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return None


def _lower_camel(path):
    return ".".join(p[:1].lower() + p[1:] for p in path.split("."))


def error_for(service_name, problems):
    """(code, message) the service answers a request with PROBLEMS with (the first decides).

    IAM answers the way AWS's newer Query services do: MissingAction/InvalidAction for the action,
    ValidationError listing each failed constraint ("1 validation error detected: Value 'x' at
    'roleName' failed to satisfy constraint: ..."). Redshift answers InvalidAction,
    MissingParameter ("The request must contain the parameter X") and InvalidParameterValue.
    A parameter that is in no input shape is answered UnknownParameter by both: the stand-in's
    choice, since AWS may ignore it silently."""
    first = problems[0]
    if first.kind == "action":
        if first.text == "missing":
            return "MissingAction", "The request must contain the parameter Action."
        return "InvalidAction", first.text
    if first.kind == "unknown":
        return "UnknownParameter", "The parameter %s is not recognized (%s)." % (first.param, first.text)
    if service_name == "iam":
        shown = [p for p in problems if p.kind in ("required", "constraint", "type")]
        parts = []
        for p in shown:
            at = _lower_camel(p.member_path or p.param)
            if p.kind == "required":
                parts.append("Value null at '%s' failed to satisfy constraint: Member must not be null" % at)
            elif p.kind == "constraint":
                parts.append("Value '%s' at '%s' failed to satisfy constraint: %s" % (p.value, at, p.constraint))
            else:
                parts.append("Value '%s' at '%s' failed to satisfy constraint: %s" % (p.value, at, p.text))
        n = len(parts)
        return "ValidationError", "%d validation error%s detected: %s" % (n, "" if n == 1 else "s", "; ".join(parts))
    if first.kind == "required":
        return "MissingParameter", "The request must contain the parameter %s" % first.param
    return "InvalidParameterValue", "Invalid value for parameter %s: %s" % (first.param, first.text)
