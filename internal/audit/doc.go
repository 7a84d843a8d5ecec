// Package audit names the security events twofold records and appends them to the append-only log.
package audit
