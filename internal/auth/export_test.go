package auth

// Parsers of the browser's WebAuthn answers, for the fuzz test.
var (
	ParseCreation  = parseCreation
	ParseAssertion = parseAssertion
)

// DigitZero is the zero of a decimal digit's set of ten, for the username tests.
var DigitZero = digitZero

// NotRecommended is the table of letters no new username holds, for its test.
var NotRecommended = notRecommended
