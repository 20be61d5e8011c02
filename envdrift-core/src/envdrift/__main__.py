"""``python -m envdrift``."""

from envdrift.cli import main

if __name__ == "__main__":
    main()
