// Package support owns the support desk: cases opened by people who cannot sign in, proof of e-mail ownership, and the audited MFA reset an agent performs after verifying who they are.
package support
