"""PriceWarden package."""
