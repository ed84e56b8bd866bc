"""The sandbox storefront world: a seeded simulation of one brand's online channel, served on 127.0.0.1.

``World(seed=, products=, day=)`` holds the catalog, prices by day and the ground truth;
``serve(world)`` starts one origin per storefront family; ``write_workspace(path, world)`` writes the
matching catalog, policies and site profiles.
"""

from demo.server import Running, serve
from demo.workspace import write_workspace
from demo.world import World, default_origins

__all__ = ["Running", "World", "default_origins", "serve", "write_workspace"]
