"""Long soaks (fault injection, SIGKILL), opt-in: ``-m soak`` or ``nox -s soak``."""
