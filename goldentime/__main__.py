# `python -m goldentime`: the program entry point runs the command table of the upper floor
# (the one import of ops from goldentime/, allowed by name in the import-linter contracts).
from ops.cli import main

main()
