"""Request and response models of the API, one module per area (their class names are the
OpenAPI component names)."""
