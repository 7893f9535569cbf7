"""What content-ops produces: the catalog sync assets, the refresh queue, content packages."""
