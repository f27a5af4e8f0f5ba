"""Which program runs a code file, by its extension: one declarative table."""

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath

from havenkit.sandbox.command import CODE_MOUNT

PYTHON_JOB = Path(__file__).with_name("python_job.py")


class LanguageUnavailable(Exception):
    """The code file's language cannot run on this haven; the message says why."""


@dataclass(frozen=True)
class Language:
    name: str
    program: str
    arguments: tuple[str, ...]


LANGUAGES: dict[str, Language] = {
    # -u: unbuffered, so the log shows output as the job runs rather than when it ends. The file
    # runs under python_job.py, which leaves without the C++ teardown that can abort a finished
    # pyarrow script; given by path, so the job imports nothing of havenkit it does not use.
    ".py": Language("Python", sys.executable, ("-u", str(PYTHON_JOB))),
    ".R": Language("R", "Rscript", ("--vanilla",)),
}


def command_for(file_name: str, search_path: str | None = None) -> tuple[str, ...]:
    """The argv that runs ``/code/<file_name>`` inside the sandbox.

    ``search_path`` is where to look for the program (default: this process's PATH).
    """
    suffix = PurePath(file_name).suffix
    try:
        language = LANGUAGES[suffix]
    except KeyError:
        known = ", ".join(sorted(LANGUAGES))
        raise LanguageUnavailable(
            f"havenkit does not know how to run {suffix or 'files without an extension'}: "
            f"code files must end in one of {known}."
        ) from None
    program = shutil.which(language.program, path=search_path)
    if program is None:
        raise LanguageUnavailable(
            f"{language.name} is not installed on this haven, so {file_name} cannot run. "
            "Ask the haven's administrators to install it."
        )
    return (program, *language.arguments, f"{CODE_MOUNT}/{file_name}")
