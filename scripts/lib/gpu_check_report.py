"""JSON work for scripts/gpu-check.sh, with the Python standard library only (GPU servers have Python but
not necessarily jq).

    gpu_check_report.py identity RUN_DIR OUT.json    the entropy identity of a SAC-ERA run's log
    gpu_check_report.py field FILE.json KEY…         one value of a record (settings or figures)
    gpu_check_report.py merge PARTS_DIR OUT.json     every part into one file, with the ratios to peers
"""

import json
import pathlib
import statistics
import sys

# The Gaussian's entropy ERA sets equals its target H0 + delta up to float32 rounding: a run whose
# logged `policy/gaussian_entropy` leaves this band has an activation that does not do its job.
IDENTITY_TOLERANCE = 1e-3


def identity(run_dir, out):
    lines = pathlib.Path(run_dir, "run.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    era = header["era"]
    target = era["h0"] + (era.get("delta") or 0.0)
    entropies, rates = [], []
    for line in lines[1:]:
        rec = json.loads(line)
        metrics = rec.get("metrics", {})
        if "policy/gaussian_entropy" in metrics:
            entropies.append(metrics["policy/gaussian_entropy"])
        if "perf/steps_per_sec" in metrics:
            rates.append(metrics["perf/steps_per_sec"])
    worst = max((abs(e - target) for e in entropies), default=float("inf"))
    ok = bool(entropies) and worst <= IDENTITY_TOLERANCE and not era.get("delta_auto", False)
    part = {
        "command": "train control",
        "backend": header["config"]["backend"],
        "settings": {"env": header["target"], "steps": header["config"]["total_steps"]},
        # The median of the logged rates: the random warm-up's and the closing evaluation's are outliers.
        "figures": {"steps_per_s": {"value": statistics.median(rates) if rates else None, "unit": "env steps/s"}},
        "checks": {
            "entropy_identity": {
                "ok": ok,
                "detail": f"{len(entropies)} records of policy/gaussian_entropy, largest |H - (H0 + delta)| "
                f"{worst:.2e} (H0 + delta = {target}, tolerance {IDENTITY_TOLERANCE})",
            }
        },
    }
    pathlib.Path(out).write_text(json.dumps(part, indent=2) + "\n")
    return 0 if ok else 1


def field(path, *keys):
    value = json.loads(pathlib.Path(path).read_text())
    for k in keys:
        value = value[k]
    print(value)
    return 0


def value(part, name):
    fig = (part or {}).get("figures", {}).get(name)
    return fig["value"] if fig else None


def merge(parts_dir, out):
    parts_dir = pathlib.Path(parts_dir)
    meta = json.loads((parts_dir / "meta.json").read_text())
    steps = {}
    for p in sorted(parts_dir.glob("*.json")):
        if p.name != "meta.json":
            steps[p.stem] = json.loads(p.read_text())
    ratios = {}
    for backend in meta["backends"]:
        for width in (256, 512):
            part = steps.get(f"{backend}-sac-{width}")
            for variant in ("era", "plain"):
                r = value(part, f"sac/update_{variant}_vs_jax")
                if r is not None:
                    ratios[f"{backend}/sac_{variant}_{width}_vs_jax"] = r
        for name, key in [
            ("resnet18_train_vs_torch", ("resnet18", "resnet18/train_plain_vs_torch")),
            ("qwen2_update_vs_torch", (f"grpo-random-{meta['qwen2']}", "grpo_update_plain_vs_torch")),
        ]:
            r = value(steps.get(f"{backend}-{key[0]}"), key[1])
            if r is not None:
                ratios[f"{backend}/{name}"] = r
    failed = sorted(name for name, s in steps.items() if "error" in s)
    checks = {
        f"{name}/{check}": c for name, s in steps.items() for check, c in s.get("checks", {}).items()
    }
    broken = sorted(k for k, c in checks.items() if not c["ok"])
    report = {
        **meta,
        "passed": not failed and not broken,
        "failed_steps": failed,
        "failed_checks": broken,
        "ratios": ratios,
        "steps": steps,
    }
    pathlib.Path(out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for k, r in sorted(ratios.items()):
        print(f"  {k:<40} {r:8.3f}×")
    for name in failed:
        print(f"  failed: {name}: {steps[name]['error']}")
    for name in broken:
        print(f"  check failed: {name}: {checks[name]['detail']}")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    sys.exit({"identity": identity, "field": field, "merge": merge}[command](*args))
