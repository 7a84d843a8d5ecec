package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestNotText: JSON bodies holding bytes that are not UTF-8 or half a surrogate pair are
// refused (encoding/json would store U+FFFD in place of what was sent); everything else
// that is text passes, escaped backslashes included.
func TestNotText(t *testing.T) {
	for _, tc := range []struct {
		body string
		bad  bool
	}{
		{`{"name":"Ada"}`, false},
		{`{"name":"\u00e9\ud83d\ude00"}`, false}, // é and a pair: 😀
		{`{"name":"\\ud800"}`, false},            // a backslash, then the text ud800
		{`{"name":"\\\ud83d\ude00"}`, false},
		{`{"name":"\ud83d\ude00\ud83d\ude00"}`, false},
		{`{"name":"\uD83D\uDE00"}`, false},
		{`{"name":"\u"}`, false}, // not JSON: the decoder says so
		{"{\"name\":\"\xff\"}", true},
		{`{"name":"\ud800"}`, true},
		{`{"name":"\udc00"}`, true},
		{`{"name":"\ud800x"}`, true},
		{`{"name":"\ud800\u0041"}`, true},
		{`{"name":"\ud800\ud800"}`, true},
		{`{"name":"\\\ud800"}`, true},
		{`{"name":"ok","b":"\ude00\ud83d"}`, true},
		{`{"name":"\ud83d`, true},
	} {
		if got := notText([]byte(tc.body)) != ""; got != tc.bad {
			t.Errorf("%s: refused %v, want %v", tc.body, got, tc.bad)
		}
	}
}

func FuzzNotText(f *testing.F) {
	for _, s := range []string{`{"a":"\ud800"}`, `{"a":"\\"}`, `\`, `\u`, `\ud83d\ude00`} {
		f.Add([]byte(s))
	}
	// What notText lets through decodes without a U+FFFD that the body did not hold.
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if notText(b) != "" || json.Unmarshal(b, &v) != nil {
			return
		}
		out, _ := json.Marshal(v)
		if bytes.ContainsRune(out, utf8.RuneError) && !bytes.ContainsRune(b, utf8.RuneError) &&
			!bytes.Contains(bytes.ToLower(b), []byte(`\ufffd`)) {
			t.Fatalf("%q passed but decodes to %s", b, out)
		}
	})
}

// TestDuplicateKey: a key given twice in one object, as encoding/json matches keys
// (regardless of case), is found at any depth; the same key in two objects is not twice.
func TestDuplicateKey(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"username":"a","password":"b"}`, ""},
		{`{"username":"a","password":"b","username":"c"}`, "username"},
		{`{"username":"a","USERNAME":"c"}`, "USERNAME"},
		{`{"a":{"x":1,"y":2},"b":{"x":1}}`, ""},
		{`{"a":{"x":1,"x":2}}`, "x"},
		{`{"a":[{"x":1},{"x":2}],"b":["a","a"]}`, ""},
		{`{"a":[{"x":1,"x":2}]}`, "x"},
		{`{"a":"b","b":"a"}`, ""},
		{`{"a":[],"a":{}}`, "a"},
		{`{"a":{},"b":[1,{"c":[]}],"c":null,"c":1}`, "c"},
		{`{"\u0061":1,"a":2}`, "a"},
		{`{"ſ":1,"S":2}`, "S"},
		{`"x"`, ""},
		{`[1,1]`, ""},
		{`{"a":1,`, ""},
		{``, ""},
	} {
		if got := duplicateKey([]byte(tc.body)); got != tc.want {
			t.Errorf("%s: duplicateKey = %q, want %q", tc.body, got, tc.want)
		}
	}
}

// TestWrongTypeSaysWhatFits: a field of the wrong JSON type is refused naming the type that
// fits, not "a value of another type".
func TestWrongTypeSaysWhatFits(t *testing.T) {
	var dst struct {
		Invite bool     `json:"invite"`
		Scopes []string `json:"scopes"`
		N      int      `json:"n"`
		P      *bool    `json:"p"`
		O      struct{} `json:"o"`
		S      string   `json:"s"`
	}
	for body, want := range map[string]string{
		`{"invite":"true"}`:       `Field "invite" must be true or false.`,
		`{"scopes":"users:read"}`: `Field "scopes" must be a list of strings.`,
		`{"n":1.5}`:               `Field "n" must be a whole number.`,
		`{"p":"x"}`:               `Field "p" must be true or false.`,
		`{"o":[]}`:                `Field "o" must be an object.`,
		`{"s":1}`:                 `Field "s" must be a string.`,
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		err := decodeJSON(httptest.NewRecorder(), r, &dst, false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}

// TestJSONBodyShapeIsBounded: a body nesting deeper than maxJSONDepth or holding more than
// maxJSONValues values is refused before its tokens are walked (they would cost milliseconds
// each, before any rate limit); brackets, colons and commas inside strings do not count.
func TestJSONBodyShapeIsBounded(t *testing.T) {
	var dst map[string]any
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"plain", `{"username":"a","password":"b"}`, true},
		{"brackets in strings", `{"a":"` + strings.Repeat("[{:,", 2000) + `\"[{"}`, true},
		{"at the depth", strings.Repeat(`{"a":`, maxJSONDepth) + "1" + strings.Repeat("}", maxJSONDepth), true},
		{"too deep", strings.Repeat(`{"a":`, maxJSONDepth+1) + "1" + strings.Repeat("}", maxJSONDepth+1), false},
		{"deep and unclosed", strings.Repeat(`{"a":`, 13000), false},
		{"too many members", `{` + strings.Repeat(`"k":1,`, maxJSONValues) + `"z":1}`, false},
		{"too many elements", `{"a":[` + strings.Repeat(`1,`, maxJSONValues) + `1]}`, false},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
		err := decodeJSON(httptest.NewRecorder(), r, &dst, false)
		refused := err != nil && strings.Contains(err.Error(), "deeper than")
		if refused == tc.ok {
			t.Errorf("%s: %v; want refused for its shape: %v", tc.name, err, !tc.ok)
		}
	}
}
