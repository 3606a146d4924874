"""``load_settings``: config dir -> one frozen ``Settings``, or a ConfigError listing everything.

Order: parse and validate every file (collecting all errors), then the cross-file checks, then the
secrets from the environment. Secrets: each ``*_env`` key names an environment variable; an unset
one is an error unless ``require_secrets=False`` (``dialplan render`` needs no secrets).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

from acd.settings.crosscheck import ParsedFiles, cross_check
from acd.settings.errors import ConfigError, ConfigIssue, issues_from_validation
from acd.settings.schema_ivr import IvrFile
from acd.settings.schema_recording import RecordingFile
from acd.settings.schema_routing import AgentsFile, QueuesFile
from acd.settings.schema_service import HoursFile, TargetsFile
from acd.settings.schema_system import SystemSettings
from acd.settings.secret_checks import (
    agi_key_issues,
    exposure_issues,
    secret_issues,
    token_binding_issues,
)
from acd.settings.settings import Settings
from acd.settings.yaml_files import read_yaml

CONFIG_FILES: dict[str, type[BaseModel]] = {
    "hotline.yaml": SystemSettings,
    "queues.yaml": QueuesFile,
    "agents.yaml": AgentsFile,
    "ivr.yaml": IvrFile,
    "hours.yaml": HoursFile,
    "recording.yaml": RecordingFile,
    "targets.yaml": TargetsFile,
}

M = TypeVar("M", bound=BaseModel)


def _validate(config_dir: Path, name: str, model: type[M], issues: list[ConfigIssue]) -> M | None:
    try:
        data = read_yaml(config_dir / name)
        return model.model_validate(data)
    except ConfigError as exc:
        issues.extend(exc.issues)
    except ValidationError as exc:
        issues.extend(issues_from_validation(name, exc, model))
    return None


def _secret(
    env: Mapping[str, str], name: str, *, file: str, path: str, what: str, issues: list[ConfigIssue]
) -> SecretStr | None:
    value = env.get(name)
    if value:
        return SecretStr(value)
    issues.append(
        ConfigIssue(file, path, f"environment variable {name} is not set (expected {what})")
    )
    return None


def _with_secrets(
    system: SystemSettings, recording: RecordingFile, env: Mapping[str, str]
) -> tuple[SystemSettings, RecordingFile, list[ConfigIssue]]:
    issues: list[ConfigIssue] = []
    ami = system.ami
    secret = _secret(
        env,
        ami.secret_env,
        file="hotline.yaml",
        path="ami.secret_env",
        what="the AMI secret",
        issues=issues,
    )
    tokens = []
    for i, token in enumerate(system.http.tokens):
        value = _secret(
            env,
            token.token_env,
            file="hotline.yaml",
            path=f"http.tokens[{i}].token_env",
            what=f"the HTTP API token {token.name!r}",
            issues=issues,
        )
        tokens.append(token.model_copy(update={"token": value}))
    http = system.http.model_copy(update={"tokens": tuple(tokens)})
    if http.session_key_env is not None:
        session_key = _secret(
            env,
            http.session_key_env,
            file="hotline.yaml",
            path="http.session_key_env",
            what="the key signing browser sessions",
            issues=issues,
        )
        http = http.model_copy(update={"session_key": session_key})
    fastagi = system.fastagi
    agi_key = _secret(
        env,
        fastagi.key_env,
        file="hotline.yaml",
        path="fastagi.key_env",
        what="the FastAGI key of the dialplan's AGI URLs",
        issues=issues,
    )
    mqtt = system.mqtt
    if mqtt.password_env is not None:
        password = _secret(
            env,
            mqtt.password_env,
            file="hotline.yaml",
            path="mqtt.password_env",
            what="the MQTT broker password",
            issues=issues,
        )
        mqtt = mqtt.model_copy(update={"password": password})
    system = system.model_copy(
        update={
            "ami": ami.model_copy(update={"secret": secret}),
            "http": http,
            "fastagi": fastagi.model_copy(update={"key": agi_key}),
            "mqtt": mqtt,
        }
    )
    issues += secret_issues(system) + agi_key_issues(system)
    enc = recording.encryption
    if enc.enabled:
        key = _secret(
            env,
            enc.key_env,
            file="recording.yaml",
            path="encryption.key_env",
            what="the recording encryption key",
            issues=issues,
        )
        recording = recording.model_copy(update={"encryption": enc.model_copy(update={"key": key})})
    return system, recording, issues


def load_settings(
    config_dir: Path,
    env: Mapping[str, str] | None = None,
    *,
    require_secrets: bool = True,
) -> Settings:
    """Load and check every file of ``config_dir``; raises ConfigError with all issues found."""
    environment: Mapping[str, str] = os.environ if env is None else env
    issues: list[ConfigIssue] = []
    if not config_dir.is_dir():
        raise ConfigError([ConfigIssue(str(config_dir), "", "config directory not found")])
    parsed: dict[str, Any] = {
        name: _validate(config_dir, name, model, issues) for name, model in CONFIG_FILES.items()
    }
    if issues:
        raise ConfigError(issues)  # cross-file checks need every file parsed
    files = ParsedFiles(
        queues=parsed["queues.yaml"],
        agents=parsed["agents.yaml"],
        ivr=parsed["ivr.yaml"],
        hours=parsed["hours.yaml"],
        recording=parsed["recording.yaml"],
    )
    system_file = parsed["hotline.yaml"]
    issues = cross_check(files) + token_binding_issues(system_file, files.agents)
    issues += exposure_issues(system_file)
    system, recording, secret_issues = _with_secrets(
        parsed["hotline.yaml"], files.recording, environment
    )
    if require_secrets:
        issues += secret_issues
    if issues:
        raise ConfigError(issues)
    return Settings(
        config_dir=config_dir,
        system=system,
        skills=files.queues.skills,
        default_queue=files.queues.default_queue,
        queues=files.queues.queues,
        agents=files.agents.agents,
        ivr=files.ivr,
        calendars=files.hours.calendars,
        recording=recording,
        targets=parsed["targets.yaml"],
        callbacks=files.queues.callbacks,
        phones=files.agents.phones,
        supervisors=files.agents.supervisors,
        pause_reasons=files.agents.pause_reasons,
    )
