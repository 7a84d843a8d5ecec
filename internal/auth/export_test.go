package auth

// Parsers of the browser's WebAuthn answers, for the fuzz test.
var (
	ParseCreation  = parseCreation
	ParseAssertion = parseAssertion
)
