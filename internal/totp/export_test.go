package totp

// CodeDigits exposes the code generator with a chosen number of digits, so
// the tests can check the 8-digit RFC 6238 vectors.
var CodeDigits = code
