"""First-run backlog: memory and time per message for a small and a large backlog.

Memory must stay bounded by the batch size, not by the backlog, and the cost of one message
must not grow with the backlog. Each size runs in its own process (so peak memory is its own);
both ratios are measured in this same run.
Run: python bench/bench_backlog.py [small] [large]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def one(count: int) -> dict[str, float]:
    from config.settings import load_settings
    from daemon.app import build_runtime
    from tests.crashkit import corpus

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        maildir = root / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True)
        for number, raw in enumerate(corpus(count, seed=count)):
            (maildir / "new" / f"1700000000.M{number}P1.bench").write_bytes(raw)
        config = root / "aftersale.toml"
        config.write_text(
            '[seller]\nname = "Shop"\naddress = "support@shop.example"\n'
            '[mailbox]\nkind = "maildir"\npath = "Maildir"\nbatch_size = 50\n'
            '[store]\npath = "state"\nfsync = false\n',
            encoding="utf-8",
        )
        runtime = build_runtime(load_settings(config, {}), env={})
        runtime.pipeline.pending_count()
        list(runtime.pipeline._classify("warm up the language model", None) for _ in range(1))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        handled = sum(1 for _ in runtime.pipeline.process_new())
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        assert handled == count, f"handled {handled} of {count}"
        return {"peak_mib": after, "growth_mib": after - before, "ms_per_message": elapsed * 1000 / count}


def run_in_child(count: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--one", str(count)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(int(sys.argv[2]))))
        return
    small = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    large = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    a, b = run_in_child(small), run_in_child(large)
    for count, r in ((small, a), (large, b)):
        print(f"backlog {count:>6}: peak {r['peak_mib']:6.1f} MiB (grew {r['growth_mib']:5.1f} MiB while handling), {r['ms_per_message']:6.2f} ms per message")
    print(f"ratio large/small ({large // small}x the mail): peak memory {b['peak_mib'] / a['peak_mib']:.2f}, "
          f"time per message {b['ms_per_message'] / a['ms_per_message']:.2f} (both targets: < 1.5)")


if __name__ == "__main__":
    main()
