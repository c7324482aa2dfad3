"""What every `tutor` command's exit status means, declared once."""

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and found a problem (a failed build, a broken lesson, ...)
EXIT_NO_ENGINE = 2  # no Docker engine answered (or the command line was wrong)
EXIT_USAGE = EXIT_NO_ENGINE  # the command line, or a file or folder it names, was wrong (the same status)
