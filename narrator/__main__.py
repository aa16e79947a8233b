"""`python -m narrator` runs the command line."""

from narrator.cli import main

# Guarded: synthesis workers are spawned, and spawn imports the main module again.
if __name__ == "__main__":
    main()
