"""Settings, read from the environment (prefix ``PTOOL_``) -- only by the composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the workspace lives and which stores and model endpoint to use.

    Every path defaults to a place inside ``workspace`` so one folder holds all a run creates.
    """

    model_config = SettingsConfigDict(env_prefix="PTOOL_", extra="ignore")

    workspace: Path = Field(
        default=Path("data"), description="Folder for everything a run creates."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<workspace>/ptool.db (WAL)."
    )
    chroma_path: Path | None = Field(default=None, description="Default <workspace>/chroma.")
    chroma_url: str | None = Field(
        default=None, description="http://host:port of a Chroma server; overrides chroma_path."
    )
    model_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (e.g. http://localhost:8000/v1); "
        "unset = start the embedded CPU server.",
    )
    model_name: str = Field(default="ptool", description="Model name sent to the endpoint.")
    model_api_key: str = Field(default="not-needed")
    answer_grammar: bool = Field(
        default=True,
        description="Send the answer format as a grammar (vLLM structured outputs; the "
        "embedded server honours it). Turn off for endpoints without it.",
    )
    preference: Literal["off", "hint", "constrain"] = Field(
        default="constrain",
        description="The platform preference model's role: off (the LLM alone), hint (its "
        "scores in the prompt) or constrain (also narrows the answer to a confident top "
        "platform).",
    )
    preapprove: str = Field(
        default="",
        description="Comma-separated Platform.api or Platform.* entries that run without "
        "asking first (e.g. 'FoodHub.trackOrder,NewsNow.*'). Anything else that creates, "
        "changes or cancels something waits for a yes; a recipient or amount taken from "
        "history or a platform's answer is asked about even when pre-approved.",
    )
    ui_auth: SecretStr | None = Field(
        default=None,
        description="USER:PASSWORD the web app asks for (`ptool ui --auth`); required when it "
        "listens on anything but localhost. An environment variable keeps it out of `ps`.",
    )
    catalog_dir: Path | None = Field(default=None, description="Default: the shipped catalog.")
    seed_file: Path | None = Field(default=None, description="Default: the shipped personas.")

    @property
    def preapproved(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.preapprove.split(",") if p.strip())

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.workspace / 'ptool.db'}"

    @property
    def resolved_chroma_path(self) -> Path:
        return self.chroma_path or self.workspace / "chroma"
