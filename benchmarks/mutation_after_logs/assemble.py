"""Assemble benchmarks/mutation_after.json from the after run's passes (logs, JSON where written)
and the --only re-runs of the survivors with their new tests."""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, "/work/wt-mut2/tools")
import mutate  # noqa: E402

sys.modules["mutate"] = mutate
D = Path("/tmp/mut-after")
mutants = mutate.load_mutants("/work/wt-mut2/tools/mutants.py")
by_id = {m.id: m for m in mutants}
LINE = re.compile(r"^\[\d+/\d+\] ([^:]+): (\w+)(?: by (.*))? \(([\d.]+) s\)$", re.M)
PASSES = [  # (log, json, commit of the tree the pass ran on); a later pass's verdict replaces an earlier one
    ("log1.txt", None, "9e84794"),
    ("log3-final.txt", None, "ccbb20b"),
    ("log4-final.txt", None, "bfdd133"),
    ("log5-final.txt", None, "0295a9d"),
    ("log6-final.txt", None, "ba0aa0c"),
    ("log7-final.txt", None, "c1f7b6f"),
]
results = {}
for log, js, commit in PASSES:
    full = {}
    if js and (D / js).exists():
        full = {r["id"]: r for r in json.loads((D / js).read_text())["results"]}
    for mid, status, by, secs in LINE.findall((D / log).read_text()):
        if by and "signal 9" in by:  # cut off by the stop between passes, not a verdict
            continue
        m = by_id[mid]
        r = full.get(mid) or dict(
            id=mid,
            file=m.file,
            description=m.description,
            tests=list(m.tests),
            status=status,
            seconds=float(secs),
            returncode=None,
            killed_by=by or None,
            detail="(from the pass's log)",
            kernel=None,
            equivalent=m.equivalent,
            observed=None,
        )
        r["tree"] = commit
        results[mid] = r
rechecks = {}
for name in sorted(D.glob("recheck*.json")):
    for r in json.loads(name.read_text())["results"]:
        rechecks[r["id"]] = r
first_run = {
    mid: float(secs) for mid, status, by, secs in LINE.findall((D / "log1.txt").read_text()) if status == "survived"
}  # the first pass, on the merge itself (9e84794), stopped after 32
PARTIAL = {  # survivors-to-be whose pass was stopped (to rerun the list with their new test) before the end
    "run-safety-net": "no failure in 515 s of its selection (tree bfdd133), pass stopped; "
    "no test reached _check_finite",
    "mem-recorded": "no failure in 420 s of its selection (tree 0295a9d), pass stopped",
    "res-format-exact": "no failure in 434 s of its selection (tree 0295a9d), pass stopped",
    "eng-warn-float64": "no failure in 260 s of its selection (tree ba0aa0c), pass stopped",
}
ordered = []
for m in mutants:
    r = results.get(m.id)
    if r is None:
        r = dict(
            id=m.id,
            file=m.file,
            description=m.description,
            tests=list(m.tests),
            status="not run",
            equivalent=m.equivalent,
        )
    if (r["status"] == "survived" or (r["status"] == "not run" and m.id in PARTIAL)) and m.id in rechecks:
        again = rechecks[m.id]
        first = f"survived ({r['seconds']:.0f} s, tree {r['tree']})" if r["status"] == "survived" else None
        r = {**again, "first_pass": first, "tree": "with its new test"}
    if m.id in PARTIAL and m.id not in results or (m.id in PARTIAL and not r.get("first_pass")):
        r["first_pass"] = PARTIAL[m.id]
    if m.id in first_run:
        r["first_pass"] = f"survived ({first_run[m.id]:.0f} s, tree 9e84794)"
    ordered.append(r)
count = lambda *s: sum(r["status"] in s for r in ordered)  # noqa: E731
killed, survived = count("killed", "timeout"), count("survived")
out = {
    "command": "python tools/mutate.py --check-equivalent --jobs 2 --timeout 1800 --json ... (in passes, see passes)",
    "passes": [dict(log=log, commit=c) for log, _, c in PASSES],
    "machine": "2-core AMD EPYC Zen 4 VM (x86_64), shared; Python 3.11.7",
    "total": len(ordered),
    "killed": killed,
    "killed_by_timeout": count("timeout"),
    "survived": survived,
    "equivalent": count("equivalent"),
    "stale": count("stale"),
    "not_run": count("not run"),
    "kill_rate": killed / (killed + survived) if killed + survived else None,
    "first_pass_survivors": [r["id"] for r in ordered if "first_pass" in r],
    "results": ordered,
}
Path(sys.argv[1]).write_text(json.dumps(out, indent=2) + "\n")
print({k: v for k, v in out.items() if k != "results"})
print("survived:", [r["id"] for r in ordered if r["status"] == "survived"])
