// Package totp generates and checks RFC 6238 time-based one-time codes (SHA1, 6 digits, 30 s) and builds their enrollment key URI and QR code.
package totp
