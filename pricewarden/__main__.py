"""``python -m pricewarden``: the same command as ``pricewarden``."""

from pricewarden.cli import main

main()
