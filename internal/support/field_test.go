package support

import "testing"

// TestFieldMessagesReadAsSentences: a field's English message reads as one sentence when the
// reason goes on from the field's name, and as two when the reason is a sentence of its own.
func TestFieldMessagesReadAsSentences(t *testing.T) {
	for _, tc := range []struct{ field, msg, want string }{
		{"reason", "is required.", `Field "reason" is required.`},
		{"phone", "may contain only digits, spaces and + - ( ) . /", `Field "phone" may contain only digits, spaces and + - ( ) . /`},
		{"email", "An address in brackets is not accepted.", `Field "email": An address in brackets is not accepted.`},
	} {
		if got := badField(tc.field, tc.msg, "err.field_required").Error(); got != "bad_request: "+tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
