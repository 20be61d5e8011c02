"""Run one command and report what it cost: ``python -I -S _spawn.py FD ARGV…``.

The harness starts every measured command through this script rather than directly. On
Linux a child's "max RSS" starts at the resident size of the process that spawned it (the
kernel keeps the old address space's high-water mark across ``exec``), so commands
spawned by the harness itself, which holds boto3 and hvac for seeding, would all seem to
need 100 MB. This script, run without ``site`` (``-S``) and in isolated mode (``-I``),
stays near 10 MB: the floor of every figure is that, the same for every tool.

It times the command from fork to reaped and writes one JSON object to file descriptor FD.
The command inherits the working directory, the environment and stdin/stdout/stderr.
"""

import json
import os
import sys
import time


def main() -> None:
    result_fd, argv = int(sys.argv[1]), sys.argv[2:]
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(result_fd)
            os.execvp(argv[0], argv)
        except OSError as exc:
            os.write(2, f"cannot run {argv[0]}: {exc}\n".encode())
        os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    result = {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "max_rss_kib": usage.ru_maxrss,
        "returncode": os.waitstatus_to_exitcode(status),
    }
    os.write(result_fd, json.dumps(result).encode())


if __name__ == "__main__":
    main()
