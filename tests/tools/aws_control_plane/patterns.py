"""The models' `pattern` constraints are Java regular expressions, matched against the whole value.
Python's `re` lacks Java's Unicode classes (`\\p{L}`, `\\p{N}`, ...) and its `\\w` is Unicode where
Java's is ASCII; this turns a model pattern into a Python one that means the same.

A class is expanded into explicit code point ranges built from unicodedata (once, when a pattern
first needs it). A pattern that cannot be translated (`\\P{..}` inside a bracket, a class name
Java has and this does not) gives None: the caller skips that check and says so."""

import re
import sys
import unicodedata

_ranges = {}  # general category prefix ("L", "Lu", ...) -> "a-b..." for use inside [...]
_cache = {}   # model pattern -> compiled Python pattern, or None


def _category_ranges(cat):
    """Code point ranges of general category CAT ("L" or "Lu", ...) for use inside [...], or None."""
    if not _ranges:
        spans = {}
        for cp in range(sys.maxunicode + 1):
            full = unicodedata.category(chr(cp))
            for key in (full[0], full):
                run = spans.get(key)
                if run and run[-1][1] == cp - 1:
                    run[-1][1] = cp
                else:
                    spans.setdefault(key, []).append([cp, cp])
        for key, runs in spans.items():
            _ranges[key] = "".join("\\U%08x" % a if a == b else "\\U%08x-\\U%08x" % (a, b) for a, b in runs)
    return _ranges.get(cat)


def translate(pattern):
    """The Python equivalent of Java regex PATTERN (for re.fullmatch with re.ASCII), or None."""
    out = []
    i = 0
    in_class = False
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt in "pP":
                negate = nxt == "P"
                if i + 2 < n and pattern[i + 2] == "{":
                    end = pattern.find("}", i + 3)
                    if end < 0:
                        return None
                    name = pattern[i + 3:end]
                    i = end + 1
                else:
                    name = pattern[i + 2:i + 3]
                    i += 3
                if name.startswith("Is"):
                    name = name[2:]
                ranges = _category_ranges(name) if re.fullmatch(r"[A-Z][a-z]?", name) else None
                if ranges is None:
                    return None
                if in_class:
                    if negate:
                        return None
                    out.append(ranges)
                else:
                    out.append(("[^%s]" if negate else "[%s]") % ranges)
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
            if i + 1 < n and pattern[i + 1] == "^":
                out.append("^")
                i += 1
            if i + 1 < n and pattern[i + 1] == "]":  # a literal ] first in the class
                out.append("\\]")
                i += 1
        elif c == "[" and in_class:
            return None  # Java's nested classes (unions, intersections) are not translated
        elif c == "]" and in_class:
            in_class = False
            out.append(c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def compiled(pattern):
    """The compiled Python pattern for model pattern PATTERN, or None when it cannot be checked."""
    if pattern not in _cache:
        text = translate(pattern)
        try:
            _cache[pattern] = re.compile(text, re.ASCII) if text is not None else None
        except re.error:
            _cache[pattern] = None
        if _cache[pattern] is None:
            sys.stderr.write("aws-control-plane: the model pattern %r cannot be translated; values are not "
                             "checked against it\n" % pattern)
    return _cache[pattern]
