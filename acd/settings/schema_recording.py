"""``recording.yaml``: call recording, retention, and the QA sampling rules and scorecards."""

from __future__ import annotations

import string
from typing import Annotated, Any

from pydantic import AfterValidator, Field, SecretStr, model_validator

from acd.settings.common import (
    EnvName,
    Fraction,
    FrozenModel,
    Identifier,
    PositiveSeconds,
    refuse_removed_keys,
    refuse_secret_in_file,
)

# Placeholders the recorder fills in when it names a file. Not the agent: the file is named
# when MixMonitor starts, before the first Dial, when who will answer is not known yet.
LAYOUT_FIELDS = frozenset({"date", "queue", "call_id"})


def _check_layout(value: str) -> str:
    names = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
    unknown = names - LAYOUT_FIELDS
    if unknown:
        raise ValueError(
            f"expected placeholders among {sorted(LAYOUT_FIELDS)}, got {sorted(unknown)}"
        )
    if "call_id" not in names:
        raise ValueError("expected the layout to contain {call_id} so file names are unique")
    if value.startswith("/") or ".." in value.split("/"):
        raise ValueError("expected a relative layout inside the recording directory")
    return value


class Encryption(FrozenModel):
    enabled: bool = False
    key_env: EnvName = "HOTLINE_RECORDING_KEY"
    key: SecretStr | None = Field(default=None, exclude=True)  # resolved from key_env

    @model_validator(mode="before")
    @classmethod
    def _no_key_in_file(cls, data: Any) -> Any:
        return refuse_secret_in_file(data, "key", "key_env")


class AlwaysReview(FrozenModel):
    """Calls sent to QA regardless of the random sample."""

    queues: tuple[Identifier, ...] = ()  # e.g. complaints
    shorter_than_s: PositiveSeconds | None = 20.0
    longer_than_s: PositiveSeconds | None = 900.0
    transferred: bool = True
    agent_hung_up_first: bool = True


class ScorecardItem(FrozenModel):
    id: Identifier
    text: str = Field(min_length=1)
    weight: int = Field(ge=0, le=100)
    instant_fail: bool = False  # failing it scores the whole call 0


class Scorecard(FrozenModel):
    id: Identifier
    version: int = Field(ge=1)  # scores keep the version they were made with
    title: str = Field(min_length=1)
    items: tuple[ScorecardItem, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _weights(self) -> Scorecard:
        ids = [item.id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("items expected with unique ids")
        total = sum(item.weight for item in self.items)
        if total != 100:
            raise ValueError(f"item weights expected to add up to 100, got {total}")
        return self


class QaSettings(FrozenModel):
    sample_rate: Fraction = 0.10
    always_review: AlwaysReview = AlwaysReview()
    default_scorecard: Identifier
    scorecards: tuple[Scorecard, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _scorecards(self) -> QaSettings:
        keys = [(card.id, card.version) for card in self.scorecards]
        if len(set(keys)) != len(keys):
            raise ValueError("scorecards expected with unique (id, version)")
        if self.default_scorecard not in {card.id for card in self.scorecards}:
            raise ValueError(
                f"default_scorecard expected to name one of the scorecards,"
                f" got {self.default_scorecard!r}"
            )
        return self

    def scorecard(self, card_id: str) -> Scorecard:
        """The newest version of ``card_id``."""
        return max((c for c in self.scorecards if c.id == card_id), key=lambda c: c.version)


class RecordingFile(FrozenModel):
    """The whole of ``recording.yaml``."""

    enabled: bool = True
    directory: str = "var/recordings"
    # File names under ``directory`` (``.wav`` is added); {date} is YYYY/MM/DD (UTC).
    layout: Annotated[str, AfterValidator(_check_layout)] = "{date}/{queue}/{call_id}"
    dual_channel: bool = True  # caller and agent on separate channels for speech analytics
    retention_days: int = Field(default=180, ge=1)  # a queue's recording_retention_days wins
    legal_hold: tuple[str, ...] = ()  # call ids never deleted by retention
    # A pause for sensitive data (card number) resumes on its own after this long.
    max_pause_s: PositiveSeconds = 120.0
    encryption: Encryption = Encryption()
    qa: QaSettings

    @model_validator(mode="before")
    @classmethod
    def _removed(cls, data: Any) -> Any:
        return refuse_removed_keys(
            data,
            {
                "format": "recordings are always WAV (MixMonitor takes the format from the file"
                " name, and cataloguing, QA flags and playback read WAV headers)",
            },
        )
