// Package secrets owns the master key, the purpose-bound sub-keys derived from it and AES-256-GCM encryption at rest.
package secrets
