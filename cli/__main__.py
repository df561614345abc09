"""``python -m cli``: the ``newsarchive`` command, where its console script is not at hand."""

from cli.main import main

main()
