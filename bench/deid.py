"""Benchmark: pseudonymising CHI numbers with havenkit, a plain Python ``hmac`` loop, and
OpenSSL's own HMAC-SHA-256 (the limit); and, optionally, ingesting a large CSV.

Run ``python -m bench.deid`` (10 million values) or ``python -m bench.deid --rows 1000000``.
Everything runs on one core: the process is pinned to one CPU and polars to one thread.
``--ingest-mb 200 1000`` also writes a CSV of each size (CHI, sex, date, code) and validates
it through the airlock's reader into Parquet, CHI declared as the key (so the duplicate-key
check runs too), in a child process whose peak memory is reported: the peak should stay
about the same as the file grows.
"""

import argparse
import hashlib
import hmac
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["POLARS_MAX_THREADS"] = "1"

# polars reads its thread count when first imported, so the setting above comes first.
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from havenkit.deid.chi import generate_chis
from havenkit.deid.pseudonymise import PSEUDONYM_HEX_CHARS, hmac_key_text, pseudonymise_column

OPENSSL = ["openssl", "speed", "-mr", "-seconds", "3", "-bytes", "16", "-hmac", "sha256"]


def chi_like(rows: int, seed: int = 1) -> pa.Array:
    """``rows`` strings of ten random digits, built straight into an Arrow buffer."""
    digits = np.random.default_rng(seed).integers(0, 10, size=rows * 10, dtype=np.uint8)
    offsets = np.arange(0, rows * 10 + 1, 10, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(digits + ord("0"))]
    )


def best_of(runs: int, work) -> list[float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return timings


def python_hmac_loop(values: list[str], key: bytes) -> list[str]:
    """The stdlib way, done well: one pre-keyed object copied per value."""
    keyed = hmac.new(hmac_key_text(key).encode(), digestmod=hashlib.sha256)
    out = []
    for value in values:
        mac = keyed.copy()
        mac.update(value.encode())
        out.append(mac.hexdigest()[:PSEUDONYM_HEX_CHARS])
    return out


def openssl_values_per_second() -> float:
    """OpenSSL's HMAC-SHA-256 on 16-byte inputs, from its machine-readable ``+F`` line."""
    result = subprocess.run(
        ["taskset", "-c", str(min(os.sched_getaffinity(0))), *OPENSSL],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"^\+F:\d+:hmac\(sha256\):([0-9.]+)", result.stdout, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"Unexpected openssl speed output:\n{result.stdout}{result.stderr}")
    return float(match.group(1)) / 16


def pseudonymisation(rows: int, loop_rows: int) -> None:
    key = bytes(range(32))
    column = chi_like(rows)
    havenkit_times = best_of(3, lambda: pseudonymise_column(column, key))
    havenkit_rate = rows / min(havenkit_times)
    values = column.slice(0, loop_rows).to_pylist()
    loop_rate = loop_rows / min(best_of(1, lambda: python_hmac_loop(values, key)))
    assert (
        python_hmac_loop(values[:1000], key)
        == pseudonymise_column(column.slice(0, 1000), key).to_pylist()
    ), "havenkit and the stdlib loop disagree"
    openssl_rate = openssl_values_per_second()
    cpu = platform.processor() or platform.machine()
    print(f"Pseudonymising {rows:,} CHI-like strings on one core ({cpu})")
    print(f"{'method':<44}{'values/s':>14}{'vs Python loop':>16}")
    rows_out = [
        ("havenkit pseudonymise_column (best of 3)", havenkit_rate),
        (f"Python hmac loop ({loop_rows:,} values)", loop_rate),
        ("openssl speed -hmac sha256, 16-byte inputs", openssl_rate),
    ]
    for name, rate in rows_out:
        print(f"{name:<44}{rate:>14,.0f}{rate / loop_rate:>15.2f}x")
    print(
        f"havenkit runs: {', '.join(f'{t:.2f}s' for t in havenkit_times)} "
        f"(median {rows / statistics.median(havenkit_times):,.0f}/s); "
        f"havenkit reaches {havenkit_rate / openssl_rate:.0%} of OpenSSL's rate."
    )


def write_csv(path: Path, megabytes: int) -> int:
    """A CSV of about ``megabytes`` MB of valid records: chi, sex, admitted, icd10."""
    rng = np.random.default_rng(2)
    batch_rows = 1_000_000
    schema = pa.schema(
        [
            ("chi", pa.string()),
            ("sex", pa.string()),
            ("admitted", pa.date32()),
            ("icd10", pa.string()),
        ]
    )
    rows = 0
    with pacsv.CSVWriter(path, schema) as writer:
        while path.stat().st_size < megabytes * 1_000_000:
            born = np.datetime64("1930-01-01") + rng.integers(0, 30_000, batch_rows)
            sexes = rng.choice(np.array(["F", "M"]), batch_rows)
            admitted = np.datetime64("2010-01-01") + rng.integers(0, 5000, batch_rows)
            batch = pa.table(
                {
                    "chi": pa.array(generate_chis(born, sexes, rng)),
                    "sex": pa.array(sexes),
                    "admitted": pa.array(admitted.astype("datetime64[D]")),
                    "icd10": pa.array(
                        rng.choice(np.array(["I21", "J18", "R07", "K35"]), batch_rows)
                    ),
                },
                schema=schema,
            )
            writer.write_table(batch)
            rows += batch_rows
    return rows


INGEST_CHILD = r"""
import re, sys, time
from pathlib import Path
from havenkit.data.validation import ColumnSpec, validate_file
schema = [
    ColumnSpec("chi", "chi", required=True, key=True),
    ColumnSpec("sex", "string", allowed_values=("F", "M")),
    ColumnSpec("admitted", "date"),
    ColumnSpec("icd10", "string"),
]
start = time.perf_counter()
report = validate_file(Path(sys.argv[1]), "csv", schema, Path(sys.argv[2]))
seconds = time.perf_counter() - start
# VmHWM, the peak resident memory of this process image only: getrusage's ru_maxrss would
# also count the parent's memory at fork (Linux carries it over fork and exec).
status = Path("/proc/self/status").read_text()
peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
print(f"{report.rows} {report.problem_count} {seconds:.1f} {peak:.0f}")
"""


def ingest(megabytes: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        csv_path, staged = Path(folder) / "big.csv", Path(folder) / "staged.parquet"
        start = time.perf_counter()
        write_csv(csv_path, megabytes)
        written = time.perf_counter() - start
        result = subprocess.run(
            [sys.executable, "-c", INGEST_CHILD, str(csv_path), str(staged)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows, problems, seconds, peak = result.stdout.split()
        size = csv_path.stat().st_size / 1e6
        parquet = staged.stat().st_size / 1e6
        print(
            f"\nIngest: {size:,.0f} MB CSV ({int(rows):,} rows, written in {written:.0f}s) "
            f"validated into {parquet:,.0f} MB of Parquet in {float(seconds):.1f}s "
            f"({size / float(seconds):.0f} MB/s), peak memory {peak} MiB, "
            f"{int(problems):,} problems (repeated CHIs: the generator does not avoid them)."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--loop-rows", type=int, default=10_000_000)
    parser.add_argument(
        "--ingest-mb", type=int, nargs="*", default=[], help="CSV sizes to ingest; none skips it"
    )
    options = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    pseudonymisation(options.rows, min(options.loop_rows, options.rows))
    for megabytes in options.ingest_mb:
        ingest(megabytes)


if __name__ == "__main__":
    main()
