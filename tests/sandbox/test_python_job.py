"""A researcher's Python file run by havenkit.sandbox.python_job behaves as ``python file.py``:
the same exit status, traceback, threads, atexit functions and flushed files, only without the
C++ teardown at exit that can abort a finished pyarrow script."""

import subprocess
import sys
from pathlib import Path
from textwrap import dedent

from havenkit.sandbox.languages import PYTHON_JOB


def _run(folder: Path, code: str) -> subprocess.CompletedProcess:
    script = folder / "job.py"
    script.write_text(dedent(code))
    return subprocess.run(
        [sys.executable, "-u", str(PYTHON_JOB), str(script)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_file_runs_as_main_with_its_folder_importable(tmp_path):
    (tmp_path / "helpers.py").write_text("ANSWER = 42\n")
    ran = _run(
        tmp_path,
        """
        import sys
        import helpers
        print(__name__, sys.argv[0].endswith("job.py"), helpers.ANSWER)
        """,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "__main__ True 42\n"


def test_exit_status_is_pythons(tmp_path):
    assert _run(tmp_path, "import sys; sys.exit(3)").returncode == 3
    assert _run(tmp_path, "import sys; sys.exit()").returncode == 0
    message = _run(tmp_path, "import sys; sys.exit('no data')")
    assert (message.returncode, message.stderr) == (1, "no data\n")


def test_an_uncaught_exception_prints_its_traceback_from_the_file(tmp_path):
    ran = _run(tmp_path, "x = 1\nraise ValueError('bad column')\n")
    assert ran.returncode == 1
    assert ran.stderr.startswith("Traceback (most recent call last):\n")
    assert f'File "{tmp_path / "job.py"}", line 2, in <module>' in ran.stderr
    assert "runpy" not in ran.stderr
    assert ran.stderr.endswith("ValueError: bad column\n")


def test_a_syntax_error_is_reported_with_its_line(tmp_path):
    ran = _run(tmp_path, "print('fine')\nif True print('no colon')\n")
    assert ran.returncode == 1
    assert "line 2" in ran.stderr
    assert "SyntaxError" in ran.stderr


def test_threads_atexit_and_open_files_finish_before_leaving(tmp_path):
    ran = _run(
        tmp_path,
        """
        import atexit, threading, time
        log = open("unclosed.txt", "w")
        log.write("kept")
        atexit.register(lambda: print("atexit ran"))
        def slow():
            time.sleep(0.3)
            print("thread finished")
        threading.Thread(target=slow).start()
        """,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "thread finished\natexit ran\n"
    assert (tmp_path / "unclosed.txt").read_text() == "kept"
