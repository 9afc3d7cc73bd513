"""A reader and evaluator of the OpenTofu (HCL native syntax) subset Catalyst's `infra/hetzner` uses, for the
test stand-ins and the contract checks only (Python 3 standard library).

    module = Module.load(dirpath)                  # every *.tf file: variables, locals, resources, outputs
    ev = module.evaluator(variables)               # variables: {name: value}; defaults fill the rest
    ev.local("regions")                            # a local's value
    ev.eval(expr, {"each": {...}})                 # any expression, with extra names

What it reads: bodies of attributes and blocks (labels quoted or bare), comments, heredocs (`<<EOT`,
`<<-EOT`), quoted templates with `${…}` interpolation (and `$${` escapes), numbers, bools, null, tuples and
objects, `[for …]` / `{for … : k => v if c}` (with `...` grouping), conditionals, the usual operators, `.attr`,
`[index]`, `.*` / `[*]` splats and function calls. What it evaluates: every function the module calls (see
FUNCTIONS); a value that depends on something not known (a resource attribute nobody supplied, a file)
is `UNKNOWN`, and so is everything computed from it, as in OpenTofu's plan.

Map iteration follows OpenTofu: keys in lexicographic order.
"""

import base64
import hashlib
import ipaddress
import itertools
import json
import math
import os
import re


class HclError(Exception):
    pass


class _Unknown:
    """A value known only after apply."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "(known after apply)"


UNKNOWN = _Unknown()


def is_unknown(v):
    """True if `v` is UNKNOWN or contains it."""
    if v is UNKNOWN:
        return True
    if isinstance(v, dict):
        return any(is_unknown(x) for x in v.values())
    if isinstance(v, list):
        return any(is_unknown(x) for x in v)
    return False


# --- lexer --------------------------------------------------------------------------------------------------

PUNCT = ["...", "==", "!=", "<=", ">=", "&&", "||", "=>", "?", ":", "=", "+", "-", "*", "/", "%", "!", "<", ">",
         ".", ",", "[", "]", "(", ")", "{", "}"]
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
NUMBER = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?")


class Tok:
    __slots__ = ("kind", "value", "line")

    def __init__(self, kind, value, line):
        self.kind, self.value, self.line = kind, value, line

    def __repr__(self):
        return "%s:%r" % (self.kind, self.value)


class Lexer:
    def __init__(self, src, name="<hcl>"):
        self.src, self.name, self.i, self.line = src, name, 0, 1

    def error(self, msg):
        raise HclError("%s:%d: %s" % (self.name, self.line, msg))

    def tokens(self, until_brace=False):
        """Tokens up to the end (or up to the `}` closing an interpolation, which is consumed)."""
        out = []
        depth = 0
        src = self.src
        while self.i < len(src):
            c = src[self.i]
            if c == "\n":
                out.append(Tok("nl", "\n", self.line))
                self.line += 1
                self.i += 1
                continue
            if c in " \t\r":
                self.i += 1
                continue
            if c == "#" or src.startswith("//", self.i):
                while self.i < len(src) and src[self.i] != "\n":
                    self.i += 1
                continue
            if src.startswith("/*", self.i):
                end = src.find("*/", self.i + 2)
                if end < 0:
                    self.error("unterminated comment")
                self.line += src.count("\n", self.i, end)
                self.i = end + 2
                continue
            if c == '"':
                self.i += 1
                out.append(Tok("tpl", self.template('"'), self.line))
                continue
            if src.startswith("<<", self.i):
                m = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)\n").match(src, self.i)
                if m:
                    out.append(Tok("tpl", self.heredoc(m), self.line))
                    continue
            m = NUMBER.match(src, self.i)
            if m:
                self.i = m.end()
                text = m.group()
                out.append(Tok("num", float(text) if ("." in text or "e" in text.lower()) else int(text), self.line))
                continue
            m = IDENT.match(src, self.i)
            if m:
                self.i = m.end()
                out.append(Tok("ident", m.group(), self.line))
                continue
            for p in PUNCT:
                if src.startswith(p, self.i):
                    if until_brace:
                        if p == "{":
                            depth += 1
                        elif p == "}":
                            if depth == 0:
                                self.i += 1
                                return out
                            depth -= 1
                    self.i += len(p)
                    out.append(Tok("op", p, self.line))
                    break
            else:
                self.error("unexpected character %r" % c)
        if until_brace:
            self.error("unterminated ${")
        out.append(Tok("eof", None, self.line))
        return out

    def template(self, end):
        """Parts of a quoted template: str or ("expr", tokens)."""
        parts, buf = [], []
        src = self.src
        while True:
            if self.i >= len(src):
                self.error("unterminated string")
            c = src[self.i]
            if c == end and end == '"':
                self.i += 1
                break
            if c == "\n" and end == '"':
                self.error("newline in a quoted string")
            if c == "\\" and end == '"':
                nxt = src[self.i + 1]
                buf.append({"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
                if nxt == "u":
                    buf[-1] = chr(int(src[self.i + 2:self.i + 6], 16))
                    self.i += 4
                self.i += 2
                continue
            if src.startswith("$${", self.i) or src.startswith("%%{", self.i):
                buf.append(src[self.i + 1:self.i + 3])
                self.i += 3
                continue
            if src.startswith("${", self.i):
                if buf:
                    parts.append("".join(buf))
                    buf = []
                self.i += 2
                strip = src.startswith("~", self.i)
                if strip:
                    self.i += 1
                toks = self.tokens(until_brace=True)
                if toks and toks[-1].kind == "op" and toks[-1].value == "~":
                    toks = toks[:-1]
                toks.append(Tok("eof", None, self.line))
                parts.append(("expr", toks))
                continue
            if src.startswith("%{", self.i):
                self.error("template directives (%{…}) are not supported in .tf files here")
            buf.append(c)
            self.i += 1
        if buf:
            parts.append("".join(buf))
        return parts

    def heredoc(self, m):
        strip, marker = m.group(1) == "-", m.group(2)
        start = m.end()
        end_re = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.M)
        em = end_re.search(self.src, start)
        if not em:
            self.error("unterminated heredoc " + marker)
        body = self.src[start:em.start()]
        self.line += self.src.count("\n", self.i, em.end())
        self.i = em.end()
        if strip:
            lines = body.split("\n")
            indents = [len(l) - len(l.lstrip(" \t")) for l in lines if l.strip()]
            cut = min(indents) if indents else 0
            body = "\n".join(l[cut:] for l in lines)
        sub = Lexer(body + "\x00", self.name)
        sub.line = self.line
        parts = []
        # Re-use the quoted-template scanner on the body: stop at the sentinel.
        sub.src = body
        sub.i = 0
        buf = []
        while sub.i < len(body):
            if body.startswith("$${", sub.i):
                buf.append("${")
                sub.i += 3
            elif body.startswith("${", sub.i):
                if buf:
                    parts.append("".join(buf))
                    buf = []
                sub.i += 2
                toks = sub.tokens(until_brace=True)
                toks.append(Tok("eof", None, sub.line))
                parts.append(("expr", toks))
            else:
                buf.append(body[sub.i])
                sub.i += 1
        if buf:
            parts.append("".join(buf))
        return parts


# --- syntax tree --------------------------------------------------------------------------------------------

class Node:
    """kind: lit, tpl, var, attr, index, splat, call, tuple, object, for, cond, binop, unop, paren"""
    __slots__ = ("kind", "a", "b", "c", "d", "line")

    def __init__(self, kind, a=None, b=None, c=None, d=None, line=0):
        self.kind, self.a, self.b, self.c, self.d, self.line = kind, a, b, c, d, line

    def __repr__(self):
        return "Node(%s, %r, %r)" % (self.kind, self.a, self.b)


class Block:
    def __init__(self, type_, labels, attrs, blocks, line):
        self.type, self.labels, self.attrs, self.blocks, self.line = type_, labels, attrs, blocks, line

    def blocks_of(self, type_):
        return [b for b in self.blocks if b.type == type_]

    def __repr__(self):
        return "Block(%s %s)" % (self.type, self.labels)


BINARY = [["||"], ["&&"], ["==", "!="], ["<", ">", "<=", ">="], ["+", "-"], ["*", "/", "%"]]


class Parser:
    def __init__(self, toks, name="<hcl>"):
        self.t, self.i, self.name, self.nl_skip = toks, 0, name, 0

    def error(self, msg):
        tok = self.t[min(self.i, len(self.t) - 1)]
        raise HclError("%s:%d: %s (at %r)" % (self.name, tok.line, msg, tok.value))

    def peek(self):
        while self.nl_skip and self.t[self.i].kind == "nl":
            self.i += 1
        return self.t[self.i]

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def is_op(self, v):
        tok = self.peek()
        return tok.kind == "op" and tok.value == v

    def expect(self, v):
        tok = self.take()
        if tok.kind != "op" or tok.value != v:
            self.i -= 1
            self.error("expected %r" % v)
        return tok

    def skip_nl(self):
        while self.t[self.i].kind == "nl":
            self.i += 1

    # body: attributes and blocks, up to `}` or eof
    def body(self, closing):
        attrs, blocks = {}, []
        while True:
            self.skip_nl()
            tok = self.t[self.i]
            if closing and tok.kind == "op" and tok.value == "}":
                self.i += 1
                return attrs, blocks
            if tok.kind == "eof":
                if closing:
                    self.error("missing }")
                return attrs, blocks
            if tok.kind != "ident":
                self.error("expected an attribute or a block")
            self.i += 1
            nxt = self.t[self.i]
            if nxt.kind == "op" and nxt.value == "=":
                self.i += 1
                if tok.value in attrs:
                    self.error("attribute %s set twice" % tok.value)
                attrs[tok.value] = self.expr()
                end = self.t[self.i]
                if end.kind not in ("nl", "eof") and not (end.kind == "op" and end.value == "}"):
                    self.error("expected a new line after the attribute")
                continue
            labels = []
            while True:
                nxt = self.t[self.i]
                if nxt.kind == "tpl":
                    if len(nxt.value) > 1 or (nxt.value and not isinstance(nxt.value[0], str)):
                        self.error("block labels are plain strings")
                    labels.append(nxt.value[0] if nxt.value else "")
                    self.i += 1
                elif nxt.kind == "ident":
                    labels.append(nxt.value)
                    self.i += 1
                else:
                    break
            if not (self.t[self.i].kind == "op" and self.t[self.i].value == "{"):
                self.error("expected { after the block header")
            self.i += 1
            a, b = self.body(closing=True)
            blocks.append(Block(tok.value, labels, a, b, tok.line))

    # expressions
    def expr(self):
        cond = self.binary(0)
        if self.is_op("?"):
            self.take()
            t = self.expr()
            self.expect(":")
            f = self.expr()
            return Node("cond", cond, t, f, line=cond.line)
        return cond

    def binary(self, level):
        if level == len(BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.value in BINARY[level]:
                self.take()
                right = self.binary(level + 1)
                left = Node("binop", tok.value, left, right, line=tok.line)
            else:
                return left

    def unary(self):
        tok = self.peek()
        if tok.kind == "op" and tok.value in ("!", "-"):
            self.take()
            return Node("unop", tok.value, self.unary(), line=tok.line)
        return self.postfix(self.primary())

    def postfix(self, node):
        while True:
            tok = self.t[self.i]
            if tok.kind == "op" and tok.value == ".":
                self.i += 1
                nxt = self.take()
                if nxt.kind == "ident":
                    node = Node("attr", node, nxt.value, line=nxt.line)
                elif nxt.kind == "num" and isinstance(nxt.value, int):
                    node = Node("index", node, Node("lit", nxt.value), line=nxt.line)
                elif nxt.kind == "op" and nxt.value == "*":
                    node = Node("splat", node, self.splat_rest(), line=nxt.line)
                else:
                    self.error("expected a name after .")
            elif tok.kind == "op" and tok.value == "[":
                self.i += 1
                self.nl_skip += 1
                if self.is_op("*"):
                    self.take()
                    self.expect("]")
                    self.nl_skip -= 1
                    node = Node("splat", node, self.splat_rest(), line=tok.line)
                    continue
                idx = self.expr()
                self.expect("]")
                self.nl_skip -= 1
                node = Node("index", node, idx, line=tok.line)
            else:
                return node

    def splat_rest(self):
        """The traversal after a splat, applied to each element: `.name`, `[0]` …"""
        ops = []
        while True:
            tok = self.t[self.i]
            if tok.kind == "op" and tok.value == "." and self.t[self.i + 1].kind == "ident":
                self.i += 2
                ops.append(("attr", self.t[self.i - 1].value))
            elif tok.kind == "op" and tok.value == "[" and not (self.t[self.i + 1].value == "*"):
                self.i += 1
                idx = self.expr()
                self.expect("]")
                ops.append(("index", idx))
            else:
                return ops

    def primary(self):
        tok = self.take()
        if tok.kind == "num":
            return Node("lit", tok.value, line=tok.line)
        if tok.kind == "tpl":
            parts = []
            for p in tok.value:
                if isinstance(p, str):
                    parts.append(p)
                else:
                    sub = Parser(p[1], self.name)
                    sub.nl_skip = 1
                    e = sub.expr()
                    if sub.peek().kind != "eof":
                        sub.error("unexpected token in interpolation")
                    parts.append(e)
            return Node("tpl", parts, line=tok.line)
        if tok.kind == "ident":
            if tok.value in ("true", "false"):
                return Node("lit", tok.value == "true", line=tok.line)
            if tok.value == "null":
                return Node("lit", None, line=tok.line)
            if self.t[self.i].kind == "op" and self.t[self.i].value == "(":
                self.i += 1
                self.nl_skip += 1
                args, expand = [], False
                while not self.is_op(")"):
                    args.append(self.expr())
                    if self.is_op("..."):
                        self.take()
                        expand = True
                    if self.is_op(","):
                        self.take()
                    elif not self.is_op(")"):
                        self.error("expected , or ) in the arguments of %s" % tok.value)
                self.take()
                self.nl_skip -= 1
                return Node("call", tok.value, args, expand, line=tok.line)
            return Node("var", tok.value, line=tok.line)
        if tok.kind == "op" and tok.value == "(":
            self.nl_skip += 1
            e = self.expr()
            self.expect(")")
            self.nl_skip -= 1
            return Node("paren", e, line=tok.line)
        if tok.kind == "op" and tok.value == "[":
            self.nl_skip += 1
            if self.peek().kind == "ident" and self.peek().value == "for":
                node = self.for_expr("]", tok.line)
                self.nl_skip -= 1
                return node
            items = []
            while not self.is_op("]"):
                items.append(self.expr())
                if self.is_op(","):
                    self.take()
                elif not self.is_op("]"):
                    self.error("expected , or ] in a tuple")
            self.take()
            self.nl_skip -= 1
            return Node("tuple", items, line=tok.line)
        if tok.kind == "op" and tok.value == "{":
            self.nl_skip += 1
            if self.peek().kind == "ident" and self.peek().value == "for":
                node = self.for_expr("}", tok.line)
                self.nl_skip -= 1
                return node
            items = []
            while not self.is_op("}"):
                k = self.expr()
                if not (self.is_op("=") or self.is_op(":")):
                    self.error("expected = or : after an object key")
                self.take()
                v = self.expr()
                items.append((k, v))
                if self.is_op(","):
                    self.take()
            self.take()
            self.nl_skip -= 1
            return Node("object", items, line=tok.line)
        self.i -= 1
        self.error("expected an expression")

    def for_expr(self, close, line):
        self.take()  # for
        names = [self.take().value]
        if self.is_op(","):
            self.take()
            names.append(self.take().value)
        kw = self.take()
        if kw.value != "in":
            self.error("expected in")
        coll = self.expr()
        self.expect(":")
        first = self.expr()
        value, group = None, False
        if close == "}":
            self.expect("=>")
            value = self.expr()
            if self.is_op("..."):
                self.take()
                group = True
        cond = None
        if self.peek().kind == "ident" and self.peek().value == "if":
            self.take()
            cond = self.expr()
        self.expect(close)
        key_var, val_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        return Node("for", (key_var, val_var, coll), (first, value, group), cond, close, line=line)


def parse(text, name="<hcl>"):
    toks = Lexer(text, name).tokens()
    p = Parser(toks, name)
    attrs, blocks = p.body(closing=False)
    return Block("<file>", [], attrs, blocks, 0)


def parse_expr(text, name="<expr>"):
    toks = Lexer(text, name).tokens()
    p = Parser(toks, name)
    p.nl_skip = 1
    e = p.expr()
    if p.peek().kind != "eof":
        p.error("trailing input")
    return e


# --- values and functions -----------------------------------------------------------------------------------

def to_str(v):
    if v is UNKNOWN:
        return UNKNOWN
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v)
    if isinstance(v, str):
        return v
    if v is None:
        raise HclError("cannot use null in a string")
    raise HclError("cannot convert %s to a string" % type_name(v))


def to_num(v):
    if isinstance(v, bool):
        raise HclError("a bool is not a number")
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                raise HclError("%r is not a number" % v)
    raise HclError("%s is not a number" % type_name(v))


def norm_num(v):
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "tuple"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def sorted_items(d):
    return sorted(d.items(), key=lambda kv: kv[0])


def fn_format(fmt, *args):
    out, ai, i = [], 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        m = re.compile(r"%([-+ 0#]*)(\d*)(?:\.(\d+))?([sdfvqtxXo%])").match(fmt, i)
        if not m:
            raise HclError("format: bad verb at %r" % fmt[i:])
        flags, width, prec, verb = m.groups()
        i = m.end()
        if verb == "%":
            out.append("%")
            continue
        arg = args[ai]
        ai += 1
        spec = "%" + flags + width + ("." + prec if prec else "")
        if verb == "d":
            out.append((spec + "d") % int(to_num(arg)))
        elif verb == "f":
            out.append((spec + "f") % float(to_num(arg)))
        elif verb in "xXo":
            out.append((spec + verb) % int(to_num(arg)))
        elif verb == "q":
            out.append(json.dumps(to_str(arg)))
        elif verb == "t":
            out.append("true" if arg else "false")
        else:
            out.append((spec + "s") % (to_str(arg) if not isinstance(arg, (list, dict)) else json.dumps(arg)))
    return "".join(out)


def fn_regex(pattern, s):
    m = re.search(pattern.replace("(?P<", "(?P<").replace("\\z", "\\Z"), s)
    if not m:
        raise HclError("regex: no match for %r" % pattern)
    if m.groupdict():
        return m.groupdict()
    if m.groups():
        return list(m.groups())
    return m.group()


def fn_cidrhost(prefix, n):
    net = ipaddress.ip_network(prefix, strict=False)
    n = int(n)
    addr = (net.network_address + n) if n >= 0 else (net.broadcast_address + 1 + n)
    if addr not in net:
        raise HclError("cidrhost: %d is outside %s" % (n, prefix))
    return str(addr)


def fn_cidrsubnet(prefix, newbits, netnum):
    net = ipaddress.ip_network(prefix, strict=False)
    subs = list(itertools.islice(net.subnets(prefixlen_diff=int(newbits)), int(netnum), int(netnum) + 1))
    if not subs:
        raise HclError("cidrsubnet: %s has no subnet %d" % (prefix, netnum))
    return str(subs[0])


def fn_flatten(v):
    out = []
    for x in v:
        if isinstance(x, list):
            out.extend(fn_flatten(x))
        else:
            out.append(x)
    return out


def fn_range(*a):
    a = [int(to_num(x)) for x in a]
    return list(range(*a)) if len(a) != 1 else list(range(a[0]))


def fn_lookup(m, k, *default):
    if k in m:
        return m[k]
    if default:
        return default[0]
    raise HclError("lookup: no key %r" % k)


def fn_merge(*maps):
    out = {}
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise HclError("merge: arguments must be maps or objects")
        out.update(m)
    return out


def fn_setproduct(*lists):
    return [list(t) for t in itertools.product(*lists)]


def fn_distinct(v):
    out = []
    for x in v:
        if x not in out:
            out.append(x)
    return out


def fn_toset(v):
    return sorted(fn_distinct(v), key=lambda x: json.dumps(x, sort_keys=True))


def fn_element(v, i):
    return v[int(i) % len(v)]


def fn_contains(coll, x):
    return x in (coll.values() if isinstance(coll, dict) else coll)


def fn_alltrue(v):
    return all(x is True for x in v)


def fn_anytrue(v):
    return any(x is True for x in v)


def fn_one(v):
    if len(v) > 1:
        raise HclError("one: more than one element")
    return v[0] if v else None


def fn_coalesce(*a):
    for x in a:
        if x is not None and x != "":
            return x
    raise HclError("coalesce: no non-null argument")


def fn_yamlencode(v):
    # JSON is YAML: every consumer here reads it with a YAML parser.
    return json.dumps(v, sort_keys=True)


FUNCTIONS = {
    "abs": abs, "alltrue": fn_alltrue, "anytrue": fn_anytrue,
    "base64encode": lambda s: base64.b64encode(to_str(s).encode()).decode(),
    "base64decode": lambda s: base64.b64decode(s).decode(),
    "ceil": lambda x: math.ceil(to_num(x)), "floor": lambda x: math.floor(to_num(x)),
    "cidrhost": fn_cidrhost, "cidrsubnet": fn_cidrsubnet, "coalesce": fn_coalesce,
    "compact": lambda v: [x for x in v if x is not None and x != ""],
    "concat": lambda *ls: [x for l in ls for x in l], "contains": fn_contains, "distinct": fn_distinct,
    "element": fn_element, "endswith": lambda s, x: to_str(s).endswith(to_str(x)), "flatten": fn_flatten,
    "format": lambda f, *a: fn_format(to_str(f), *a), "index": lambda l, x: l.index(x),
    "join": lambda sep, v: to_str(sep).join(to_str(x) for x in v),
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":"), sort_keys=True),
    "keys": lambda m: sorted(m.keys()), "length": len, "lookup": fn_lookup,
    "lower": lambda s: to_str(s).lower(), "upper": lambda s: to_str(s).upper(),
    "max": lambda *a: norm_num(max(to_num(x) for x in a)), "min": lambda *a: norm_num(min(to_num(x) for x in a)),
    "merge": fn_merge, "one": fn_one, "range": fn_range, "regex": fn_regex,
    "replace": lambda s, a, b: to_str(s).replace(to_str(a), to_str(b)),
    "setproduct": fn_setproduct, "sha256": lambda s: hashlib.sha256(to_str(s).encode()).hexdigest(),
    "split": lambda sep, s: to_str(s).split(to_str(sep)), "startswith": lambda s, x: to_str(s).startswith(to_str(x)),
    "strcontains": lambda s, x: to_str(x) in to_str(s), "substr": lambda s, o, n: to_str(s)[int(o):int(o) + int(n)]
    if int(n) >= 0 else to_str(s)[int(o):],
    "sum": lambda v: norm_num(sum(to_num(x) for x in v)),
    "tolist": list, "toset": fn_toset, "tomap": dict, "tonumber": to_num, "tostring": to_str,
    "trimspace": lambda s: to_str(s).strip(), "values": lambda m: [v for _, v in sorted_items(m)],
    "yamlencode": fn_yamlencode, "zipmap": lambda k, v: dict(zip(k, v)),
}
# Functions whose result depends on files or the environment: unknown to these tools.
OPAQUE = {"templatefile", "file", "filebase64", "timestamp", "uuid", "bcrypt", "filesha256"}


# --- evaluation ---------------------------------------------------------------------------------------------

class Scope:
    """Names an expression can read: a chain of dicts; a value may be a callable producing it lazily."""

    def __init__(self, names, parent=None):
        self.names, self.parent = names, parent

    def lookup(self, name):
        s = self
        while s is not None:
            if name in s.names:
                v = s.names[name]
                return v() if callable(v) and not isinstance(v, type) else v
            s = s.parent
        raise HclError("unknown name %r" % name)

    def child(self, names):
        return Scope(names, self)


class Lazy(dict):
    """A dict whose values are computed on first access (locals)."""

    def __init__(self, compute):
        super().__init__()
        self._compute = compute

    def __missing__(self, key):
        value = self._compute(key)
        self[key] = value
        return value

    def __contains__(self, key):
        try:
            self[key]
            return True
        except KeyError:
            return False


def evaluate(node, scope):
    k = node.kind
    if k == "lit":
        return node.a
    if k == "paren":
        return evaluate(node.a, scope)
    if k == "tpl":
        if len(node.a) == 1 and not isinstance(node.a[0], str):
            # "${x}" alone keeps x's type.
            return evaluate(node.a[0], scope)
        out = []
        for p in node.a:
            if isinstance(p, str):
                out.append(p)
            else:
                v = evaluate(p, scope)
                if v is UNKNOWN:
                    return UNKNOWN
                out.append(to_str(v))
        return "".join(out)
    if k == "var":
        return scope.lookup(node.a)
    if k == "attr":
        base = evaluate(node.a, scope)
        if base is UNKNOWN:
            return UNKNOWN
        if isinstance(base, dict):
            if node.b not in base:
                raise HclError("line %d: no attribute %r" % (node.line, node.b))
            return base[node.b]
        raise HclError("line %d: .%s on a %s" % (node.line, node.b, type_name(base)))
    if k == "index":
        base = evaluate(node.a, scope)
        idx = evaluate(node.b, scope)
        if base is UNKNOWN or idx is UNKNOWN:
            return UNKNOWN
        if isinstance(base, dict):
            key = to_str(idx)
            if key not in base:
                raise HclError("line %d: no key %r" % (node.line, key))
            return base[key]
        if isinstance(base, list):
            i = int(to_num(idx))
            if not 0 <= i < len(base):
                raise HclError("line %d: index %d out of range" % (node.line, i))
            return base[i]
        raise HclError("line %d: cannot index a %s" % (node.line, type_name(base)))
    if k == "splat":
        base = evaluate(node.a, scope)
        if base is UNKNOWN:
            return UNKNOWN
        items = base if isinstance(base, list) else ([] if base is None else [base])
        out = []
        for item in items:
            v = item
            for op, arg in node.b:
                if v is UNKNOWN:
                    break
                v = v[arg] if op == "attr" else v[int(to_num(evaluate(arg, scope)))]
            out.append(v)
        return out
    if k == "call":
        name, args, expand = node.a, node.b, node.c
        if name == "can":
            try:
                v = evaluate(args[0], scope)
                return UNKNOWN if v is UNKNOWN else True
            except (HclError, KeyError, ValueError, TypeError, IndexError):
                return False
        if name == "try":
            for a in args:
                try:
                    return evaluate(a, scope)
                except (HclError, KeyError, ValueError, TypeError, IndexError):
                    continue
            raise HclError("line %d: no argument of try() succeeded" % node.line)
        if name in OPAQUE:
            return UNKNOWN
        values = [evaluate(a, scope) for a in args]
        if expand and values:
            values = values[:-1] + list(values[-1])
        if name not in FUNCTIONS:
            raise HclError("line %d: unknown function %s()" % (node.line, name))
        if any(is_unknown(v) for v in values):
            return UNKNOWN
        try:
            return FUNCTIONS[name](*values)
        except HclError:
            raise
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as e:
            raise HclError("line %d: %s(): %s" % (node.line, name, e))
    if k == "tuple":
        return [evaluate(x, scope) for x in node.a]
    if k == "object":
        out = {}
        for kn, vn in node.a:
            if kn.kind == "var":
                key = kn.a
            else:
                key = evaluate(kn, scope)
                if key is UNKNOWN:
                    return UNKNOWN
                key = to_str(key)
            out[key] = evaluate(vn, scope)
        return out
    if k == "for":
        key_var, val_var, coll_node = node.a
        first, value, group = node.b
        coll = evaluate(coll_node, scope)
        if coll is UNKNOWN:
            return UNKNOWN
        if isinstance(coll, dict):
            pairs = sorted_items(coll)
        elif isinstance(coll, list):
            pairs = list(enumerate(coll))
        else:
            raise HclError("line %d: cannot iterate a %s" % (node.line, type_name(coll)))
        out = [] if node.d == "]" else {}
        for kk, vv in pairs:
            names = {val_var: vv}
            if key_var:
                names[key_var] = kk
            inner = scope.child(names)
            if node.c is not None:
                c = evaluate(node.c, inner)
                if c is UNKNOWN:
                    return UNKNOWN
                if not c:
                    continue
            if node.d == "]":
                out.append(evaluate(first, inner))
            else:
                key = evaluate(first, inner)
                if key is UNKNOWN:
                    return UNKNOWN
                key = to_str(key)
                v = evaluate(value, inner)
                if group:
                    out.setdefault(key, []).append(v)
                elif key in out:
                    raise HclError("line %d: duplicate key %r in a for expression" % (node.line, key))
                else:
                    out[key] = v
        return out
    if k == "cond":
        c = evaluate(node.a, scope)
        if c is UNKNOWN:
            return UNKNOWN
        if not isinstance(c, bool):
            raise HclError("line %d: a condition must be a bool" % node.line)
        return evaluate(node.b if c else node.c, scope)
    if k == "unop":
        v = evaluate(node.b, scope)
        if v is UNKNOWN:
            return UNKNOWN
        return (not v) if node.a == "!" else norm_num(-to_num(v))
    if k == "binop":
        op = node.a
        left = evaluate(node.b, scope)
        if op == "&&" and left is False:
            return False
        if op == "||" and left is True:
            return True
        right = evaluate(node.c, scope)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        if op in ("&&", "||"):
            return bool(right)
        if op == "==":
            return left == right and type_name(left) == type_name(right)
        if op == "!=":
            return not (left == right and type_name(left) == type_name(right))
        a, b = to_num(left), to_num(right)
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        if op == ">=":
            return a >= b
        if op == "+":
            return norm_num(a + b)
        if op == "-":
            return norm_num(a - b)
        if op == "*":
            return norm_num(a * b)
        if op == "/":
            return norm_num(a / b)
        if op == "%":
            return norm_num(math.fmod(a, b))
    raise HclError("cannot evaluate %s" % k)


def references(node, out=None):
    """Traversals an expression reads, as tuples of names: ("var", "x"), ("local", "y"),
    ("hcloud_server", "worker", "ipv4_address") … (indexes skipped)."""
    if out is None:
        out = []
    if node is None:
        return out
    if isinstance(node, Node):
        if node.kind in ("attr", "var", "index", "splat"):
            path = []
            n = node
            while True:
                if n.kind == "attr":
                    path.append(n.b)
                    n = n.a
                elif n.kind == "index":
                    references(n.b, out)
                    n = n.a
                elif n.kind == "splat":
                    for op, arg in n.b:
                        if op == "index":
                            references(arg, out)
                    path.extend(a for op, a in reversed(n.b) if op == "attr")
                    n = n.a
                else:
                    break
            if n.kind == "var":
                out.append((n.a,) + tuple(reversed(path)))
                return out
            references(n, out)
            return out
        if node.kind == "for":
            key_var, val_var, coll = node.a
            references(coll, out)
            inner = []
            references(node.b[0], inner)
            references(node.b[1], inner)
            references(node.c, inner)
            out.extend(r for r in inner if r[0] not in (key_var, val_var))
            return out
        if node.kind == "tpl":
            for p in node.a:
                if not isinstance(p, str):
                    references(p, out)
            return out
        if node.kind == "object":
            for kn, vn in node.a:
                if kn.kind != "var":
                    references(kn, out)
                references(vn, out)
            return out
        for x in (node.a, node.b, node.c):
            references(x, out)
        return out
    if isinstance(node, (list, tuple)):
        for x in node:
            if isinstance(x, (Node, list, tuple)):
                references(x, out)
    return out


def block_references(block, out=None):
    """Every traversal read anywhere in a block (attributes and nested blocks)."""
    if out is None:
        out = []
    for e in block.attrs.values():
        references(e, out)
    for b in block.blocks:
        block_references(b, out)
    return out


# --- modules ------------------------------------------------------------------------------------------------

class Resource:
    def __init__(self, block, file):
        self.type, self.name = block.labels[0], block.labels[1]
        self.block, self.file = block, file

    @property
    def address(self):
        return "%s.%s" % (self.type, self.name)


class Module:
    def __init__(self, files):
        self.files = files  # [(name, Block)]
        self.variables, self.locals, self.resources, self.outputs, self.data = {}, {}, [], {}, []
        for name, body in files:
            for b in body.blocks:
                if b.type == "variable":
                    self.variables[b.labels[0]] = b
                elif b.type == "locals":
                    for k, e in b.attrs.items():
                        if k in self.locals:
                            raise HclError("%s: local.%s defined twice" % (name, k))
                        self.locals[k] = e
                elif b.type == "resource":
                    self.resources.append(Resource(b, name))
                elif b.type == "output":
                    self.outputs[b.labels[0]] = b
                elif b.type == "data":
                    self.data.append(b)

    @classmethod
    def load(cls, dirpath):
        files = []
        for fn in sorted(os.listdir(dirpath)):
            if fn.endswith(".tf"):
                with open(os.path.join(dirpath, fn), encoding="utf-8") as f:
                    files.append((fn, parse(f.read(), fn)))
        if not files:
            raise HclError("%s has no .tf files" % dirpath)
        return cls(files)

    def resource(self, address):
        for r in self.resources:
            if r.address == address:
                return r
        return None

    def evaluator(self, variables, resources=None, path_module="."):
        return Evaluator(self, variables, {} if resources is None else resources, path_module)


class Evaluator:
    """Values of a module for given variables. `resources` maps "type" → {"name": instances}, where instances
    is a dict (for_each), a list (count) or one object; a missing resource reads as UNKNOWN."""

    def __init__(self, module, variables, resources, path_module):
        self.module = module
        self.vars = {}
        for name, block in module.variables.items():
            if name in variables:
                self.vars[name] = variables[name]
            elif "default" in block.attrs:
                self.vars[name] = evaluate(block.attrs["default"], Scope({}))
            else:
                raise HclError('the root module input variable "%s" is not set, and has no default value' % name)
        self.resources = resources
        self._computing = []
        self.locals = Lazy(self._local)
        types = {r.type for r in module.resources}
        names = {"var": self.vars, "local": self.locals, "path": {"module": path_module, "root": path_module,
                                                                  "cwd": path_module},
                 "terraform": {"workspace": "default"}}
        for t in types:
            names[t] = (lambda t=t: self._resource_type(t))
        self.scope = Scope(names)

    def _resource_type(self, t):
        known = self.resources.get(t, {})
        out = {}
        for r in self.module.resources:
            if r.type == t:
                out[r.name] = known.get(r.name, UNKNOWN)
        return out

    def _local(self, name):
        if name not in self.module.locals:
            raise KeyError(name)
        if name in self._computing:
            raise HclError("local.%s depends on itself: %s" % (name, " → ".join(self._computing + [name])))
        self._computing.append(name)
        try:
            return evaluate(self.module.locals[name], self.scope)
        finally:
            self._computing.pop()

    def local(self, name):
        return self.locals[name]

    def eval(self, node, extra=None):
        return evaluate(node, self.scope.child(extra) if extra else self.scope)

    def instances(self, res):
        """[(key, each/count names)] of a resource: key None for a single one."""
        b = res.block
        if "for_each" in b.attrs:
            coll = self.eval(b.attrs["for_each"])
            if is_unknown(coll):
                raise HclError("%s: for_each depends on values known only after apply" % res.address)
            if isinstance(coll, dict):
                return [(k, {"each": {"key": k, "value": v}}) for k, v in sorted_items(coll)]
            if isinstance(coll, list):
                if not all(isinstance(x, str) for x in coll):
                    raise HclError("%s: for_each over a set must hold strings" % res.address)
                return [(k, {"each": {"key": k, "value": k}}) for k in fn_toset(coll)]
            raise HclError("%s: for_each must be a map or a set" % res.address)
        if "count" in b.attrs:
            n = self.eval(b.attrs["count"])
            if is_unknown(n):
                raise HclError("%s: count depends on values known only after apply" % res.address)
            return [(i, {"count": {"index": i}}) for i in range(int(to_num(n)))]
        return [(None, {})]

    def block_value(self, block, extra, skip=()):
        """Attributes and nested blocks of a resource body as values (dynamic blocks expanded);
        meta-arguments and `skip` left out; an attribute that fails to evaluate is UNKNOWN."""
        out = {}
        for name, e in block.attrs.items():
            if name in META or name in skip:
                continue
            try:
                out[name] = self.eval(e, extra)
            except HclError:
                out[name] = UNKNOWN
        for nb in block.blocks:
            if nb.type in ("lifecycle", "provisioner", "connection"):
                continue
            if nb.type == "dynamic":
                label = nb.labels[0]
                coll = self.eval(nb.attrs["for_each"], extra)
                iterator = self.eval(nb.attrs["iterator"], extra) if "iterator" in nb.attrs else label
                if is_unknown(coll):
                    out[label] = UNKNOWN
                    continue
                pairs = sorted_items(coll) if isinstance(coll, dict) else list(enumerate(coll))
                content = nb.blocks_of("content")[0]
                items = out.setdefault(label, [])
                for k, v in pairs:
                    names = dict(extra or {})
                    names[iterator] = {"key": k, "value": v}
                    items.append(self.block_value(content, names))
                continue
            out.setdefault(nb.type, []).append(self.block_value(nb, extra))
        return out


META = {"for_each", "count", "depends_on", "provider", "lifecycle"}


def instance_address(res, key):
    if key is None:
        return res.address
    if isinstance(key, int):
        return "%s[%d]" % (res.address, key)
    return '%s["%s"]' % (res.address, key)


def resource_refs(module, refs, seen=None):
    """Resource addresses ("type.name") that `refs` read, directly or through locals."""
    addrs = {r.address for r in module.resources}
    seen = set() if seen is None else seen
    out = set()
    for ref in refs:
        if ref[0] == "local" and len(ref) >= 2 and ref[1] in module.locals and ref[1] not in seen:
            seen.add(ref[1])
            out |= resource_refs(module, references(module.locals[ref[1]]), seen)
        elif len(ref) >= 2 and "%s.%s" % (ref[0], ref[1]) in addrs:
            out.add("%s.%s" % (ref[0], ref[1]))
    return out


def resource_order(module):
    """Resources in an order where each comes after those it references, directly or through locals
    (declaration order otherwise)."""
    deps = {}
    for r in module.resources:
        d = resource_refs(module, block_references(r.block))
        d.discard(r.address)
        deps[r.address] = d
    done, out = set(), []
    pending = list(module.resources)
    while pending:
        progressed = False
        for r in list(pending):
            if deps[r.address] <= done:
                out.append(r)
                done.add(r.address)
                pending.remove(r)
                progressed = True
        if not progressed:
            raise HclError("resources reference each other in a cycle: %s" % ", ".join(r.address for r in pending))
    return out
