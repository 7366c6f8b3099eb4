"""Core: coordinates, files, the layer contract, settings, projects and the store."""
