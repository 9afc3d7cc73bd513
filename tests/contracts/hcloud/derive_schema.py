#!/usr/bin/env python3
"""Derives `hcloud-<version>.schema.json` from terraform-provider-hcloud's Go source at a release tag.

    derive_schema.py GIT_DIR TAG > hcloud-<version>.schema.json

GIT_DIR is a clone (or bare mirror) of https://github.com/hetznercloud/terraform-provider-hcloud; the script
reads it with `git show TAG:…` only (it never builds or runs the provider). For every resource type in
RESOURCES it finds the Go file that declares `… = "hcloud_<type>"` and reads the schema literal there:

- terraform-plugin-sdk/v2 resources: `Schema: map[string]*schema.Schema{ "name": { Type: schema.TypeString,
  Required: true, … } }`, nested `Elem: &schema.Resource{Schema: …}` as blocks;
- terraform-plugin-framework resources: `resp.Schema.Attributes = map[string]schema.Attribute{ "name":
  schema.StringAttribute{ Required: true, … } }` (and `resp.Schema.Blocks`), `resourceutil.LabelsSchema()`
  as the map of strings it returns.

The output has the shape of `tofu providers schema -json` (attributes with type, required, optional,
computed, deprecated; block_types with nesting_mode and min/max items), so a real dump can replace it, plus
`enum` where the Go source validates a string against a fixed list (`validation.StringInSlice`).
Python 3 standard library only.
"""

import json
import re
import subprocess
import sys

RESOURCES = [
    "hcloud_firewall", "hcloud_firewall_attachment", "hcloud_floating_ip", "hcloud_floating_ip_assignment",
    "hcloud_load_balancer", "hcloud_load_balancer_network", "hcloud_load_balancer_service",
    "hcloud_load_balancer_target", "hcloud_network", "hcloud_network_route", "hcloud_network_subnet",
    "hcloud_placement_group", "hcloud_primary_ip", "hcloud_server", "hcloud_server_network",
    "hcloud_ssh_key", "hcloud_volume", "hcloud_volume_attachment",
]


def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True,
                          text=True).stdout


# --- a small reader of Go composite literals ----------------------------------------------------------------

TOKEN = re.compile(r'''
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|`[^`]*`)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>:=|[{}()\[\],:&*=.!<>+\-/%|^])
''', re.S | re.X)


def tokenize(text):
    out = []
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "ws":
            continue
        out.append((kind, m.group()))
    return out


class Node:
    """A Go expression as much as the schema needs: a composite literal (type + items), a call, a string,
    an identifier, or raw tokens."""

    def __init__(self, kind, type_=None, items=None, value=None, args=None):
        self.kind, self.type, self.items, self.value, self.args = kind, type_, items or [], value, args or []

    def get(self, key):
        for k, v in self.items:
            if k == key:
                return v
        return None

    def __repr__(self):
        return "Node(%s %s %s)" % (self.kind, self.type, self.value)


class Parser:
    def __init__(self, tokens, pos=0):
        self.t, self.i = tokens, pos

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else ("eof", "")

    def next(self):
        tok = self.peek()
        self.i += 1
        return tok

    def skip_balanced(self):
        """Skips one bracketed group starting at the current token."""
        pairs = {"{": "}", "(": ")", "[": "]"}
        depth = 0
        while True:
            kind, v = self.next()
            if v in pairs:
                depth += 1
            elif v in pairs.values():
                depth -= 1
                if depth == 0:
                    return
            if kind == "eof":
                return

    def type_expr(self):
        """map[string]*schema.Schema, []string, &schema.Resource, schema.StringAttribute …"""
        parts = []
        while True:
            kind, v = self.peek()
            if v in ("&", "*"):
                parts.append(v)
                self.next()
            elif v == "[":
                self.next()
                inner = []
                while self.peek()[1] != "]":
                    inner.append(self.next()[1])
                self.next()
                parts.append("[" + "".join(inner) + "]")
            elif kind == "ident" and v == "map":
                parts.append("map")
                self.next()
            elif kind == "ident":
                parts.append(v)
                self.next()
                return "".join(parts)
            else:
                return "".join(parts)

    def value(self):
        kind, v = self.peek()
        if kind == "str":
            self.next()
            return Node("str", value=v[1:-1])
        if kind == "num":
            self.next()
            return Node("num", value=v)
        if v == "{":
            return self.literal(None)
        if kind == "ident" and v == "func":
            # func(…) … { … }: skip its parameters, results and body.
            self.next()
            self.skip_balanced()
            while self.peek()[1] != "{":
                if self.peek()[1] == "(":
                    self.skip_balanced()
                else:
                    self.next()
            self.skip_balanced()
            return Node("func")
        if v in ("&", "*", "[") or kind == "ident":
            start = self.i
            ty = self.type_expr()
            if self.peek()[1] == "{":
                return self.literal(ty)
            if self.peek()[1] == "(":
                self.next()
                args = []
                while self.peek()[1] != ")":
                    args.append(self.value())
                    if self.peek()[1] == ",":
                        self.next()
                self.next()
                node = Node("call", type_=ty, args=args)
                return self.rest(node)
            return self.rest(Node("ident", value=ty))
        # Anything else: raw tokens up to the next , or closing bracket at this level.
        return self.rest(Node("raw"))

    def rest(self, node):
        """Consumes the rest of an expression (operators, selectors) up to , } ) at depth 0."""
        while self.peek()[1] not in (",", ":", "}", ")", "eof", ""):
            if self.peek()[1] in ("{", "(", "["):
                self.skip_balanced()
            else:
                self.next()
            node = Node("raw") if node.kind not in ("raw",) else node
        return node

    def literal(self, ty):
        assert self.next()[1] == "{"
        items = []
        while self.peek()[1] != "}":
            if self.peek()[0] == "eof":
                raise ValueError("unterminated literal")
            first = self.value()
            if self.peek()[1] == ":":
                self.next()
                key = first.value if first.kind in ("str", "ident") else None
                items.append((key, self.value()))
            else:
                items.append((None, first))
            if self.peek()[1] == ",":
                self.next()
        self.next()
        return Node("lit", type_=ty, items=items)


def literal_after(tokens, pattern):
    """Parses the composite literal that follows the token sequence `pattern` (a list of token values)."""
    n = len(pattern)
    for i in range(len(tokens) - n):
        if [v for _, v in tokens[i:i + n]] == pattern:
            p = Parser(tokens, i + n)
            return p.value()
    return None


# --- schema extraction ----------------------------------------------------------------------------------------

SDK_TYPES = {"schema.TypeString": "string", "schema.TypeInt": "number", "schema.TypeFloat": "number",
             "schema.TypeBool": "bool"}
FW_TYPES = {"schema.StringAttribute": "string", "schema.Int64Attribute": "number",
            "schema.Int32Attribute": "number", "schema.Float64Attribute": "number",
            "schema.NumberAttribute": "number", "schema.BoolAttribute": "bool"}
FW_ELEM = {"types.StringType": "string", "types.Int64Type": "number", "types.BoolType": "bool"}
# Custom types of terraform-plugin-framework-nettypes: strings in the configuration.
FW_CUSTOM = {"iptypes.IPAddressType": "string", "cidrtypes.IPPrefixType": "string"}


def truthy(node):
    return node is not None and node.kind == "ident" and node.value == "true"


def string_enum(node):
    """validation.StringInSlice([]string{"a", "b"}, false) → ["a", "b"]"""
    if node is not None and node.kind == "call" and node.type.endswith("StringInSlice") and node.args:
        lit = node.args[0]
        if lit.kind == "lit" and all(v.kind == "str" for _, v in lit.items):
            return [v.value for _, v in lit.items]
    return None


def sdk_block(schema_lit):
    block = {"attributes": {}, "block_types": {}}
    for name, spec in schema_lit.items:
        if spec.kind != "lit":
            raise ValueError("%s: not a literal" % name)
        ty = spec.get("Type")
        elem = spec.get("Elem")
        flags = {k: True for k in ("Required", "Optional", "Computed") if truthy(spec.get(k))}
        deprecated = spec.get("Deprecated") is not None
        tname = ty.value if ty is not None else None
        if tname in ("schema.TypeList", "schema.TypeSet") and elem is not None and elem.type == "&schema.Resource":
            inner = elem.get("Schema")
            bt = {"nesting_mode": "list" if tname == "schema.TypeList" else "set", "block": sdk_block(inner)}
            for k, key in (("MaxItems", "max_items"), ("MinItems", "min_items")):
                if spec.get(k) is not None and spec.get(k).kind == "num":
                    bt[key] = int(spec.get(k).value)
            if "Required" in flags and "min_items" not in bt:
                bt["min_items"] = 1
            if deprecated:
                bt["deprecated"] = True
            block["block_types"][name] = bt
            continue
        if tname in SDK_TYPES:
            t = SDK_TYPES[tname]
        elif tname in ("schema.TypeList", "schema.TypeSet", "schema.TypeMap"):
            inner = "string"
            if elem is not None and elem.type == "&schema.Schema":
                inner = SDK_TYPES[elem.get("Type").value]
            t = [{"schema.TypeList": "list", "schema.TypeSet": "set", "schema.TypeMap": "map"}[tname], inner]
        else:
            raise ValueError("%s: unknown type %s" % (name, tname))
        attr = {"type": t}
        attr.update({k.lower(): True for k in flags})
        if deprecated:
            attr["deprecated"] = True
        enum = string_enum(spec.get("ValidateFunc"))
        if enum:
            attr["enum"] = enum
        block["attributes"][name] = attr
    return block


def fw_attr(name, spec):
    if spec.kind == "call" and spec.type.endswith("LabelsSchema"):
        return {"type": ["map", "string"], "optional": True, "computed": True}
    if spec.kind != "lit":
        raise ValueError("%s: not a literal" % name)
    if spec.type in FW_TYPES:
        t = FW_TYPES[spec.type]
    elif spec.type in ("schema.ListAttribute", "schema.SetAttribute", "schema.MapAttribute"):
        et = spec.get("ElementType")
        # ident (types.StringType) or a literal of a custom string type (iptypes.IPAddressType{}).
        elem = FW_ELEM.get(et.value) if et.kind == "ident" else FW_CUSTOM.get(et.type)
        if elem is None:
            raise ValueError("%s: unknown element type" % name)
        t = [spec.type[len("schema."):-len("Attribute")].lower(), elem]
    else:
        raise ValueError("%s: unknown attribute kind %s" % (name, spec.type))
    attr = {"type": t}
    for k in ("Required", "Optional", "Computed"):
        if truthy(spec.get(k)):
            attr[k.lower()] = True
    if spec.get("DeprecationMessage") is not None:
        attr["deprecated"] = True
    return attr


def fw_block(attrs_lit, blocks_lit):
    block = {"attributes": {}, "block_types": {}}
    for name, spec in (attrs_lit.items if attrs_lit else []):
        block["attributes"][name] = fw_attr(name, spec)
    for name, spec in (blocks_lit.items if blocks_lit else []):
        mode = {"schema.ListNestedBlock": "list", "schema.SetNestedBlock": "set",
                "schema.SingleNestedBlock": "single"}.get(spec.type)
        if mode is None:
            raise ValueError("%s: unknown block kind %s" % (name, spec.type))
        obj = spec.get("NestedObject") if mode != "single" else spec
        block["block_types"][name] = {"nesting_mode": mode,
                                      "block": fw_block(obj.get("Attributes"), obj.get("Blocks"))}
    return block


def resource_schema(source):
    tokens = tokenize(source)
    framework = "terraform-plugin-framework" in source
    if framework:
        attrs = literal_after(tokens, ["resp", ".", "Schema", ".", "Attributes", "="]) or \
            literal_after(tokens, ["resp.Schema.Attributes", "="])
        blocks = literal_after(tokens, ["resp.Schema.Blocks", "="])
        if attrs is None:
            raise ValueError("no resp.Schema.Attributes literal")
        return fw_block(attrs, blocks)
    lit = literal_after(tokens, ["Schema", ":"])
    if lit is None:
        raise ValueError("no Schema: literal")
    block = sdk_block(lit)
    block["attributes"].setdefault("id", {"type": "string", "optional": True, "computed": True})
    return block


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    gitdir, tag = argv[1], argv[2]
    files = [f for f in git(gitdir, "ls-tree", "-r", "--name-only", tag, "internal").splitlines()
             if f.endswith(".go") and not f.endswith("_test.go")]
    declared = {}
    for f in files:
        text = git(gitdir, "show", "%s:%s" % (tag, f))
        for m in re.finditer(r'ResourceType\s*=\s*"(hcloud_[a-z_]+)"', text):
            declared[m.group(1)] = (f, text)
    out = {}
    for rtype in RESOURCES:
        if rtype not in declared:
            raise SystemExit("%s: no Go file declares it at %s" % (rtype, tag))
        f, text = declared[rtype]
        try:
            out[rtype] = {"version": 0, "source": f, "block": resource_schema(text)}
        except (ValueError, KeyError, AttributeError, AssertionError) as e:
            raise SystemExit("%s (%s): %s" % (rtype, f, e))
    commit = git(gitdir, "rev-list", "-n", "1", tag).strip()
    doc = {
        "format_version": "1.0",
        "derived_from": {"repository": "https://github.com/hetznercloud/terraform-provider-hcloud",
                         "tag": tag, "commit": commit,
                         "how": "tests/contracts/hcloud/derive_schema.py (reads the Go schema literals)"},
        "provider_schemas": {"registry.opentofu.org/hetznercloud/hcloud": {"resource_schemas": out}},
    }
    json.dump(doc, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
