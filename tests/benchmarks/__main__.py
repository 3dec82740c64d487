"""`make bench`: run every benchmark module's main() in turn (each prints ratios against a baseline measured in
the same run). Results and machine details are recorded in docs/benchmarks.md."""

from __future__ import annotations

import importlib
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminui.settings")
os.environ.setdefault("ADMINUI_TESTING", "1")
# Never touch the development database under var/: benchmarks get a throwaway var dir (and SQLite file) unless
# DATABASE_URL says otherwise.
os.environ.setdefault("ADMINUI_VAR_DIR", tempfile.mkdtemp(prefix="adminui-bench-"))


def main() -> int:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    here = Path(__file__).parent
    only = set(sys.argv[1:])
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    failures = 0
    for path in sorted(here.glob("bench_*.py")):
        name = path.stem
        if only and name not in only and name.removeprefix("bench_") not in only:
            continue
        print(f"\n=== {name}")
        start = time.perf_counter()
        module = importlib.import_module(f"tests.benchmarks.{name}")
        sys.argv = [str(path)]  # benchmarks with their own argparse see no foreign arguments
        try:
            result = module.main()
        except Exception as exc:  # noqa: BLE001 - report and go on with the next benchmark
            print(f"{name} FAILED: {exc!r}")
            failures += 1
            continue
        if result not in (None, 0, True):
            failures += 1
        print(f"({name} took {time.perf_counter() - start:.1f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
