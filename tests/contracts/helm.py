"""A small offline renderer for Catalyst's own Helm chart (charts/catalyst), since Helm is not installed here.

It implements the part of Go's text/template and Helm that the chart's templates use — actions with `{{-`/`-}}`
trimming, comments, `if`/`else if`/`else`, `range` (lists and maps, in Go's sorted-key order), `with`,
`define`/`include`, variables, pipelines and parenthesised calls — and these functions: include, required,
default, quote, toString, toYaml, nindent, indent, trunc, trimSuffix, printf (%s %d %v), upper, lower, replace,
kindIs, not, and, or, eq, ne, list, fail, empty. Anything else is an error (the chart must not use a function
this renderer does not know: the test would not be checking what Helm renders). Values are merged like Helm
(user values over values.yaml, `null` deletes a key) and validated against values.schema.json first.
"""

import copy
import json
import os
import re

import jsonschema
import yaml


class TemplateError(Exception):
    pass


class ValuesError(Exception):
    """Values refused by the chart's values.schema.json (each message names the key path)."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


# --- lexing and parsing ---------------------------------------------------------------------------------------

ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)


def lex(text, name):
    """[('text', s) | ('action', s)] with the trim markers applied."""
    out, pos = [], 0
    for m in ACTION.finditer(text):
        chunk = text[pos:m.start()]
        if m.group(1):
            chunk = chunk.rstrip(" \t\r\n")
        if out and out[-1][0] == "trim_next":
            out.pop()
            chunk = chunk.lstrip(" \t\r\n")
        out.append(("text", chunk))
        body = m.group(2).strip()
        if not (body.startswith("/*") and body.endswith("*/")):
            out.append(("action", body))
        if m.group(3):
            out.append(("trim_next", None))
        pos = m.end()
    chunk = text[pos:]
    if out and out[-1][0] == "trim_next":
        out.pop()
        chunk = chunk.lstrip(" \t\r\n")
    out.append(("text", chunk))
    return [t for t in out if t[0] != "text" or t[1]]


TOKEN = re.compile(r'''\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<raw>`[^`]*`)|(?P<num>-?\d+(?:\.\d+)?)|(?P<decl>:=|=)'''
                   r'''|(?P<pipe>\|)|(?P<lp>\()|(?P<rp>\))(?P<rpfield>(?:\.[A-Za-z_]\w*)*)|(?P<comma>,)'''
                   r'''|(?P<var>\$[A-Za-z_]\w*|\$)(?P<varfield>(?:\.[A-Za-z_]\w*)*)'''
                   r'''|(?P<field>(?:\.[A-Za-z_]\w*)+|\.)|(?P<ident>[A-Za-z_]\w*))''')


def tokens(src, name):
    pos, out = 0, []
    src = src.rstrip()
    while pos < len(src):
        m = TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise TemplateError("%s: cannot read %r" % (name, src[pos:]))
        pos = m.end()
        kind = m.lastgroup if m.lastgroup not in ("rpfield", "varfield") else None
        for k in ("str", "raw", "num", "decl", "pipe", "lp", "comma", "field", "ident"):
            if m.group(k) is not None:
                out.append((k, m.group(k)))
                break
        else:
            if m.group("rp") is not None:
                out.append(("rp", m.group("rpfield") or ""))
            elif m.group("var") is not None:
                out.append(("var", (m.group("var"), m.group("varfield") or "")))
            else:
                raise TemplateError("%s: cannot read %r (%s)" % (name, src, kind))
    return out


def parse_pipeline(toks, name):
    """(declared variable names, [commands]); a command is a list of operands."""
    decl = []
    # `$a := …` or `$k, $v := …`
    for i, t in enumerate(toks):
        if t[0] == "decl":
            decl = [v[1][0] for v in toks[:i] if v[0] == "var"]
            toks = toks[i + 1:]
            break
    cmds, cur, i = [], [], 0
    while i < len(toks):
        kind, val = toks[i]
        if kind == "pipe":
            cmds.append(cur)
            cur = []
        elif kind == "lp":
            depth, j = 1, i + 1
            while j < len(toks) and depth:
                depth += {"lp": 1, "rp": -1}.get(toks[j][0], 0)
                j += 1
            if depth:
                raise TemplateError("%s: unclosed parenthesis" % name)
            cur.append(("sub", parse_pipeline(toks[i + 1:j - 1], name), toks[j - 1][1]))
            i = j
            continue
        elif kind == "rp":
            raise TemplateError("%s: unexpected )" % name)
        else:
            cur.append((kind, val))
        i += 1
    cmds.append(cur)
    if any(not c for c in cmds):
        raise TemplateError("%s: empty command in pipeline" % name)
    return decl, cmds


def parse(items, name):
    """Nodes: ('text', s) ('out', pipe) ('if', [(pipe, body)], else) ('range', pipe, body, else)
    ('with', pipe, body, else) ('define', name, body)."""
    pos = 0

    def block(stop):
        nonlocal pos
        nodes = []
        while pos < len(items):
            kind, val = items[pos]
            if kind == "text":
                nodes.append(("text", val))
                pos += 1
                continue
            word = val.split(None, 1)[0] if val else ""
            rest = val[len(word):].strip()
            if word in stop:
                return nodes, word, rest
            pos += 1
            if word in ("if", "with", "range"):
                pipe = parse_pipeline(tokens(rest, name), name)
                branches, else_body = [], []
                body, end, end_rest = block(("else", "end"))
                branches.append((pipe, body))
                while end == "else":
                    pos += 1
                    if end_rest.startswith("if ") and word == "if":
                        pipe = parse_pipeline(tokens(end_rest[3:], name), name)
                        body, end, end_rest = block(("else", "end"))
                        branches.append((pipe, body))
                    else:
                        else_body, end, end_rest = block(("end",))
                pos += 1
                if word == "if":
                    nodes.append(("if", branches, else_body))
                else:
                    nodes.append((word, branches[0][0], branches[0][1], else_body))
            elif word == "define":
                m = re.match(r'"([^"]+)"$', rest)
                if not m:
                    raise TemplateError("%s: define needs a quoted name" % name)
                body, _, _ = block(("end",))
                pos += 1
                nodes.append(("define", m.group(1), body))
            elif word in ("end", "else"):
                raise TemplateError("%s: unexpected {{%s}}" % (name, word))
            elif word in ("template", "block", "break", "continue"):
                raise TemplateError("%s: {{%s}} is not supported by tests/contracts/helm.py" % (name, word))
            else:
                nodes.append(("out", parse_pipeline(tokens(val, name), name)))
        if stop:
            raise TemplateError("%s: missing {{end}}" % name)
        return nodes, None, None

    nodes, _, _ = block(())
    return nodes


# --- evaluation -----------------------------------------------------------------------------------------------

def truthy(v):
    return not (v is None or v is False or v == 0 and not isinstance(v, bool) or
                (isinstance(v, (str, list, dict)) and len(v) == 0))


def text_of(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        raise TemplateError("printing a %s directly (use toYaml)" % type(v).__name__)
    return str(v)


def field(v, path):
    for part in [p for p in path.split(".") if p]:
        if v is None:
            return None
        if not isinstance(v, dict):
            raise TemplateError("cannot read .%s of a %s" % (part, type(v).__name__))
        v = v.get(part)
    return v


def to_yaml(v):
    if v is None:
        return "null"
    return yaml.safe_dump(v, default_flow_style=False, sort_keys=True).rstrip("\n")


def go_printf(fmt, *args):
    args = list(args)

    def one(m):
        if m.group(0) == "%%":
            return "%"
        if not args:
            raise TemplateError("printf %r: too few arguments" % fmt)
        a = args.pop(0)
        return text_of(a) if m.group(1) in "sv" else str(int(a))
    return re.sub(r"%%|%([svd])", one, fmt)


def kind_is(kind, v):
    kinds = {"map": dict, "slice": list, "string": str, "bool": bool}
    if kind == "invalid":
        return v is None
    if kind in ("int", "int64"):
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == "float64":
        return isinstance(v, float)
    if kind in kinds:
        return isinstance(v, kinds[kind]) and not (kind != "bool" and isinstance(v, bool))
    raise TemplateError("kindIs: unknown kind %r" % kind)


class Fail(TemplateError):
    pass


class Renderer:
    def __init__(self):
        self.defines = {}

    def functions(self):
        def required(msg, v):
            if v is None or v == "":
                raise Fail(msg)
            return v

        def fail(msg):
            raise Fail(msg)

        def nindent(n, s):
            return "\n" + indent(n, s)

        def indent(n, s):
            return "\n".join((" " * n + line) if line else line for line in text_of(s).split("\n"))

        def quote(*vs):
            return " ".join(json.dumps(text_of(v)) for v in vs)

        return {
            "include": lambda name, ctx: self.include(name, ctx),
            "required": required, "fail": fail,
            "default": lambda d, v=None: v if truthy(v) else d,
            "quote": quote, "toString": text_of, "toYaml": to_yaml,
            "nindent": nindent, "indent": indent,
            "trunc": lambda n, s: text_of(s)[:n], "trimSuffix": lambda suf, s: s[:-len(suf)] if suf and s.endswith(suf) else s,
            "printf": go_printf, "upper": lambda s: text_of(s).upper(), "lower": lambda s: text_of(s).lower(),
            "replace": lambda old, new, s: text_of(s).replace(old, new),
            "kindIs": kind_is, "not": lambda v: not truthy(v),
            "and": lambda *vs: next((v for v in vs if not truthy(v)), vs[-1]),
            "or": lambda *vs: next((v for v in vs if truthy(v)), vs[-1]),
            "eq": lambda a, *bs: any(a == b for b in bs), "ne": lambda a, b: a != b,
            "list": lambda *vs: list(vs), "empty": lambda v: not truthy(v),
        }

    def include(self, name, ctx):
        if name not in self.defines:
            raise TemplateError("include: no template %r" % name)
        return self.run(self.defines[name], ctx, [{"$": ctx}])

    def operand(self, op, dot, scopes):
        kind, val = op[0], op[1]
        if kind == "str":
            return json.loads(val)
        if kind == "raw":
            return val[1:-1]
        if kind == "num":
            return float(val) if "." in val else int(val)
        if kind == "field":
            return dot if val == "." else field(dot, val)
        if kind == "var":
            name, path = val
            for s in reversed(scopes):
                if name in s:
                    return field(s[name], path)
            raise TemplateError("undefined variable %s" % name)
        if kind == "sub":
            return field(self.pipeline(op[1], dot, scopes), op[2])
        if kind == "ident":
            if val in ("true", "false"):
                return val == "true"
            if val == "nil":
                return None
            return self.call(val, [], dot, scopes)
        raise TemplateError("unexpected %s %r" % (kind, val))

    def call(self, fn, args, dot, scopes):
        functions = self.functions()
        if fn not in functions:
            raise TemplateError("function %r is not supported by tests/contracts/helm.py" % fn)
        return functions[fn](*args)

    def pipeline(self, pipe, dot, scopes):
        decl, cmds = pipe
        value, first = None, True
        for cmd in cmds:
            head = cmd[0]
            if head[0] == "ident" and head[1] not in ("true", "false", "nil"):
                args = [self.operand(o, dot, scopes) for o in cmd[1:]]
                if not first:
                    args.append(value)
                value = self.call(head[1], args, dot, scopes)
            else:
                if len(cmd) > 1 or not first:
                    raise TemplateError("cannot call a non-function %r" % (head,))
                value = self.operand(head, dot, scopes)
            first = False
        if decl:
            scopes[-1][decl[-1]] = value
            return ""
        return value

    def run(self, nodes, dot, scopes):
        out = []
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "out":
                v = self.pipeline(node[1], dot, scopes)
                out.append("" if node[1][0] else text_of(v))
            elif kind == "define":
                self.defines[node[1]] = node[2]
            elif kind == "if":
                for pipe, body in node[1]:
                    if truthy(self.pipeline(pipe, dot, scopes)):
                        out.append(self.run(body, dot, scopes + [{}]))
                        break
                else:
                    out.append(self.run(node[2], dot, scopes + [{}]))
            elif kind == "with":
                v = self.pipeline((None, node[1][1]), dot, scopes)
                out.append(self.run(node[2], v, scopes + [{}]) if truthy(v) else self.run(node[3], dot, scopes + [{}]))
            elif kind == "range":
                decl, cmds = node[1]
                v = self.pipeline(([], cmds), dot, scopes)
                items = sorted(v.items()) if isinstance(v, dict) else list(enumerate(v or []))
                if not items:
                    out.append(self.run(node[3], dot, scopes + [{}]))
                for k, item in items:
                    scope = {}
                    if len(decl) == 2:
                        scope[decl[0]], scope[decl[1]] = k, item
                    elif len(decl) == 1:
                        scope[decl[0]] = item
                    out.append(self.run(node[2], item, scopes + [scope]))
        return "".join(out)


# --- the chart ------------------------------------------------------------------------------------------------

def merge(base, over):
    """Helm's coalescing: maps merge key by key, anything else replaces, null deletes."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def values_problems(chart_dir, values):
    with open(os.path.join(chart_dir, "values.schema.json")) as f:
        schema = json.load(f)
    errs = jsonschema.Draft7Validator(schema).iter_errors(values)
    return sorted("%s: %s" % ("/".join(map(str, e.absolute_path)) or "(root)", e.message) for e in errs)


def render(chart_dir, values=None, release="catalyst", namespace="catalyst"):
    """The chart's manifests (a list of objects, each with `_origin` = its template) for `values` over the
    chart's values.yaml. ValuesError if the schema refuses the values; Fail for a `required`/`fail`."""
    with open(os.path.join(chart_dir, "Chart.yaml")) as f:
        chart = yaml.safe_load(f)
    with open(os.path.join(chart_dir, "values.yaml")) as f:
        merged = merge(yaml.safe_load(f) or {}, values or {})
    problems = values_problems(chart_dir, merged)
    if problems:
        raise ValuesError(problems)
    ctx = {
        "Values": merged,
        "Release": {"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": True},
        "Chart": {"Name": chart["name"], "Version": chart["version"], "AppVersion": chart.get("appVersion")},
    }
    r = Renderer()
    tdir = os.path.join(chart_dir, "templates")
    parsed = {}
    for name in sorted(os.listdir(tdir)):
        with open(os.path.join(tdir, name)) as f:
            parsed[name] = parse(lex(f.read(), name), name)
        # Helm collects every define of every template before rendering.
        r.run([n for n in parsed[name] if n[0] == "define"], ctx, [{"$": ctx}])
    objects = []
    for name, nodes in parsed.items():
        if name.startswith("_") or not name.endswith((".yaml", ".yml")):
            continue
        text = r.run([n for n in nodes if n[0] != "define"], ctx, [{"$": ctx}])
        for doc in yaml.safe_load_all(text):
            if doc:
                doc["_origin"] = "charts/catalyst/templates/" + name
                objects.append(doc)
    return objects
