#!/usr/bin/env python3
"""The house rules of loadstar's source tree, checked on every test run.

1. Includes point down: a product folder includes only from itself and from folders on a lower
   layer, and the worker and the coordinator never include each other.
2. Each third-party library is included by exactly one product folder, the one that wraps it.
3. Every product folder has a layer here, and docs/ARCHITECTURE.md and the README's layout table
   list exactly the folders the tree has.

Run: tests/layout_test.py SOURCE_DIR (standard library only).
"""
import os
import re
import subprocess
import sys
import unittest

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))

# Product folders, lowest layer first. A folder may include from a folder of a lower number.
LAYERS = {
    "common/core": 0,
    "proto": 1,
    "common/storage": 1,
    "common/warehouse": 1,
    "common/parquet": 1,
    "common/transport": 2,
    "common/generator": 2,
    "common/provision": 2,
    "worker/parse": 3,
    "coordinator/scheduler": 3,
    "coordinator/monitor": 3,
    "coordinator/report": 3,
    "worker": 4,
    "coordinator": 4,
    "coordinator/lake": 4,
    "cli": 5,
}

# Pairs of product areas that must not know each other, whatever their layers.
APART = [("worker", "coordinator")]

# Third-party headers (by the include's path) and the one product folder that may include them.
THIRD_PARTY = {
    "ZeroMQ": (re.compile(r"^(zmq\.h|zmq\.hpp|zmq_addon\.hpp)$"), "common/transport"),
    "libpq": (re.compile(r"^(libpq-fe\.h|libpq/.*)$"), "common/warehouse"),
    "libcurl": (re.compile(r"^curl/"), "common/storage"),
    "OpenSSL": (re.compile(r"^openssl/"), "common/storage"),
    "simdjson": (re.compile(r"^simdjson\.h$"), "worker/parse"),
    "zlib": (re.compile(r"^zlib\.h$"), "worker/parse"),
    "cpp-httplib": (re.compile(r"^httplib\.h$"), "coordinator/monitor"),
    "CLI11": (re.compile(r"^CLI/"), "cli"),
    "protobuf": (re.compile(r"^google/protobuf/"), "proto"),
}

# Top-level folders that are not product code; the docs list them too.
OTHER_TOP = {"sql", "tests", "bench", "compose", "scripts", "docs", ".ci"}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
SOURCE = (".cc", ".h", ".proto")


def tracked_files():
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return [f for f in out.splitlines() if os.path.exists(os.path.join(ROOT, f))]


def product_sources():
    for f in tracked_files():
        top = f.split("/", 1)[0]
        if f.endswith(SOURCE) and top not in OTHER_TOP:
            yield f


def folder_of(path):
    return os.path.dirname(path)


def include_folder(target):
    """The product folder an include names, or None for a third-party or standard header."""
    if target.endswith(".pb.h"):
        return "proto"
    folder = os.path.dirname(target)
    return folder if folder in LAYERS else None


def apart(a, b):
    def area(f):
        return f.split("/", 1)[0]
    return any({area(a), area(b)} == {x, y} for x, y in APART)


def listed_folders(text):
    """Folders named in the first column of a markdown table: | `folder/` | ... |"""
    return {m.group(1).rstrip("/") for m in re.finditer(r"^\|\s*`([^`]+/)`\s*\|", text, re.M)}


def tree_folders():
    folders = set()
    for f in tracked_files():
        parts = f.split("/")
        if len(parts) < 2:
            continue
        if parts[0] in OTHER_TOP:
            folders.add(parts[0])
            if parts[0] == "sql" and len(parts) > 2:
                folders.add("sql/" + parts[1])  # the dialect folders
        elif f.endswith(SOURCE):
            folders.add(folder_of(f))
    return folders


class LayoutTest(unittest.TestCase):
    def test_every_product_folder_has_a_layer(self):
        unknown = sorted({folder_of(f) for f in product_sources()} - set(LAYERS))
        self.assertEqual(unknown, [], "give these folders a layer in tests/layout_test.py (and docs/ARCHITECTURE.md)")

    def test_includes_point_down(self):
        wrong = []
        for f in product_sources():
            here = folder_of(f)
            if here not in LAYERS:
                continue
            with open(os.path.join(ROOT, f), encoding="utf-8", errors="replace") as src:
                text = src.read()
            for kind, target in INCLUDE.findall(text):
                there = include_folder(target)
                if kind != '"' or there is None or there == here:
                    continue
                if LAYERS[there] >= LAYERS[here] or apart(here, there):
                    wrong.append(f"{f} includes {target} ({there}, layer {LAYERS[there]}; {here} is layer {LAYERS[here]})")
        self.assertEqual(wrong, [], "includes must only point down:\n" + "\n".join(wrong))

    def test_each_third_party_library_is_wrapped_once(self):
        users = {name: set() for name in THIRD_PARTY}
        for f in product_sources():
            with open(os.path.join(ROOT, f), encoding="utf-8", errors="replace") as src:
                text = src.read()
            for kind, target in INCLUDE.findall(text):
                if kind != "<":
                    continue
                for name, (pattern, _) in THIRD_PARTY.items():
                    if pattern.search(target):
                        users[name].add(folder_of(f))
        wrong = []
        for name, (_, owner) in THIRD_PARTY.items():
            if users[name] - {owner}:
                wrong.append(f"{name} is included outside {owner}/: {sorted(users[name] - {owner})}")
            if owner not in users[name]:
                wrong.append(f"{name} is no longer included by {owner}/: update tests/layout_test.py")
        self.assertEqual(wrong, [], "\n".join(wrong))

    def test_the_architecture_doc_lists_the_tree(self):
        with open(os.path.join(ROOT, "docs", "ARCHITECTURE.md"), encoding="utf-8") as doc:
            listed = listed_folders(doc.read())
        tree = tree_folders()
        self.assertEqual(sorted(tree - listed), [], "folders missing from docs/ARCHITECTURE.md")
        self.assertEqual(sorted(listed - tree), [], "docs/ARCHITECTURE.md lists folders the tree does not have")

    def test_the_readme_layout_table_lists_the_tree(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as readme:
            text = readme.read()
        section = text[text.index("## Layout"):]
        listed = listed_folders(section)
        tree = tree_folders()
        self.assertEqual(sorted(tree - listed), [], "folders missing from the README's layout table")
        self.assertEqual(sorted(listed - tree), [], "the README's layout table lists folders the tree does not have")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
