"""Installs the demo's simulated clock in child processes (see ``flows.clock``); inert otherwise."""

import os

if os.environ.get("PRICEWARDEN_CLOCK_OFFSET"):
    from flows import clock

    clock.install()
