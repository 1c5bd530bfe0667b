#!/usr/bin/env python3
"""Check Accord's JSON Schemas, AsyncAPI document and example events.

Uses the `jsonschema` package (Draft 2020-12, format checking) with a `referencing`
registry of every schema under --schemas, keyed by `$id`, so cross-file `$ref`s resolve
offline. Exits 0 when every check passes, 1 when any fails, 3 when a package is missing.

  schema_check.py --schemas schemas [--catalogue cat.json]
                  [--valid DIR ...] [--invalid DIR ...] [--asyncapi FILE]

--valid DIR     every *.json there is a structured CloudEvent that must be accepted:
                envelope schema, the data schema named by its type (= its dataschema),
                subject == partitionkey == the payload's own case/contract/area id.
--invalid DIR   every *.json there is {"description", "expectedField", "event"}; the
                event must be REJECTED by the same checks.
--catalogue F   JSON written by the Swift tests from EventKind / AccordTopic:
                {"events": [{type, schemaPath, dataschema, topic, owner, subjectKind}...],
                 "topics": [{name, owner}...]}; checks every kind has its schema file,
                every schema file is in the catalogue, and asyncapi.yaml has every
                channel, owner and message.
"""
import argparse
import json
import pathlib
import re
import sys

try:
    import yaml
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError as missing:  # pragma: no cover - environment problem
    print(f"schema_check: Python package missing ({missing.name}). "
          "Run: python3 -m pip install jsonschema pyyaml", file=sys.stderr)
    sys.exit(3)

TYPE_RE = re.compile(r"^org\.accord\.([a-z]+)\.([a-z][a-z0-9-]*)\.v([1-9][0-9]*)$")
SUBJECT_FIELDS = {"caseId": "caseId", "contractId": "contractId", "area": "area"}


class Checker:
    def __init__(self, schemas_dir: pathlib.Path):
        self.root = schemas_dir.resolve()
        self.problems: list[str] = []
        self.by_id: dict[str, dict] = {}
        self.path_by_id: dict[str, str] = {}
        envelope_path = self.root / "envelope.v1.schema.json"
        if not envelope_path.is_file():
            self.fail(f"{envelope_path}: envelope schema not found")
            return
        envelope = self.load_json(envelope_path)
        self.base = envelope.get("$id", "").rsplit("/", 1)[0] + "/"
        resources = []
        for path in sorted(self.root.rglob("*.schema.json")):
            rel = path.relative_to(self.root).as_posix()
            schema = self.load_json(path)
            if schema is None:
                continue
            try:
                Draft202012Validator.check_schema(schema)
            except Exception as error:  # SchemaError
                self.fail(f"{rel}: not a valid 2020-12 schema: {error}")
                continue
            sid = schema.get("$id")
            if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
                self.fail(f"{rel}: $schema must be https://json-schema.org/draft/2020-12/schema")
            if sid != self.base + rel:
                self.fail(f"{rel}: $id is {sid!r}; expected {self.base + rel!r}")
            for key in ("title", "description"):
                if not schema.get(key):
                    self.fail(f"{rel}: missing {key}")
            if rel.startswith("events/"):
                for key, want in (("type", "object"), ("additionalProperties", False)):
                    if schema.get(key) != want:
                        self.fail(f"{rel}: {key} must be {want!r}")
                if not schema.get("required"):
                    self.fail(f"{rel}: missing required")
            self.by_id[sid] = schema
            self.path_by_id[sid] = rel
            resources.append((sid, Resource.from_contents(schema, default_specification=DRAFT202012)))
        self.registry = Registry().with_resources(resources)
        self.envelope_id = self.base + "envelope.v1.schema.json"
        for fmt in ("date", "date-time", "uuid"):
            if fmt not in Draft202012Validator.FORMAT_CHECKER.checkers:
                print(f"schema_check: note: format {fmt!r} is not checked here (install rfc3339-validator); "
                      "the schema patterns still apply", file=sys.stderr)

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def load_json(self, path: pathlib.Path):
        try:
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError) as error:
            self.fail(f"{path}: cannot read JSON: {error}")
            return None

    def validator(self, schema_id: str) -> Draft202012Validator:
        return Draft202012Validator(self.by_id[schema_id], registry=self.registry,
                                    format_checker=Draft202012Validator.FORMAT_CHECKER)

    @staticmethod
    def render(error) -> str:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        return f"{path or '(root)'}: {error.message}"

    def event_errors(self, event) -> list[str]:
        """Every reason the structured event is invalid (empty when it is valid)."""
        if not isinstance(event, dict):
            return ["(root): event must be a JSON object"]
        errors = [self.render(e) for e in self.validator(self.envelope_id).iter_errors(event)]
        etype = event.get("type")
        match = TYPE_RE.match(etype) if isinstance(etype, str) else None
        if not match:
            errors.append(f"type: {etype!r} is not an Accord event type")
            return errors
        family, name, version = match.groups()
        schema_id = f"{self.base}events/{family}/{name}.v{version}.schema.json"
        if schema_id not in self.by_id:
            errors.append(f"type: no schema for {etype} (expected {schema_id})")
            return errors
        if event.get("dataschema") != schema_id:
            errors.append(f"dataschema: {event.get('dataschema')!r} is not {schema_id!r}")
        data = event.get("data")
        errors += ["data." + self.render(e) if e.absolute_path else "data: " + e.message
                   for e in self.validator(schema_id).iter_errors(data)]
        if event.get("subject") != event.get("partitionkey"):
            errors.append("partitionkey: differs from subject")
        if isinstance(data, dict):
            own = next((data[k] for k in ("caseId", "contractId", "area") if k in data), None)
            if own is not None and own != event.get("subject"):
                errors.append(f"data: subject id {own!r} differs from subject {event.get('subject')!r}")
        return errors

    @staticmethod
    def points_at(path: str, expected: str) -> bool:
        """Whether a schema error at `path` is about `expected` (itself, or an enclosing
        object, since `required`/`oneOf`/`uniqueItems` report at the parent)."""
        if path == expected:
            return True
        if path == "(root)":
            return "." not in expected and "[" not in expected
        base = re.sub(r"\[[0-9]+\]$", "", expected)
        return expected.startswith(path + ".") or expected.startswith(path + "[") or path == base

    def check_valid(self, folder: pathlib.Path) -> int:
        files = sorted(folder.glob("*.json"))
        if not files:
            self.fail(f"{folder}: no *.json examples to check")
        for path in files:
            event = self.load_json(path)
            if event is None:
                continue
            for error in self.event_errors(event):
                self.fail(f"{path.name}: should be valid but {error}")
        return len(files)

    def check_invalid(self, folder: pathlib.Path) -> int:
        files = sorted(folder.glob("*.json"))
        if not files:
            self.fail(f"{folder}: no *.json examples to check")
        for path in files:
            example = self.load_json(path)
            if example is None:
                continue
            if not isinstance(example, dict) or not {"description", "expectedField", "event"} <= example.keys():
                self.fail(f"{path.name}: must be an object with description, expectedField and event")
                continue
            errors = self.event_errors(example["event"])
            expected = example["expectedField"]
            if not errors:
                self.fail(f"{path.name}: should be REJECTED ({example['description']}) but the schemas accept it")
                continue
            on_field = [e for e in errors if self.points_at(e.split(": ", 1)[0], expected)]
            if not on_field:
                self.fail(f"{path.name}: rejected, but not at {expected}: {errors}")
            else:
                print(f"  rejected as expected: {path.name}: {on_field[0]}")
        return len(files)

    def check_catalogue(self, catalogue_path: pathlib.Path, asyncapi_path: pathlib.Path) -> None:
        catalogue = self.load_json(catalogue_path)
        if catalogue is None:
            return
        events = catalogue.get("events", [])
        topics = catalogue.get("topics", [])
        if not events or not topics:
            self.fail(f"{catalogue_path}: needs non-empty events and topics")
        files = {rel for rel in self.path_by_id.values() if rel.startswith("events/")}
        listed = set()
        for entry in events:
            rel = entry["schemaPath"]
            listed.add(rel)
            if rel not in files:
                self.fail(f"catalogue: {entry['type']} has no schema file schemas/{rel}")
                continue
            if entry["dataschema"] != self.base + rel:
                self.fail(f"catalogue: {entry['type']} dataschema {entry['dataschema']} is not the $id of {rel}")
            schema = self.by_id[self.base + rel]
            if entry["type"] not in schema.get("title", "") + schema.get("description", ""):
                self.fail(f"{rel}: title/description does not name {entry['type']}")
            subject_field = SUBJECT_FIELDS.get(entry.get("subjectKind", ""))
            if subject_field and subject_field not in schema.get("required", []):
                self.fail(f"{rel}: must require {subject_field}, the event subject")
        for rel in sorted(files - listed):
            self.fail(f"schemas/{rel}: schema file is not in the EventKind catalogue")

        if not asyncapi_path.is_file():
            self.fail(f"{asyncapi_path}: AsyncAPI document not found")
            return
        with open(asyncapi_path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
        if not str(doc.get("asyncapi", "")).startswith("3."):
            self.fail("asyncapi.yaml: asyncapi must be 3.x")
        channels = doc.get("channels", {})
        messages = doc.get("components", {}).get("messages", {})
        operations = doc.get("operations", {})
        by_address = {c.get("address"): (cid, c) for cid, c in channels.items()}
        for topic in topics:
            if topic["name"] not in by_address:
                self.fail(f"asyncapi.yaml: no channel with address {topic['name']}")
                continue
            cid, channel = by_address[topic["name"]]
            want_owner = topic.get("owner") or "accord"
            if channel.get("x-owner") != want_owner:
                self.fail(f"asyncapi.yaml: channel {cid} x-owner {channel.get('x-owner')!r}; expected {want_owner!r}")
            actions = {op.get("action") for op in operations.values()
                       if op.get("channel", {}).get("$ref") == f"#/channels/{cid}"}
            needed = {"send"} if topic.get("owner") is None else {"send", "receive"}
            if not needed <= actions:
                self.fail(f"asyncapi.yaml: channel {cid} needs operations {sorted(needed)}; has {sorted(actions)}")
        name_to_id = {m.get("name"): mid for mid, m in messages.items()}
        for entry in events:
            mid = name_to_id.get(entry["type"])
            if mid is None:
                self.fail(f"asyncapi.yaml: no message named {entry['type']}")
                continue
            payload_ref = messages[mid].get("payload", {}).get("$ref", "")
            target = (asyncapi_path.parent / payload_ref).resolve()
            if target != (self.root / entry["schemaPath"]).resolve():
                self.fail(f"asyncapi.yaml: message {mid} payload $ref {payload_ref!r} is not ./{entry['schemaPath']}")
            if entry["topic"] in by_address:
                cid, channel = by_address[entry["topic"]]
                refs = [m.get("$ref") for m in channel.get("messages", {}).values()]
                if f"#/components/messages/{mid}" not in refs:
                    self.fail(f"asyncapi.yaml: channel {cid} ({entry['topic']}) does not carry message {mid}")
            if "key" not in messages[mid].get("bindings", {}).get("kafka", {}):
                self.fail(f"asyncapi.yaml: message {mid} has no bindings.kafka.key")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schemas", required=True, type=pathlib.Path)
    parser.add_argument("--valid", action="append", default=[], type=pathlib.Path)
    parser.add_argument("--invalid", action="append", default=[], type=pathlib.Path)
    parser.add_argument("--catalogue", type=pathlib.Path)
    parser.add_argument("--asyncapi", type=pathlib.Path)
    args = parser.parse_args()

    checker = Checker(args.schemas)
    valid = sum(checker.check_valid(d) for d in args.valid) if checker.by_id else 0
    invalid = sum(checker.check_invalid(d) for d in args.invalid) if checker.by_id else 0
    if args.catalogue and checker.by_id:
        checker.check_catalogue(args.catalogue, args.asyncapi or (checker.root / "asyncapi.yaml"))
    if checker.problems:
        for problem in checker.problems:
            print(f"schema_check: FAIL {problem}", file=sys.stderr)
        print(f"schema_check: {len(checker.problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"schema_check: OK: {len(checker.by_id)} schemas, {valid} valid events accepted, "
          f"{invalid} invalid examples rejected" + (", catalogue consistent" if args.catalogue else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
