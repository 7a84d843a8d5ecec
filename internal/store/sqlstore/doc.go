// Package sqlstore implements store.Store on SQL databases: SQLite (the embedded default) and, through dialects, others.
package sqlstore
