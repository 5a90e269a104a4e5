"""A small SQL tokenizer: enough of PostgreSQL's lexical rules to find statement boundaries and
keywords without being fooled by string literals, quoted identifiers, comments or dollar quotes.

Tokens keep their offsets in the original text, so a rewrite is a list of (start, end, text)
edits applied to the original: everything not edited is passed on byte for byte.
"""

from dataclasses import dataclass

IDENT = "ident"      # unquoted word (keywords included); .value is lower-cased
QIDENT = "qident"    # "quoted identifier"; .value is the unescaped name
STRING = "string"    # '...', E'...', B'...', X'...', U&'...'; .value is the unescaped text
DOLLAR = "dollar"    # $tag$...$tag$; .value is the body
NUMBER = "number"
PARAM = "param"      # $1; .value is the number as text
OP = "op"            # operators and punctuation: ( ) , ; . :: + - ...


@dataclass
class Token:
    kind: str
    text: str    # the raw text
    value: str   # normalised (see kinds above)
    start: int
    end: int

    def is_kw(self, *words):
        return self.kind == IDENT and self.value in words

    def is_op(self, *ops):
        return self.kind == OP and self.text in ops


class SqlSyntaxError(ValueError):
    """Unterminated literal, quoted identifier, comment or dollar quote."""


_OP_CHARS = set("+-*/<>=~!@#%^&|`?")
_IDENT_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT_CHARS = _IDENT_START | set("0123456789$")


def _ident_start(c):
    return c in _IDENT_START or ord(c) >= 0x80


def _ident_char(c):
    return c in _IDENT_CHARS or ord(c) >= 0x80


def tokenize(sql):
    """Returns the list of tokens of `sql` (comments and white space dropped)."""
    toks = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c.isspace():
            i += 1
            continue
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if sql.startswith("/*", i):
            depth, j = 1, i + 2
            while depth and j < n:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise SqlSyntaxError("unterminated /* comment")
            i = j
            continue
        # String literals, with their optional prefixes.
        prefix_len = 0
        if c in "eEbBxXnN" and i + 1 < n and sql[i + 1] == "'":
            prefix_len = 1
        elif c in "uU" and sql.startswith("&'", i + 1):
            prefix_len = 2
        if c == "'" or prefix_len:
            backslash = prefix_len == 1 and c in "eE"
            j = i + prefix_len + 1
            out = []
            while True:
                if j >= n:
                    raise SqlSyntaxError("unterminated quoted string")
                ch = sql[j]
                if backslash and ch == "\\" and j + 1 < n:
                    out.append(sql[j:j + 2])
                    j += 2
                    continue
                if ch == "'":
                    if j + 1 < n and sql[j + 1] == "'":
                        out.append("'")
                        j += 2
                        continue
                    j += 1
                    break
                out.append(ch)
                j += 1
            toks.append(Token(STRING, sql[i:j], "".join(out), i, j))
            i = j
            continue
        if c == '"':
            j = i + 1
            out = []
            while True:
                if j >= n:
                    raise SqlSyntaxError("unterminated quoted identifier")
                if sql[j] == '"':
                    if j + 1 < n and sql[j + 1] == '"':
                        out.append('"')
                        j += 2
                        continue
                    j += 1
                    break
                out.append(sql[j])
                j += 1
            toks.append(Token(QIDENT, sql[i:j], "".join(out), i, j))
            i = j
            continue
        if c == "$":
            j = i + 1
            if j < n and sql[j].isdigit():
                while j < n and sql[j].isdigit():
                    j += 1
                toks.append(Token(PARAM, sql[i:j], sql[i + 1:j], i, j))
                i = j
                continue
            while j < n and (_ident_char(sql[j]) and sql[j] != "$"):
                j += 1
            if j < n and sql[j] == "$" and (j == i + 1 or _ident_start(sql[i + 1])):
                tag = sql[i:j + 1]
                end = sql.find(tag, j + 1)
                if end < 0:
                    raise SqlSyntaxError("unterminated dollar-quoted string")
                toks.append(Token(DOLLAR, sql[i:end + len(tag)], sql[j + 1:end], i, end + len(tag)))
                i = end + len(tag)
                continue
            toks.append(Token(OP, "$", "$", i, i + 1))
            i += 1
            continue
        if _ident_start(c):
            j = i + 1
            while j < n and _ident_char(sql[j]):
                j += 1
            toks.append(Token(IDENT, sql[i:j], sql[i:j].lower(), i, j))
            i = j
            continue
        if c.isdigit() or (c == "." and i + 1 < n and sql[i + 1].isdigit()):
            j = i
            while j < n and (sql[j].isdigit() or sql[j] in "._"):
                j += 1
            if j < n and sql[j] in "eE" and (j + 1 < n and (sql[j + 1].isdigit() or
                                                           (sql[j + 1] in "+-" and j + 2 < n and sql[j + 2].isdigit()))):
                j += 2
                while j < n and sql[j].isdigit():
                    j += 1
            toks.append(Token(NUMBER, sql[i:j], sql[i:j], i, j))
            i = j
            continue
        if sql.startswith("::", i):
            toks.append(Token(OP, "::", "::", i, i + 2))
            i += 2
            continue
        if c in _OP_CHARS:
            j = i + 1
            while j < n and sql[j] in _OP_CHARS and not sql.startswith("--", j) and not sql.startswith("/*", j):
                j += 1
            toks.append(Token(OP, sql[i:j], sql[i:j], i, j))
            i = j
            continue
        toks.append(Token(OP, c, c, i, i + 1))
        i += 1
    return toks


@dataclass
class Statement:
    tokens: list     # tokens of the statement, without the terminating semicolon
    start: int       # offset of the statement's text (first token), or of the semicolon if empty
    end: int         # offset just past its last token


def split_statements(sql):
    """Splits `sql` at top-level semicolons. Empty statements are dropped."""
    stmts, cur = [], []
    for t in tokenize(sql):
        if t.is_op(";"):
            if cur:
                stmts.append(Statement(cur, cur[0].start, cur[-1].end))
            cur = []
        else:
            cur.append(t)
    if cur:
        stmts.append(Statement(cur, cur[0].start, cur[-1].end))
    return stmts


def apply_edits(text, edits):
    """Applies non-overlapping (start, end, replacement) edits to text."""
    out, pos = [], 0
    for start, end, repl in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos:
            raise ValueError("overlapping edits")
        out.append(text[pos:start])
        out.append(repl)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def matching_paren(tokens, i):
    """Index of the ')' matching the '(' at tokens[i], or None."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].is_op("(", "["):
            depth += 1
        elif tokens[j].is_op(")", "]"):
            depth -= 1
            if depth == 0:
                return j
    return None


def depths(tokens):
    """The parenthesis depth of each token (an opening paren has the depth outside it)."""
    out, d = [], 0
    for t in tokens:
        if t.is_op(")", "]"):
            d -= 1
        out.append(d)
        if t.is_op("(", "["):
            d += 1
    return out


def quote_literal(s):
    return "'" + s.replace("'", "''") + "'"


def quote_ident(s):
    return '"' + s.replace('"', '""') + '"'


def max_param(tokens):
    return max((int(t.value) for t in tokens if t.kind == PARAM), default=0)
