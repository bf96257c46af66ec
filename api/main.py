"""Entry point for uvicorn (`cadastre serve`): builds the settings from the environment."""

from fastapi import FastAPI

from api.app import create_app
from cadastre.settings import Settings


def app_factory() -> FastAPI:
    return create_app(Settings())
