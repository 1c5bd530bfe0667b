#!/usr/bin/env python3
"""Check recorded HTTP responses against Accord's OpenAPI 3.1 document.

  openapi_check.py --spec Sources/AccordProjector/Resources/openapi.json --responses DIR
                   [--require-every-operation]

DIR holds files NNN.json, each one recorded response:

  {"method": "GET", "path": "/v1/cases/X000001", "status": 200,
   "contentType": "application/json", "body": <parsed JSON, or a string for text bodies>}

`path` is the actual request path (a query string, if any, is ignored). Each response is
matched to its path template and operation, then to the response object for its status
(exact code, then `4XX`-style range, then `default`) and content type (media type essence,
parameters ignored), and its body is validated against that schema with the `jsonschema`
package (Draft 2020-12, the dialect of OpenAPI 3.1 schemas) through a `referencing`
registry holding the whole document as one resource, so `#/components/...` references
resolve inside it. Formats `date-time`, `date` and `uuid` are asserted, not just annotated.
A path no template matches must be answered as the document's root extension
`x-unmatched-route-response` says (Accord: 404 problem+json).

The document itself is checked first: `openapi` is 3.1.x, every `$ref` resolves, every
component schema is a valid 2020-12 schema, every path template's parameters are declared.

Exit status: 0 when everything conforms; 1 listing every mismatch (file, method, path,
status, JSON pointer, message); 2 for a usage error or an unreadable file; 3 when a Python
package is missing.
"""
import argparse
import datetime
import json
import pathlib
import re
import sys

try:
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import SchemaError
    from referencing import Registry, Resource
    from referencing.exceptions import Unresolvable
    from referencing.jsonschema import DRAFT202012
except ImportError as missing:  # pragma: no cover - environment problem
    print(f"openapi_check: Python package missing ({missing.name}). "
          "Run: python3 -m pip install jsonschema", file=sys.stderr)
    sys.exit(3)

SPEC_URI = "https://accord.example/openapi.json"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DATE_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$")
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _real_date(y: str, m: str, d: str) -> bool:
    try:
        datetime.date(int(y), int(m), int(d))
        return True
    except ValueError:
        return False


def format_checker() -> FormatChecker:
    """Strict RFC 3339 checks that need no optional packages."""
    checker = FormatChecker(formats=())

    @checker.checks("date-time")
    def is_date_time(instance):
        if not isinstance(instance, str):
            return True
        m = DATE_TIME_RE.match(instance)
        if not m or not _real_date(m[1], m[2], m[3]):
            return False
        if int(m[4]) > 23 or int(m[5]) > 59 or int(m[6]) > 60:
            return False
        return m[9] is None or (int(m[9]) <= 23 and int(m[10]) <= 59)

    @checker.checks("date")
    def is_date(instance):
        if not isinstance(instance, str):
            return True
        m = DATE_RE.match(instance)
        return bool(m) and _real_date(m[1], m[2], m[3])

    @checker.checks("uuid")
    def is_uuid(instance):
        return not isinstance(instance, str) or bool(UUID_RE.match(instance))

    return checker


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer(parts) -> str:
    return "".join("/" + escape(str(p)) for p in parts)


def resolve_local(doc, ref: str):
    """Follows a local `#/...` JSON pointer; raises KeyError when it does not resolve."""
    if not ref.startswith("#"):
        raise KeyError(f"not a local reference: {ref}")
    node = doc
    fragment = ref[1:]
    if fragment == "":
        return node
    if not fragment.startswith("/"):
        raise KeyError(f"not a JSON pointer: {ref}")
    for raw in fragment[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(f"{ref}: no '{token}'")
    return node


def media_essence(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


class Checker:
    def __init__(self, spec_path: pathlib.Path, spec: dict):
        self.spec_path = spec_path
        self.spec = spec
        self.problems: list[str] = []
        self.registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012))
        self.formats = format_checker()
        self.templates = []  # (regex, template, literal segment count)
        self.covered: set[tuple[str, str, str]] = set()

    def fail(self, message: str) -> None:
        self.problems.append(message)

    # ---- the document itself -------------------------------------------------

    def check_spec(self) -> None:
        spec = self.spec
        version = spec.get("openapi")
        if not isinstance(version, str) or not re.match(r"^3\.1\.\d+$", version):
            self.fail(f"{self.spec_path}: openapi is {version!r}, expected 3.1.x")
        info = spec.get("info")
        if not isinstance(info, dict) or not info.get("title") or not info.get("version"):
            self.fail(f"{self.spec_path}: info.title and info.version are required")
        paths = spec.get("paths")
        if not isinstance(paths, dict) or not paths:
            self.fail(f"{self.spec_path}: paths is missing or empty")
            paths = {}
        # Every $ref resolves.
        for where, ref in self.refs(spec, []):
            try:
                resolve_local(spec, ref)
            except KeyError as error:
                self.fail(f"{self.spec_path}: $ref at {pointer(where)} does not resolve ({error})")
        # Every component schema is a valid 2020-12 schema.
        for name, schema in (spec.get("components", {}).get("schemas") or {}).items():
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as error:
                self.fail(f"{self.spec_path}: components.schemas.{name} is not a valid 2020-12 schema: {error.message}")
        # Path templates, their parameters and operations.
        for template, item in paths.items():
            if not template.startswith("/"):
                self.fail(f"{self.spec_path}: path {template!r} does not start with /")
                continue
            item = self.deref(item)
            names = re.findall(r"\{([^}/]+)\}", template)
            path_level = [self.deref(p) for p in item.get("parameters", [])]
            ops = {m: self.deref(item[m]) for m in HTTP_METHODS if m in item}
            if not ops:
                self.fail(f"{self.spec_path}: path {template} has no operation")
            for method, operation in ops.items():
                params = path_level + [self.deref(p) for p in operation.get("parameters", [])]
                declared = {p.get("name") for p in params if p.get("in") == "path"}
                for name in names:
                    if name not in declared:
                        self.fail(f"{self.spec_path}: {method.upper()} {template}: path parameter {{{name}}} is not declared")
                for name in declared - set(names):
                    self.fail(f"{self.spec_path}: {method.upper()} {template}: declares path parameter {name} not in the template")
                for p in params:
                    if p.get("in") == "path" and p.get("required") is not True:
                        self.fail(f"{self.spec_path}: {method.upper()} {template}: path parameter {p.get('name')} must be required")
                    if "schema" in p:
                        try:
                            Draft202012Validator.check_schema(p["schema"])
                        except SchemaError as error:
                            self.fail(f"{self.spec_path}: {method.upper()} {template}: parameter {p.get('name')}: {error.message}")
                responses = operation.get("responses")
                if not isinstance(responses, dict) or not responses:
                    self.fail(f"{self.spec_path}: {method.upper()} {template} has no responses")
            pattern = "^" + "".join(
                "/[^/]+" if re.fullmatch(r"\{[^}/]+\}", seg) else "/" + re.escape(seg)
                for seg in template.split("/")[1:]) + "$"
            literal = sum(1 for seg in template.split("/")[1:] if "{" not in seg)
            self.templates.append((re.compile(pattern), template, literal))
        # Most literal segments first: `/v1/cases/export` would win over `/v1/cases/{caseId}`.
        self.templates.sort(key=lambda t: -t[2])

    def refs(self, node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    yield where, value
                else:
                    yield from self.refs(value, where + [key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from self.refs(value, where + [index])

    def deref(self, node, depth=0):
        """Resolves a Reference Object (parameters, responses, path items) inside the document."""
        while isinstance(node, dict) and "$ref" in node and depth < 20:
            try:
                node = resolve_local(self.spec, node["$ref"])
            except KeyError:
                return {}
            depth += 1
        return node

    def location(self, node_ref: str):
        """The pointer of a (possibly referenced) response object, following `$ref`s."""
        node = resolve_local(self.spec, node_ref)
        while isinstance(node, dict) and "$ref" in node:
            node_ref = node["$ref"]
            node = resolve_local(self.spec, node_ref)
        return node_ref, node

    # ---- recorded responses ----------------------------------------------------

    def check_response(self, name: str, record) -> None:
        if not isinstance(record, dict):
            self.fail(f"{name}: not a JSON object")
            return
        missing = [k for k in ("method", "path", "status", "contentType", "body") if k not in record]
        if missing:
            self.fail(f"{name}: missing {', '.join(missing)}")
            return
        method = str(record["method"]).lower()
        path = str(record["path"]).split("?", 1)[0]
        status = record["status"]
        what = f"{name}: {method.upper()} {path} → {status}"
        if not isinstance(status, int):
            self.fail(f"{what}: status is not an integer")
            return

        template = next((t for regex, t, _ in self.templates if regex.match(path)), None)
        if template is None:
            unmatched = self.spec.get("x-unmatched-route-response")
            if unmatched is None:
                self.fail(f"{what}: no path template matches {path}")
                return
            base = "#/x-unmatched-route-response"
            response_ref, response = self.location(base)
            if status != 404:
                self.fail(f"{what}: {path} is not a route; expected the unmatched-route response (404), got {status}")
                return
            self.check_content(what, response_ref, response, record)
            return

        item_ref, item = self.location("#/paths/" + escape(template))
        if method not in item:
            self.fail(f"{what}: {template} has no {method.upper()} operation")
            return
        operation_ref = f"{item_ref}/{method}"
        operation = self.deref(item[method])
        responses = operation.get("responses", {})
        key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
        if key is None:
            self.fail(f"{what}: {method.upper()} {template} documents no {status} response "
                      f"(documented: {', '.join(sorted(responses))})")
            return
        self.covered.add((template, method, key))
        response_ref, response = self.location(f"{operation_ref}/responses/{escape(key)}")
        self.check_content(what, response_ref, response, record)

    def check_content(self, what: str, response_ref: str, response: dict, record: dict) -> None:
        content = response.get("content")
        if not content:
            if record["body"] not in (None, ""):
                self.fail(f"{what}: the response documents no body, but one was sent")
            return
        essence = media_essence(str(record["contentType"]))
        match = next((k for k in content if media_essence(k) == essence), None)
        if match is None:
            wildcard = essence.split("/", 1)[0] + "/*"
            match = next((k for k in content if k in (wildcard, "*/*")), None)
        if match is None:
            self.fail(f"{what}: content type {essence} is not documented (documented: {', '.join(content)})")
            return
        media = content[match]
        if "schema" not in media:
            return
        schema_uri = f"{SPEC_URI}{response_ref}/content/{escape(match)}/schema"
        validator = Draft202012Validator({"$ref": schema_uri}, registry=self.registry,
                                         format_checker=self.formats)
        try:
            errors = sorted(validator.iter_errors(record["body"]), key=lambda e: list(e.absolute_path))
        except Unresolvable as error:
            self.fail(f"{what}: cannot resolve the schema: {error}")
            return
        for error in errors:
            self.fail(f"{what}: at {pointer(error.absolute_path) or '/'}: {self.explain(error)}")

    @staticmethod
    def explain(error) -> str:
        message = error.message
        if len(message) > 300:
            message = message[:300] + "…"
        if error.context:
            # oneOf/anyOf: say why the closest alternative failed too.
            best = min(error.context, key=lambda e: (len(e.absolute_path) * -1, len(e.message)))
            message += f" (closest alternative: at {pointer(best.absolute_path) or '/'}: {best.message[:200]})"
        return message

    def uncovered(self):
        out = []
        for template, item in self.spec.get("paths", {}).items():
            item = self.deref(item)
            for method in HTTP_METHODS:
                if method in item and not any(t == template and m == method for t, m, _ in self.covered):
                    out.append(f"{method.upper()} {template}")
        return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Validate recorded responses against an OpenAPI 3.1 document.")
    parser.add_argument("--spec", required=True, type=pathlib.Path, help="the OpenAPI 3.1 JSON document")
    parser.add_argument("--responses", type=pathlib.Path, help="directory of NNN.json recorded responses")
    parser.add_argument("--require-every-operation", action="store_true",
                        help="also fail when an operation of the document has no recorded response")
    args = parser.parse_args(argv)

    try:
        spec = json.loads(args.spec.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"openapi_check: cannot read {args.spec}: {error}", file=sys.stderr)
        return 2
    if not isinstance(spec, dict):
        print(f"openapi_check: {args.spec} is not a JSON object", file=sys.stderr)
        return 2

    checker = Checker(args.spec, spec)
    checker.check_spec()

    files = []
    if args.responses is not None:
        if not args.responses.is_dir():
            print(f"openapi_check: {args.responses} is not a directory", file=sys.stderr)
            return 2
        files = sorted(args.responses.glob("*.json"))
        if not files:
            checker.fail(f"{args.responses}: no *.json responses to check")
        for path in files:
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                checker.fail(f"{path.name}: unreadable: {error}")
                continue
            checker.check_response(path.name, record)
        uncovered = checker.uncovered()
        if uncovered:
            line = "operations without a recorded response: " + ", ".join(uncovered)
            if args.require_every_operation:
                checker.fail(line)
            else:
                print(f"openapi_check: note: {line}")

    if checker.problems:
        for problem in checker.problems:
            print(f"MISMATCH {problem}")
        print(f"openapi_check: {len(checker.problems)} problem(s); {len(files)} response(s) checked against {args.spec}")
        return 1
    print(f"openapi_check: OK: {len(files)} response(s) conform to {args.spec} "
          f"(openapi {spec.get('openapi')}, {len(spec.get('paths', {}))} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
