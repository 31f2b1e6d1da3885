#!/usr/bin/env python3
"""Runs Fable's CS336 experiments from the specs in experiments/specs/.

    python3 experiments/run.py list                 # the experiments and what is done
    python3 experiments/run.py run lr               # one experiment (its data is prepared first)
    python3 experiments/run.py run all              # every experiment, in the specs' order
    python3 experiments/run.py report [NAME|all]    # only regenerate reports and tables

Every step drives the `fable` binary (FABLE=path, default .build/release/fable); this
script only orders the steps, skips the finished ones and records what each cost. Run the
same command again after an interruption: finished steps are skipped, sweeps and runs
resume from their checkpoints. Bulky intermediates (text splits, token arrays,
tokenizers, checkpoints) go to experiments/work/ (git-ignored); results the write-up cites
(metrics.jsonl, report/, tables, logs) go to experiments/results/NAME/.

Standard library only: this is a driver, not part of the product.
"""
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "experiments")
SPECS = os.path.join(HERE, "specs")
WORK = os.environ.get("FABLE_EXPERIMENTS_WORK", os.path.join(HERE, "work"))
RESULTS = os.path.join(HERE, "results")
SHARED = os.environ.get("FABLE_SHARED", os.path.join(ROOT, "..", "shared"))
FABLE = os.environ.get("FABLE", os.path.join(ROOT, ".build", "release", "fable"))


def expand(value):
    """Fills {fable} {work} {results} {shared} {root} {experiments} in strings and lists."""
    if isinstance(value, list):
        return [expand(v) for v in value]
    if isinstance(value, str):
        return value.format(fable=FABLE, work=WORK, results=RESULTS, shared=SHARED, root=ROOT, experiments=HERE)
    return value


def load_specs():
    """Every spec, in the order its `order` field gives; data preparation specs first."""
    specs = []
    for path in sorted(glob.glob(os.path.join(SPECS, "*.json"))):
        with open(path) as f:
            spec = json.load(f)
        spec.setdefault("name", os.path.splitext(os.path.basename(path))[0])
        specs.append(spec)
    return sorted(specs, key=lambda s: (s.get("order", 100), s["name"]))


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# MARK: - Steps: one command with the files it makes


def step_done(step):
    outputs = expand(step.get("outputs", []))
    return bool(outputs) and all(os.path.exists(p) for p in outputs)


def run_step(spec, step, results):
    """Runs one command unless its outputs exist; records wall time and peak memory."""
    if step_done(step):
        log(f"{spec['name']}/{step['name']}: done already")
        return
    log(f"{spec['name']}/{step['name']}: running")
    if "python" in step:
        builtin = BUILTINS[step["python"]]
        start = time.time()
        builtin(**{k: expand(v) for k, v in step.get("args", {}).items()})
        record(results, step["name"], time.time() - start, None, 0)
        return
    command = expand(step["cmd"])
    stdout_path = os.path.join(results, step["log"]) if "log" in step else None
    # The log is an output: it appears under its name only when the command succeeded.
    with open(stdout_path + ".partial" if stdout_path else os.devnull, "w") as out:
        code = timed_call(command, results, step["name"], stdout=out)
    if stdout_path and code == 0:
        os.replace(stdout_path + ".partial", stdout_path)
    if code != 0:
        sys.exit(f"{spec['name']}/{step['name']} failed (exit {code}): {' '.join(command)}")


def timed_call(command, results, name, stdout, stderr=None):
    """Runs `command` under /usr/bin/time and records its wall time and peak memory."""
    timing = os.path.join(WORK, "time.json")
    os.makedirs(WORK, exist_ok=True)
    if os.path.exists(timing):
        os.remove(timing)
    wrapped = ["/usr/bin/time", "-o", timing, "-f", '{"wall_s": %e, "max_rss_kb": %M}'] + command
    code = subprocess.call(wrapped, stdout=stdout, stderr=stderr, cwd=ROOT)
    cost = json.load(open(timing)) if os.path.exists(timing) else {}
    record(results, name, cost.get("wall_s"), cost.get("max_rss_kb"), code)
    return code


def record(results, name, wall, rss_kb, code):
    with open(os.path.join(results, "steps.jsonl"), "a") as f:
        f.write(json.dumps({"step": name, "wall_s": wall, "max_rss_mib": rss_kb and round(rss_kb / 1024, 1),
                            "exit": code, "load": os.getloadavg()[0], "at": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n")


# MARK: - Built-in data preparation (splitting text by documents, sampling documents)

SEPARATOR = "<|endoftext|>"


def documents(path):
    """The documents of a text file whose documents are separated by <|endoftext|> lines."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return [d.strip("\n") for d in text.split(SEPARATOR) if d.strip()]


def split_documents(input, train, val, every, limit_bytes=None):
    """Every `every`-th document goes to validation, the rest to training (whole documents)."""
    os.makedirs(os.path.dirname(train), exist_ok=True)
    written = 0
    with open(input, encoding="utf-8", errors="replace") as source, \
            open(train + ".tmp", "w") as t, open(val + ".tmp", "w") as v:
        index = 0
        lines = []
        for line in source:
            if line.strip() != SEPARATOR:
                lines.append(line)
                continue
            doc = "".join(lines)
            lines = []
            (v if index % every == every - 1 else t).write(doc + SEPARATOR + "\n")
            index += 1
            written += len(doc)
            if limit_bytes and written >= limit_bytes:
                break
    os.replace(train + ".tmp", train)
    os.replace(val + ".tmp", val)


def sample_documents(input, output, count, seed):
    """`count` documents drawn at random (fixed seed), joined with <|endoftext|> lines."""
    os.makedirs(os.path.dirname(output), exist_ok=True)
    docs = documents(input)
    chosen = random.Random(seed).sample(range(len(docs)), count)
    with open(output + ".tmp", "w") as f:
        f.write(("\n" + SEPARATOR + "\n").join(docs[i] for i in sorted(chosen)) + "\n")
    os.replace(output + ".tmp", output)


def prefix_bytes(input, output, megabytes):
    """The first whole lines of `input` up to `megabytes` MB."""
    limit = int(megabytes * 1e6)
    with open(input, "rb") as source, open(output + ".tmp", "wb") as out:
        written = 0
        for line in source:
            out.write(line)
            written += len(line)
            if written >= limit:
                break
    os.replace(output + ".tmp", output)


BUILTINS = {"split_documents": split_documents, "sample_documents": sample_documents, "prefix_bytes": prefix_bytes}


# MARK: - Sweeps and lists of runs


def run_finished(directory):
    """True when the run's metrics end with `finished` or `diverged`."""
    path = os.path.join(directory, "metrics.jsonl")
    if not os.path.exists(path):
        return False
    with open(path) as f:
        events = [json.loads(line).get("event") for line in f if '"event"' in line]
    return bool(events) and events[-1] in ("finished", "diverged")


def sweep(spec, results):
    """`fable sweep` over the spec's grid (it skips finished runs and resumes the others)."""
    command = [FABLE, "sweep", "--config", expand(spec["config"]), "--train", expand(spec["train"]),
               "--out", results, "--quiet"]
    if "val" in spec:
        command += ["--val", expand(spec["val"])]
    for key_values in spec["grid"]:
        command += ["--grid", key_values]
    for setting in spec.get("set", []):
        command += ["--set", setting]
    if spec.get("log_scale"):
        command.append("--log-scale")
    log(f"{spec['name']}: {' '.join(command)}")
    with open(os.path.join(results, "sweep.log"), "a") as out:
        code = subprocess.call(command, stdout=out, stderr=out, cwd=ROOT)
    if code != 0:
        sys.exit(f"{spec['name']}: fable sweep failed (exit {code}); see {results}/sweep.log")


def runs(spec, results):
    """Each named run with `fable train` (resumed when interrupted), then `fable report`."""
    for run in spec["runs"]:
        directory = os.path.join(results, run["name"])
        if run_finished(directory):
            log(f"{spec['name']}/{run['name']}: done already")
            continue
        if os.path.exists(os.path.join(directory, "checkpoints")):
            command = [FABLE, "train", "--resume", directory]
        else:
            shutil.rmtree(directory, ignore_errors=True)
            command = [FABLE, "train", "--config", expand(run.get("config", spec["config"])),
                       "--train", expand(run.get("train", spec["train"])), "--out", directory]
            val = run.get("val", spec.get("val"))
            if val:
                command += ["--val", expand(val)]
            for setting in spec.get("set", []) + run.get("set", []):
                command += ["--set", setting]
        log(f"{spec['name']}/{run['name']}: {' '.join(command)}")
        # Timed like a step, so steps.jsonl holds each run's wall time and peak memory (the
        # batch-size experiment needs the latter).
        with open(os.path.join(results, "runs.log"), "a") as out:
            code = timed_call(command, results, run["name"], stdout=out, stderr=out)
        if code not in (0,) and not run_finished(directory):
            sys.exit(f"{spec['name']}/{run['name']}: fable train failed (exit {code}); see {results}/runs.log")


def report(spec, results):
    """Regenerates the HTML report, SVG charts and the ranked table of a sweep or run list."""
    if spec.get("kind") not in ("sweep", "runs"):
        return
    names = [r["name"] for r in spec["runs"]] if spec["kind"] == "runs" else None
    directories = [os.path.join(results, n) for n in names] if names else \
        sorted(os.path.dirname(p) for p in glob.glob(os.path.join(results, "*", "metrics.jsonl")))
    directories += [os.path.join(results, n) for n in spec.get("report_extra", [])]
    directories = [d for d in directories if os.path.exists(os.path.join(d, "metrics.jsonl"))]
    if not directories:
        return
    command = [FABLE, "report", *directories, "--out", os.path.join(results, "report"),
               "--title", spec.get("title", spec["name"])]
    if spec.get("log_scale"):
        command.append("--log-scale")
    if spec["kind"] == "runs":
        command.append("--keep-order")
    with open(os.path.join(results, "table.txt"), "w") as out:
        subprocess.call(command, stdout=out, cwd=ROOT)


# MARK: - Driver


def prepare(spec_by_name, name, done):
    """Runs the data preparation specs `name` needs (each once per invocation)."""
    spec = spec_by_name[name]
    for need in spec.get("needs", []):
        if need not in done:
            prepare(spec_by_name, need, done)
    if name in done:
        return
    done.add(name)
    execute(spec)


def execute(spec):
    results = os.path.join(RESULTS, spec["name"])
    os.makedirs(results, exist_ok=True)
    for step in spec.get("steps", []):
        run_step(spec, step, results)
    kind = spec.get("kind", "steps")
    if kind == "sweep":
        sweep(spec, results)
    elif kind == "runs":
        runs(spec, results)
    for step in spec.get("after", []):
        run_step(spec, step, results)
    report(spec, results)
    log(f"{spec['name']}: complete")


def status(spec):
    if spec.get("data"):
        return "data"
    results = os.path.join(RESULTS, spec["name"])
    if spec.get("kind") == "runs":
        finished = sum(run_finished(os.path.join(results, r["name"])) for r in spec["runs"])
        return f"{finished}/{len(spec['runs'])} runs finished"
    if spec.get("kind") == "sweep":
        finished = sum(run_finished(os.path.dirname(p)) for p in glob.glob(os.path.join(results, "*", "metrics.jsonl")))
        return f"{finished} runs finished"
    steps = spec.get("steps", []) + spec.get("after", [])
    return f"{sum(step_done(s) for s in steps)}/{len(steps)} steps done"


def main(argv):
    specs = load_specs()
    by_name = {s["name"]: s for s in specs}
    if len(argv) < 2 or argv[1] not in ("list", "run", "report"):
        sys.exit(__doc__)
    if argv[1] == "list":
        for s in specs:
            print(f"{s['name']:<14} {status(s):<24} {s.get('title', '')}")
        return
    target = argv[2] if len(argv) > 2 else "all"
    chosen = [s for s in specs if not s.get("data")] if target == "all" else [by_name.get(target)]
    if None in chosen:
        sys.exit(f"no experiment '{target}'; `run.py list` shows them")
    if argv[1] == "report":
        for s in chosen:
            report(s, os.path.join(RESULTS, s["name"]))
        return
    if not os.access(FABLE, os.X_OK):
        sys.exit(f"{FABLE}: not built; run `swift build -c release --product fable` (or set FABLE=path)")
    done = set()
    for s in chosen:
        for need in s.get("needs", []):
            prepare(by_name, need, done)
        execute(s)


if __name__ == "__main__":
    main(sys.argv)
