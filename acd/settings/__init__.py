"""Configuration: YAML files in ``config/`` validated once at start into frozen settings."""
