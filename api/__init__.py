"""HTTP API: FastAPI application factory, problem+json errors, routers."""
