"""Query-protocol response documents, built from the operation's output shape so that element
names and nesting are the model's (the reverse of botocore/parsers.py QueryParser):

  <ActionResponse xmlns="NAMESPACE"><ActionResult>...</ActionResult>
    <ResponseMetadata><RequestId>ID</RequestId></ResponseMetadata></ActionResponse>

A structure member is an element named by its locationName, else its name; a list is an element
holding one <member> (or the list member's locationName) per element, a flattened list repeats
the element itself; a map holds <entry><key/><value/></entry>. A value that is not a member of
the shape, lacks a required member or has the wrong Python type is a bug in the stand-in and
raises ValueError, so that a response never drifts from the model unnoticed."""

import base64
import datetime
import xml.etree.ElementTree as ET


def _text(shape, value, where):
    t = shape.type_name
    if t == "string":
        if not isinstance(value, str):
            raise ValueError("%s: a string, not %r" % (where, value))
        return value
    if t in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("%s: an integer, not %r" % (where, value))
        return str(value)
    if t in ("float", "double"):
        return repr(float(value))
    if t == "boolean":
        if not isinstance(value, bool):
            raise ValueError("%s: a boolean, not %r" % (where, value))
        return "true" if value else "false"
    if t == "timestamp":
        if not isinstance(value, datetime.datetime) or value.tzinfo is None:
            raise ValueError("%s: an aware datetime, not %r" % (where, value))
        v = value.astimezone(datetime.timezone.utc)
        return v.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (v.microsecond // 1000)
    if t == "blob":
        return base64.b64encode(value).decode()
    raise ValueError("%s: cannot serialise type %s" % (where, t))


def _member_element_name(mshape, mname):
    if mshape.type_name == "list" and mshape.serialization.get("flattened"):
        return mshape.member.serialization.get("name") or mshape.serialization.get("name", mname)
    return mshape.serialization.get("name", mname)


def _structure(parent, shape, value, where):
    if not isinstance(value, dict):
        raise ValueError("%s: a structure (%s), not %r" % (where, shape.name, value))
    unknown = set(value) - set(shape.members)
    if unknown:
        raise ValueError("%s: %s not members of %s" % (where, sorted(unknown), shape.name))
    for req in shape.required_members:
        if value.get(req) is None:
            raise ValueError("%s: %s lacks required %s" % (where, shape.name, req))
    for mname, mshape in shape.members.items():
        if value.get(mname) is None:
            continue
        _element(parent, _member_element_name(mshape, mname), mshape, value[mname], "%s.%s" % (where, mname))


def _element(parent, name, shape, value, where):
    t = shape.type_name
    if t == "structure":
        _structure(ET.SubElement(parent, name), shape, value, where)
    elif t == "list":
        if not isinstance(value, (list, tuple)):
            raise ValueError("%s: a list, not %r" % (where, value))
        if shape.serialization.get("flattened"):
            for i, item in enumerate(value):
                _element(parent, name, shape.member, item, "%s[%d]" % (where, i))
        else:
            el = ET.SubElement(parent, name)
            inner = shape.member.serialization.get("name", "member")
            for i, item in enumerate(value):
                _element(el, inner, shape.member, item, "%s[%d]" % (where, i))
    elif t == "map":
        holder = parent if shape.serialization.get("flattened") else ET.SubElement(parent, name)
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        for k, v in value.items():
            entry = ET.SubElement(holder, name if shape.serialization.get("flattened") else "entry")
            _element(entry, kname, shape.key, k, where + ".key")
            _element(entry, vname, shape.value, v, "%s[%s]" % (where, k))
    else:
        ET.SubElement(parent, name).text = _text(shape, value, where)


def _document(root):
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def response(service, op, result, request_id):
    """The body of a successful answer to OP (a botocore OperationModel) with RESULT (a dict in
    the output shape's member names, or None for an operation without output)."""
    root = ET.Element(op.name + "Response", {"xmlns": service.namespace})
    shape = op.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", op.name + "Result")
        _structure(ET.SubElement(root, wrapper), shape, result or {}, op.name)
    elif result:
        raise ValueError("%s has no output shape, yet a result was given" % op.name)
    meta = ET.SubElement(root, "ResponseMetadata")
    ET.SubElement(meta, "RequestId").text = request_id
    return _document(root)


def error(namespace, kind, code, message, request_id):
    """An <ErrorResponse> with Type (Sender or Receiver), Code and Message."""
    root = ET.Element("ErrorResponse", {"xmlns": namespace} if namespace else {})
    err = ET.SubElement(root, "Error")
    ET.SubElement(err, "Type").text = kind
    ET.SubElement(err, "Code").text = code
    ET.SubElement(err, "Message").text = message
    ET.SubElement(root, "RequestId").text = request_id
    return _document(root)
