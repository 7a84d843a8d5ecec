package cli_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/apperr"
)

func TestClientAddPrintsTheSecretOnce(t *testing.T) {
	c := newConsole(t)
	out := c.ok("", "client", "add", "billing", "--redirect-uri", "https://billing.example.com/callback",
		"--redirect-uri", "http://127.0.0.1:9090/callback", "--post-logout-redirect-uri", "https://billing.example.com/")
	m := regexp.MustCompile(`(?m)^client_id: (\S+)\nclient_secret: (\S+)\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("client add printed %q, want client_id: and client_secret: lines", out)
	}
	id, secret := m[1], m[2]
	for _, args := range [][]string{{"client", "show", "billing"}, {"client", "show", id}, {"client", "list"}, {"client", "list", "--json"}} {
		got := c.ok("", args...)
		if !strings.Contains(got, id) {
			t.Errorf("twofold %s does not show the client id:\n%s", strings.Join(args, " "), got)
		}
		if strings.Contains(got, secret) {
			t.Errorf("twofold %s shows the secret again", strings.Join(args, " "))
		}
	}
	show := c.ok("", "client", "show", "billing")
	for _, want := range []string{"confidential", "asked once per user", "https://billing.example.com/callback http://127.0.0.1:9090/callback", "ES256"} {
		if !strings.Contains(show, want) {
			t.Errorf("client show lacks %q:\n%s", want, show)
		}
	}
}

func TestClientAddTakesSeveralRedirectURIs(t *testing.T) {
	c := newConsole(t)
	c.ok("", "client", "add", "multi", "--redirect-uri", "https://a.example.com/cb", "https://b.example.com/cb")
	if show := c.ok("", "client", "show", "multi"); !strings.Contains(show, "https://a.example.com/cb https://b.example.com/cb") {
		t.Errorf("client show:\n%s", show)
	}
	c.fails("", []string{"client", "add", "stray", "https://a.example.com/cb"}, "follow --redirect-uri")
}

func TestClientAddJSON(t *testing.T) {
	c := newConsole(t)
	var got struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		Public       bool     `json:"public"`
		FirstParty   bool     `json:"first_party"`
		RedirectURIs []string `json:"redirect_uris"`
		Alg          string   `json:"id_token_signed_response_alg"`
	}
	out := c.ok("", "client", "add", "spa", "--public", "--first-party", "--id-token-alg", "rs256",
		"--redirect-uri", "https://spa.example.com/cb", "--json")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	if got.ClientID == "" || got.ClientSecret != "" || !got.Public || !got.FirstParty || got.Alg != "RS256" ||
		len(got.RedirectURIs) != 1 {
		t.Errorf("client add --json = %+v, want a public first-party RS256 client without secret", got)
	}
}

func TestClientAddRefusesBadInput(t *testing.T) {
	c := newConsole(t)
	c.ok("", "client", "add", "taken", "--redirect-uri", "https://a.example.com/cb")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no redirect uri", []string{"client", "add", "x"}, "at least one redirect URI"},
		{"relative uri", []string{"client", "add", "x", "--redirect-uri", "/callback"}, "absolute"},
		{"fragment", []string{"client", "add", "x", "--redirect-uri", "https://a.example.com/cb#x"}, "fragment"},
		{"private scheme for a confidential client", []string{"client", "add", "x", "--redirect-uri", "com.example.app:/cb"}, "https"},
		{"public client on plain http", []string{"client", "add", "x", "--public", "--redirect-uri", "http://a.example.com/cb"}, "127.0.0.1"},
		{"port out of range", []string{"client", "add", "x", "--redirect-uri", "https://a.example.com:99999/cb"}, "port must be a number from 1 to 65535"},
		{"user and password", []string{"client", "add", "x", "--redirect-uri", "https://user:pass@a.example.com/cb"}, "user name or password"},
		{"no-break space", []string{"client", "add", "x", "--redirect-uri", "https://a.example.com/cb\u00a0"}, `cb\u00a0": must not hold white space`},
		{"one-word private scheme", []string{"client", "add", "x", "--public", "--redirect-uri", "myapp:/cb"}, "com.example.app:/callback"},
		{"unknown algorithm", []string{"client", "add", "x", "--redirect-uri", "https://a.example.com/cb", "--id-token-alg", "HS256"}, "ES256 or RS256"},
		{"taken name", []string{"client", "add", "taken", "--redirect-uri", "https://a.example.com/cb"}, "exists already"},
		{"unknown client", []string{"client", "show", "nope"}, "No client"},
	} {
		t.Run(tc.name, func(t *testing.T) { c.fails("", tc.args, tc.want) })
	}
}

// TestUnknownNamesAreQuotedShort: "no such client" and "no such user" repeat what was typed
// quoted, cut to its first characters and with invisible ones escaped.
func TestUnknownNamesAreQuotedShort(t *testing.T) {
	c := newInstalled(t)
	name := "\u202e" + strings.Repeat("n", 60000)
	for _, args := range [][]string{{"client", "show", name}, {"user", "unlock", name}} {
		r := c.run("", args...)
		if r.code != 1 || !strings.Contains(r.stderr, `"\u202e`+strings.Repeat("n", apperr.MaxQuoted-1)+`…"`) ||
			len(r.stderr) > 300 || strings.ContainsRune(r.stderr, '\u202e') {
			t.Errorf("twofold %s …: exit %d, stderr %.200q (%d bytes), want the name's start quoted", args[0], r.code, r.stderr, len(r.stderr))
		}
	}
}

func TestClientRemove(t *testing.T) {
	c := newConsole(t)
	c.ok("", "client", "add", "wiki", "--redirect-uri", "https://wiki.example.com/cb")
	if out := c.ok("", "client", "remove", "wiki"); !strings.Contains(out, "removed client wiki") {
		t.Errorf("client remove printed %q", out)
	}
	c.fails("", []string{"client", "show", "wiki"}, "No client")
	if out := c.ok("", "audit"); !strings.Contains(out, "oidc.client_added") || !strings.Contains(out, "oidc.client_removed") {
		t.Errorf("audit lacks the client events:\n%s", out)
	}
}

func TestKeysRotate(t *testing.T) {
	c := newInstalled(t)
	out := c.ok("", "keys", "rotate", "--keep", "48h")
	if !regexp.MustCompile(`(?m)^new ES256 key \S+$`).MatchString(out) {
		t.Fatalf("first rotation printed %q", out)
	}
	out = c.ok("", "keys", "rotate")
	if !strings.Contains(out, "the previous one stays published until") {
		t.Fatalf("second rotation printed %q", out)
	}
	list := c.ok("", "keys", "list")
	if strings.Count(list, "ES256") != 2 || !strings.Contains(list, "signing") || !strings.Contains(list, "retired") {
		t.Errorf("keys list after two rotations:\n%s", list)
	}
	c.fails("", []string{"keys", "rotate", "--keep", "5m"}, "too short")
}

func TestClientEditAndRotateSecret(t *testing.T) {
	c := newConsole(t)
	out := c.ok("", "client", "add", "billing", "--redirect-uri", "https://billing.example.com/callback")
	secret := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out)[1]

	c.ok("", "client", "edit", "billing", "--redirect-uri", "https://billing.example.com/new", "--first-party")
	show := c.ok("", "client", "show", "billing")
	for _, want := range []string{"https://billing.example.com/new", "first-party, not asked"} {
		if !strings.Contains(show, want) {
			t.Errorf("client show after edit lacks %q:\n%s", want, show)
		}
	}
	if strings.Contains(show, "/callback") {
		t.Errorf("the replaced redirect URI is still there:\n%s", show)
	}
	c.fails("", []string{"client", "edit", "billing"}, "nothing to change")
	c.fails("", []string{"client", "edit", "billing", "--redirect-uri", "javascript:alert(1)"}, "scheme")

	out = c.ok("", "client", "rotate-secret", "billing")
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out)
	if m == nil || m[1] == secret {
		t.Fatalf("rotate-secret printed %q, want a new client_secret", out)
	}
	c.ok("", "client", "add", "spa", "--public", "--redirect-uri", "https://spa.example.com/cb")
	c.fails("", []string{"client", "rotate-secret", "spa"}, "no secret")
}
