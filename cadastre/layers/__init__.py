"""Public map layers: the OGC API - Features collections and the vector tiles (registry,
CRS list, query builders, tile state tokens). No personal data; no web framework."""
