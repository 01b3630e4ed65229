"""How fast the command line answers: `themer --help` and `themer version` against a bare
`python -c "import typer"` measured in the same run (the floor any typer CLI pays).

    .venv/bin/python eval/bench/cli_startup.py [--repeat 15]

Targets (issue 17): `themer --help` <= 0.5 s and <= 3x the bare typer import. Prints the median
wall time of each, and the ratios; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

# a one-command typer app: what any typer CLI pays to build and print its help
MINIMAL = ("import typer\napp = typer.Typer()\n@app.command()\ndef hello(name: str = 'x') -> None:"
           "\n    print(name)\n@app.command()\ndef bye() -> None:\n    pass\napp()")
COMMANDS = {
    "python -c 'import typer' (baseline)": [sys.executable, "-c", "import typer"],
    "minimal typer app --help": [sys.executable, "-c", MINIMAL, "--help"],
    "themer --help": [sys.executable, "-m", "themer", "--help"],
    "themer version": [sys.executable, "-m", "themer", "version"],
}


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    for command in COMMANDS.values():  # warm the file cache once
        wall(command)
    # interleaved, so a busy moment on a shared machine hits every command alike
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, command in COMMANDS.items():
            times[name].append(wall(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    baseline = medians["python -c 'import typer' (baseline)"]
    for name, value in medians.items():
        print(f"{name:40s} median {value:.3f} s  ({value / baseline:.2f}x baseline)")
    floor = medians["minimal typer app --help"]
    print(f"themer --help against a minimal typer app's --help: "
          f"{medians['themer --help'] / floor:.2f}x")
    helped = medians["themer --help"]
    ok = helped <= 0.5 and helped <= 3 * baseline
    print(f"target themer --help <= 0.5 s and <= 3x baseline: "
          f"{'met' if ok else 'MISSED'} ({helped:.3f} s, {helped / baseline:.2f}x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
