"""Settings: one TOML file loaded into frozen dataclasses."""
