"""Summarize a py-spy raw profile (collapsed stacks) by function: where the samples go.

    .venv/bin/python -m benchmarks --quick --only unthrottled_import --profile /tmp/prof
    .venv/bin/python -m benchmarks.profile_summary /tmp/prof/unthrottled_import.collapsed [--top 25]

Prints, for each thread group (the main thread, the tmdb-details workers, ...), the share of samples
in which each function is on the stack (inclusive) and at the top of the stack (self). Frames are
`function (path:line)`; lines are dropped so one function is one row.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")
_SITE = re.compile(r".*/(site-packages|lib/python3\.\d+)/")


def _short(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = _SITE.sub("", match.group("file"))
    path = path.split("/work/main/", 1)[-1]
    return f"{path}:{match.group('func')}"


def _group(thread_frame: str) -> str:
    # py-spy --threads puts `thread (0x7f..)` or `process 123:"..."` frames first; worker threads
    # of one pool are named alike, so group them by their name without the number.
    name = thread_frame.strip()
    name = name.split("): ", 1)[-1] if "): " in name else name
    name = re.sub(r"0x[0-9a-f]+", "", name)
    name = re.sub(r"_\d+", "", name)
    return name


def summarize(path: Path, top: int = 25, only_active: bool = False) -> str:
    inclusive: dict[str, Counter] = defaultdict(Counter)
    leaf: dict[str, Counter] = defaultdict(Counter)
    totals: Counter = Counter()
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        try:
            n = int(count)
        except ValueError:
            continue
        frames = stack.split(";")
        group = "all"
        if frames and (frames[0].startswith("thread") or frames[0].startswith("process")):
            group = _group(frames[0])
            frames = frames[1:]
            if frames and frames[0].startswith("thread"):
                group = _group(frames[0])
                frames = frames[1:]
        names = [_short(f) for f in frames]
        if only_active and names and any(s in names[-1] for s in ("wait", "sleep", "select", "acquire")):
            continue
        totals[group] += n
        for name in set(names):
            inclusive[group][name] += n
        if names:
            leaf[group][names[-1]] += n
    out = []
    for group, total in totals.most_common():
        out.append(f"== {group}: {total} samples")
        out.append("   inclusive%  self%   function")
        for name, n in inclusive[group].most_common(top):
            out.append(f"   {100 * n / total:9.1f}  {100 * leaf[group][name] / total:5.1f}   {name}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("profile", type=Path)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--active", action="store_true", help="drop samples whose top frame is a wait/sleep")
    args = p.parse_args(argv)
    print(summarize(args.profile, args.top, args.active))


if __name__ == "__main__":
    main()
