"""`python -m dladvisor` runs the command-line interface."""

from dladvisor.cli import main

if __name__ == "__main__":
    main()
