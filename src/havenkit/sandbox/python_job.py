"""Run a researcher's Python file as ``python file.py`` would, then leave without C++ teardown.

pyarrow (under pandas' ``read_parquet``) can abort a finished script as Python exits:
``terminate called without an active exception``, exit status 134, after every output was
written (apache/arrow#34314). The abort comes from C++ destructors that ``exit()`` runs while
Arrow's reading threads are still stopping. So this runs the file, then does what a normal
exit does for Python code (waits for the file's own threads, runs ``atexit`` functions, drops
the file's variables so its open files are flushed and closed, flushes the streams) and leaves
with ``os._exit``, which runs no C++ destructor. The exit status is Python's: 0, the code given
to ``sys.exit``, or 1 after an uncaught exception, whose traceback starts in the file.

Usage inside the sandbox: ``python -u .../havenkit/sandbox/python_job.py /code/analysis.py``
(by path, not ``-m``: the package's ``__init__`` imports the sandbox runner, which a job has
no use for and cannot load). It imports only the standard library.
"""

import atexit
import builtins
import gc
import os
import sys
import threading
import tokenize
import traceback
import types
from pathlib import Path


def _exit_status(request: SystemExit) -> int:
    """The status ``sys.exit(code)`` gives: None is 0, a number itself, anything else printed."""
    if request.code is None:
        return 0
    if isinstance(request.code, int):
        return request.code
    print(request.code, file=sys.stderr)
    return 1


def _print_from_file(error: BaseException, script: str) -> None:
    """The traceback as Python prints it for a script: from the script's first frame on."""
    frames = error.__traceback__
    while frames is not None and frames.tb_frame.f_code.co_filename != script:
        frames = frames.tb_next
    traceback.print_exception(type(error), error, frames)


def run(script: str) -> int:
    """Run ``script`` as ``__main__`` and return the exit status Python would give."""
    sys.argv = [script]
    sys.path[0] = str(Path(script).parent)
    # The file's own __main__ module, as `python file.py` makes, so pickling (multiprocessing)
    # finds what the file defines.
    main_module = types.ModuleType("__main__")
    main_module.__file__ = script
    main_module.__builtins__ = builtins
    sys.modules["__main__"] = main_module
    variables = main_module.__dict__
    try:
        with tokenize.open(script) as source:
            code = compile(source.read(), script, "exec", dont_inherit=True)
        exec(code, variables)  # noqa: S102 (running the researcher's file is the point)
        status = 0
    except SystemExit as request:
        status = _exit_status(request)
    except BaseException as error:
        _print_from_file(error, script)
        status = 1
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    atexit._clear()
    variables.clear()
    gc.collect()
    return status


def main() -> None:
    status = run(sys.argv[1])
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
