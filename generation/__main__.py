"""`python -m generation ...`: see generation/cli.py."""

from generation.cli import main

raise SystemExit(main())
