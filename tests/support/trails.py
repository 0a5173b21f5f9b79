"""Each chaos seed's faults and end state as JSON lines (`CHAOS_TRAILS=<file>`), to hold issue 18's promise that
a failing seed replays: the same seed must inject the same faults at the same points, and end in the same state,
whether it runs alone in a new process or after other seeds (`make chaos-compare`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.support.chaos import SeedResult


def record(path: str, result: SeedResult) -> None:
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(json.dumps({"seed": result.seed, "faults": result.faults, "state": result.state}) + "\n")


def load(path: str) -> dict[int, dict[str, object]]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {entry["seed"]: entry for entry in map(json.loads, lines)}


def differences(first: dict[int, dict[str, object]], second: dict[int, dict[str, object]]) -> list[str]:
    """One line per seed in both whose faults or end state differ."""
    found = []
    for seed in sorted(first.keys() & second.keys()):
        a, b = first[seed], second[seed]
        if a != b:
            what = [name for name in ("faults", "state") if a[name] != b[name]]
            found.append(f"seed {seed}: {' and '.join(what)} differ")
    return found


def main(argv: list[str]) -> int:
    first, second = load(argv[0]), load(argv[1])
    found = differences(first, second)
    print("\n".join(found) or f"0 differences in {len(first.keys() & second.keys())} seeds")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
