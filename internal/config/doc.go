// Package config holds twofold's settings: defaults, the optional YAML file, TWOFOLD_* environment overrides and validation.
package config
