package zxcvbn

import (
	"encoding/json"
	"os"
	"testing"
)

// TestEstimatesAsUpstream compares scores and guesses with those of
// github.com/trustelem/zxcvbn v1.0.1, which the fork is (testdata/upstream.json: the
// passwords of its own reference file and others, some with user inputs): building the
// dictionaries at the first estimate must not change an estimate.
func TestEstimatesAsUpstream(t *testing.T) {
	b, err := os.ReadFile("testdata/upstream.json")
	if err != nil {
		t.Fatal(err)
	}
	var want []struct {
		Password   string   `json:"password"`
		UserInputs []string `json:"user_inputs"`
		Guesses    float64  `json:"guesses"`
		Score      int      `json:"score"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) < 90 {
		t.Fatalf("only %d reference estimates", len(want))
	}
	for _, w := range want {
		got := PasswordStrength(w.Password, w.UserInputs)
		if got.Score != w.Score || got.Guesses != w.Guesses {
			t.Errorf("%q (user inputs %q): score %d, guesses %v; upstream %d, %v", w.Password, w.UserInputs, got.Score, got.Guesses, w.Score, w.Guesses)
		}
	}
}
