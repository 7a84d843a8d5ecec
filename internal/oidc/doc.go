// Package oidc is twofold's OpenID Connect provider: it implements the storage of
// github.com/zitadel/oidc's op package on twofold's store, and ties its authorization
// requests to twofold's own sign-in, so that applications get users whose login MFA protects.
package oidc
