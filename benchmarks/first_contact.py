"""What a newcomer waits for: the README's example, the demo and the docs build, as written.

Each runs in a fresh Python process exactly as a user runs it (the README's first
Python code block, ``examples/quickstart.py``, and with ``--docs`` the Sphinx build with
its gallery), with the machine ``idle`` and ``loaded`` (as many processes as cores
spinning in a busy loop, like a laptop with other work). Prints wall seconds.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/first_contact.py [--docs] \
        [--states idle loaded]

Run it from the repository root without ``OMP_NUM_THREADS``: the point is what a
user gets.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from threads import machine

ROOT = Path(__file__).resolve().parent.parent


def readme_example():
    """The first ``.. code-block:: python`` of README.rst, dedented."""
    text = (ROOT / "README.rst").read_text()
    block = re.search(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text).group(1)
    return "\n".join(line[4:] for line in block.splitlines()) + "\n"


def timed(command, cwd):
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", action="store_true", help="also time the docs build")
    parser.add_argument("--states", nargs="+", default=["idle", "loaded"])
    args = parser.parse_args()
    print(f"{'machine':8} {'what':34} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder, "readme_example.py")
        script.write_text(readme_example())
        runs = {
            "README example": [sys.executable, str(script)],
            "demo (examples/quickstart.py)": [
                sys.executable,
                str(ROOT / "examples/quickstart.py"),
            ],
        }
        if args.docs:
            runs["docs build (gallery included)"] = [
                sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-E",
                # Execute every gallery example, as a fresh clone does, whatever
                # sphinx-gallery cached from an earlier build of this checkout.
                "-D", "sphinx_gallery_conf.run_stale_examples=1",
                "-b", "html", str(ROOT / "docs"), str(Path(folder, "html")),
            ]  # fmt: skip
        for state in args.states:
            with machine(state):
                for what, command in runs.items():
                    seconds = timed(command, cwd=folder if "README" in what else ROOT)
                    print(f"{state:8} {what:34} {seconds:8.1f}", flush=True)


if __name__ == "__main__":
    os.environ.pop("OMP_NUM_THREADS", None)
    main()
