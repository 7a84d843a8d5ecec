// Package testserver starts a complete twofold server on a temporary SQLite database with a controllable clock, for tests.
package testserver
