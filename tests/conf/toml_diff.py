#!/usr/bin/env python3
"""toml_tomllib_diff: src/conf/toml.c against Python's tomllib.

    toml_diff.py TOML_DUMP CORPUS_DIR

The corpus names say what is expected:
  valid_*.toml   both accept, and the values are equal (types included:
                 true is not 1);
  bad_*.toml     both refuse;
  subset_*.toml  tomllib accepts, ours refuses saying the construct is not
                 supported (floats, dates, multi-line strings).
Then 600 documents generated from a fixed seed out of fragments (keys,
headers, values, broken pieces) go through both: where ours accepts,
tomllib must accept the same values; where tomllib refuses, ours must
refuse; ours may refuse what tomllib accepts only with a "not supported"
or "out of range" (64-bit) message.  Exit 77 without tomllib (Python < 3.11).
"""
import json
import os
import random
import subprocess
import sys
import tempfile

try:
    import tomllib
except ImportError:
    print("toml_diff: SKIP: needs Python 3.11's tomllib (Debian package python3 >= 3.11)")
    sys.exit(77)

SUBSET_WORDS = ("not supported", "out of range")


def norm(v):
    """Tag types so True != 1 and tables compare by content."""
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        return ("int", v)
    if isinstance(v, str):
        return ("str", v)
    if isinstance(v, list):
        return ("array", [norm(x) for x in v])
    if isinstance(v, dict):
        return ("table", {k: norm(x) for k, x in v.items()})
    return ("other", repr(v))


CACHE = {}


def ours_batch(dump, paths):
    """One toml_dump process for many files (one output line each)."""
    r = subprocess.run([dump, "--each"] + paths, capture_output=True, timeout=60)
    lines = r.stdout.decode("utf-8", "replace").split("\n")
    if r.returncode != 0 or len(lines) < len(paths):
        raise SystemExit(f"toml_dump crashed: rc={r.returncode} {r.stderr.decode()[-600:]}")
    for p, line in zip(paths, lines):
        CACHE[p] = (False, line) if line.startswith("ERROR ") else (True, json.loads(line))


def ours(dump, path):
    if path in CACHE:
        return CACHE[path]
    r = subprocess.run([dump, path], capture_output=True, timeout=20)
    out = r.stdout.decode("utf-8", "replace")
    if r.returncode == 0:
        return True, json.loads(out)
    if r.returncode == 1 and out.startswith("ERROR "):
        return False, out.strip()
    raise SystemExit(f"toml_dump crashed on {path}: rc={r.returncode} {r.stderr.decode()[-400:]}")


def theirs(data):
    try:
        return True, tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        return False, str(e)


def compare(dump, path, data, expect, seen=None):
    """Returns a failure message or None; expect is valid/bad/subset/any.
    seen (a list) gets (ours accepted, tomllib accepted)."""
    ok_o, v_o = ours(dump, path)
    ok_t, v_t = theirs(data)
    if seen is not None:
        seen.extend([ok_o, ok_t])
    if expect == "valid" and not (ok_o and ok_t):
        return f"expected valid: ours={v_o if not ok_o else 'ok'} tomllib={v_t if not ok_t else 'ok'}"
    if expect == "bad" and (ok_o or ok_t):
        return f"expected refusal: ours={'accepted' if ok_o else v_o} tomllib={'accepted' if ok_t else v_t}"
    if expect == "subset":
        if not ok_t:
            return f"tomllib refuses a subset_ document: {v_t}"
        if ok_o or not any(w in v_o for w in SUBSET_WORDS):
            return f"ours should refuse as outside the subset: {v_o if not ok_o else 'accepted'}"
        return None
    if ok_o and ok_t:
        if norm(v_o) != norm(v_t):
            return f"values differ:\n  ours    {v_o}\n  tomllib {v_t}"
        return None
    if ok_o and not ok_t:
        return f"ours accepts what tomllib refuses ({v_t})"
    if ok_t and not ok_o and not any(w in v_o for w in SUBSET_WORDS):
        return f"ours refuses a valid document: {v_o}"
    return None


KEYS = ["a", "b", "c", "a.b", "b.c", '"a"', "'b'", "a . c", "1", "-", '"a.b"', "x.y.z"]
VALUES = ["1", "-2", "0x1F", "1_000", "true", "false", '"s"', "'lit'", '"\\u00e9"', "[]",
          "[1, 2]", "[[1], ['a']]", "{}", "{ a = 1 }", "{ a.b = 1, c = 'd' }", "[{a = 1}]",
          "9223372036854775807", "9223372036854775808", "1.5", "0o17", "0b11",
          # broken ones
          "01", "1__2", '"\\q"', "[1 2]", "{a = 1,}", "tru", '"open', "0x", "+0x1", "[1,,]",
          "1979-05-27", '"\\e"', "[", "{"]
HEADERS = ["[a]", "[b]", "[a.b]", "[a.c]", "[[a]]", "[[b]]", "[[a.d]]", "[x.y]", "[ 'q' ]",
           "[a", "[[a]", "[]", "[a.b.c]"]


def generate(rng):
    lines = []
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        if r < 0.25:
            lines.append(rng.choice(HEADERS))
        elif r < 0.9:
            lines.append(f"{rng.choice(KEYS)} = {rng.choice(VALUES)}")
        else:
            lines.append(rng.choice(["# c", "", "  ", "a = 1 # c", "=", "a =", "a = 1 2"]))
    return ("\n".join(lines) + rng.choice(["\n", "", "\r\n"])).encode()


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    dump, corpus = sys.argv[1], sys.argv[2]
    failures = []
    counts = {"valid": 0, "bad": 0, "subset": 0}
    for name in sorted(os.listdir(corpus)):
        kind = name.split("_", 1)[0]
        if kind not in counts:
            continue
        path = os.path.join(corpus, name)
        with open(path, "rb") as f:
            data = f.read()
        msg = compare(dump, path, data, kind)
        counts[kind] += 1
        if msg:
            failures.append(f"{name}: {msg}")
    rng = random.Random(20261202)
    agree = {"both accept": 0, "both refuse": 0, "outside subset": 0}
    with tempfile.TemporaryDirectory(prefix="vnetctl-toml-") as tmp:
        gen = []
        for k in range(600):
            data = generate(rng)
            path = os.path.join(tmp, f"gen{k}.toml")
            with open(path, "wb") as f:
                f.write(data)
            gen.append((path, data))
        ours_batch(dump, [p for p, _ in gen])
        for k, (path, data) in enumerate(gen):
            seen = []
            msg = compare(dump, path, data, "any", seen)
            if msg:
                failures.append(f"generated #{k} {data!r}: {msg}")
                continue
            ok_o, ok_t = seen
            agree["both accept" if ok_o else "both refuse" if not ok_t else "outside subset"] += 1
    print(f"toml_diff: corpus valid={counts['valid']} bad={counts['bad']} subset={counts['subset']}; "
          f"generated: {agree}")
    for f in failures:
        print("FAIL", f)
    if counts["valid"] == 0 or counts["bad"] < 30 or agree["both accept"] < 50 or agree["both refuse"] < 50:
        print("FAIL: corpus or generated set too small for the check to mean anything")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
