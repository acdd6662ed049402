"""The runtime: app spec, package files, data engine, services, screens and CLI."""
