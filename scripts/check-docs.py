#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scripts/check-docs.py -- the repository explains itself: every rule a comment cites
exists, every test doc/invariants.md names exists, and nothing cites a document that is
not in the repository. Run by `make check-docs` (part of `make check`).

- "invariant N" / "invariants N, M" / "invariants N-M" anywhere in the sources, tests
  and docs must be a numbered rule of doc/invariants.md ("#### N.").
- In doc/invariants.md, each "Tests:" paragraph names files (`tests/...`, `fuzz/`) that
  must exist, and test names (in parentheses after a file, `*` as a wildcard) that must
  be tests of that file.
- No source, header, man page or Markdown file cites a document kept outside the
  repository. (The benchmark scripts and the systemd test locate the peer harness and the
  sandbox tool beside the repository: a place to run a program from, not a citation.)
"""
import fnmatch
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
errors = []


def tracked_files():
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True,
                         text=True, check=True).stdout.split()
    return [ROOT / f for f in out if (ROOT / f).is_file()]


def rules():
    text = (ROOT / "doc/invariants.md").read_text()
    return {int(n) for n in re.findall(r"^#### (\d+)\. ", text, re.M)}


def cited(text):
    for m in re.finditer(r"\b[Ii]nvariants? ((?:\d+(?:-\d+)?)(?:(?:, | and )\d+(?:-\d+)?)*)",
                         text):
        for part in re.split(r", | and ", m.group(1)):
            a, _, b = part.partition("-")
            for n in range(int(a), int(b or a) + 1):
                yield n, text.count("\n", 0, m.start()) + 1


def test_names(path):
    text = path.read_text()
    if path.suffix == ".py":
        return set(re.findall(r"^def (test_\w+)", text, re.M))
    return set(re.findall(r"cmocka_unit_test\w*\((\w+)", text))


def check_tests_paragraphs():
    text = (ROOT / "doc/invariants.md").read_text()
    for para in re.split(r"\n\s*\n", text):
        if not para.startswith("Tests:"):
            continue
        # `file` (`name`, `name` ...): the names in the parentheses right after a file
        for m in re.finditer(r"`((?:tests|fuzz|bench)/[^`]*)`(\s*\(([^()]*)\))?", para):
            path = ROOT / m.group(1)
            if not path.exists():
                errors.append("doc/invariants.md: %s does not exist" % m.group(1))
                continue
            if not m.group(3) or not path.is_file():
                continue
            names = test_names(path)
            for tok in re.findall(r"`([^`]+)`", m.group(3)):
                if not fnmatch.filter(names, tok):
                    errors.append("doc/invariants.md: no test %s in %s" % (tok, m.group(1)))


def main():
    numbered = rules()
    if set(range(1, max(numbered) + 1)) != numbered:
        errors.append("doc/invariants.md: the numbered rules are not 1..N")
    outside = re.compile(r"\bINVARIANTS\b|\bSPEC(\.md| §)")
    shared = re.compile(r"\.\./shared")
    for f in tracked_files():
        if f.suffix not in (".c", ".h", ".py", ".md", ".sh", ".1", ".5", ".8", "") and \
                f.name != "Makefile":
            continue
        try:
            text = f.read_text()
        except UnicodeDecodeError:
            continue
        rel = f.relative_to(ROOT)
        if rel.as_posix() != "scripts/check-docs.py":
            found = list(outside.finditer(text))
            if f.suffix in (".c", ".h", ".md", ".1", ".5", ".8"):
                found += list(shared.finditer(text))
            for m in found:
                errors.append("%s:%d: cites a document outside the repository (%s)"
                              % (rel, text.count("\n", 0, m.start()) + 1, m.group(0)))
        for n, line in cited(text):
            if n not in numbered:
                errors.append("%s:%d: invariant %d is not in doc/invariants.md"
                              % (rel, line, n))
    check_tests_paragraphs()
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
