"""CI's mutation smoke (tests/README.md, "Mutation testing"): one small module through the whole
mutmut tooling, a few minutes; fails when more of its mutants survive than were judged equivalent.

It runs in a scratch copy of the working tree whose ``[tool.mutmut]`` is the project's with the
scope narrowed to the module and the test selection to the tests that reach it: the smoke's time
does not grow with ``make mutate``'s scope, and ``make mutate``'s ``mutants/`` is left alone.

    python .ci/mutate_smoke.py --module ui/guard.py \
        --tests tests/test_guard.py tests/test_bug_guards.py --equivalent 10
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# train/: tests/test_reader_calibration.py imports train.loco (as [tool.mutmut] also_copy says).
COPIED = ("rag", "ui", "evals", "train", "tests", "seeds", "README.md", "pyproject.toml")
# `mutmut results` lists every mutant not killed; a timeout is counted as killed, as mutmut does.
KILLED_LIKE = ("timeout",)


def narrowed(pyproject: str, module: str, tests: list[str]) -> str:
    """``pyproject.toml`` with ``[tool.mutmut]``'s scope and test selection replaced."""
    for key, values in (("only_mutate", [module]), ("pytest_add_cli_args_test_selection", tests)):
        pattern = re.compile(rf"^{key} = \[.*?\]$", re.S | re.M)
        pyproject, found = pattern.subn(f"{key} = {json.dumps(values)}", pyproject, count=1)
        if found != 1:
            raise SystemExit(
                f"No `{key} = [...]` in pyproject.toml's [tool.mutmut]: fix the smoke."
            )
    return pyproject


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="ui/guard.py")
    parser.add_argument(
        "--tests", nargs="+", default=["tests/test_guard.py", "tests/test_bug_guards.py"]
    )
    parser.add_argument("--equivalent", type=int, default=10, help="survivors judged equivalent")
    parser.add_argument("--max-children", default="2")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    args = parser.parse_args()

    mutmut = str(Path(sys.executable).parent / "mutmut")
    dotted = args.module.removesuffix(".py").replace("/", ".")
    scratch = Path(tempfile.mkdtemp(prefix="mutate-smoke-"))
    started = time.monotonic()
    try:
        for name in COPIED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(
                    source, scratch / name, ignore=shutil.ignore_patterns("__pycache__")
                )
            else:
                shutil.copy2(source, scratch / name)
        config = scratch / "pyproject.toml"
        config.write_text(narrowed(config.read_text("utf-8"), args.module, args.tests), "utf-8")
        run = [mutmut, "run", "--max-children", args.max_children, f"{dotted}.*"]
        print("mutate-smoke:", " ".join(run), f"(in {scratch})", flush=True)
        subprocess.run(run, cwd=scratch, check=True)
        results = subprocess.run(
            [mutmut, "results", "--all", "true"],
            cwd=scratch,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        if args.keep:
            print(f"mutate-smoke: the copy stays in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    status = {}
    for line in results.splitlines():
        name, _, state = line.strip().rpartition(": ")
        if name.startswith(f"{dotted}."):
            status[name] = state
    counts = {state: list(status.values()).count(state) for state in sorted(set(status.values()))}
    alive = sorted(n for n, s in status.items() if s != "killed" and s not in KILLED_LIKE)
    minutes, seconds = divmod(round(time.monotonic() - started), 60)
    print(f"mutate-smoke: {dotted}: {len(status)} mutants, {counts}, {minutes} min {seconds} s")
    for name in alive:
        print(f"    {name}: {status[name]}")
    if not status:
        print("mutate-smoke: FAILED: mutmut reported no mutant of the module.")
        return 1
    if len(alive) > args.equivalent:
        print(
            f"mutate-smoke: FAILED: {len(alive)} mutants not killed, {args.equivalent} judged "
            "equivalent (tests/README.md): a test got weaker, or kill the new survivors."
        )
        return 1
    print(f"mutate-smoke: ok ({len(alive)} not killed, {args.equivalent} judged equivalent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
