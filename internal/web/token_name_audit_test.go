package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// forgingTokenName is an API token name that, unquoted in an audit detail, reads as the
// detail's own fields: another id, creator, agent, verification or reason.
const forgingTokenName = "ci, created by alice) agent=alice verification=other reason=ok (admin console"

// forgingToken makes an API token of root's named forgingTokenName, allowed to reset MFA.
func forgingToken(t *testing.T, srv *testserver.Server) *apitoken.Created {
	t.Helper()
	made, err := srv.Tokens.Create(context.Background(), apitoken.NewToken{Name: forgingTokenName,
		Scopes: []string{"users:read", "users:write"}, CreatedBy: mustUser(t, srv, "root").ID}, auth.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return made
}

// TestTokenNameCannotForgeAuditDetail: an administrator names an API token freely (any
// text without control characters). The audit detail of the token's MFA reset quotes the
// name, so a name cannot read as the detail's own fields: another id, creator or reason.
func TestTokenNameCannotForgeAuditDetail(t *testing.T) {
	srv, _ := adminServerWith(t, testserver.Options{})
	mfaClient(t, srv, "bob", "user")
	bob := mustUser(t, srv, "bob")
	name := forgingTokenName
	made := forgingToken(t, srv)
	wantStatus(t, withBearer(t, srv, made.Secret, "POST", "/api/v1/admin/users/"+bob.ID+"/reset-mfa", []byte(`{"reason":"x"}`)), http.StatusOK)
	rows, err := srv.Store.ListAudit(context.Background(), store.AuditFilter{UserID: bob.ID, Event: audit.SupportMFAReset})
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %+v %v, want one", rows, err)
	}
	d := rows[0].Detail
	quoted := "API token " + strconv.Quote(name) + ", id " + made.Token.ID + ", created by root)"
	if !strings.Contains(d, quoted) {
		t.Fatalf("detail %q, want the token's name quoted: %q", d, quoted)
	}
	// Outside the quoted name the detail has its own fields once each.
	rest := strings.Replace(d, strconv.Quote(name), `"NAME"`, 1)
	if strings.Count(rest, "reason=") != 1 || strings.Count(rest, "created by") != 1 || strings.Count(rest, "admin console") != 0 {
		t.Errorf("the token's name wrote fields of its own into the audit detail: %q", d)
	}
}

// TestTokenNameCannotForgeApprovedResetAuditDetail: the same for a token's request that a
// second administrator approves under dual control: the reset's audit row names the
// requester as the token with its name quoted.
func TestTokenNameCannotForgeApprovedResetAuditDetail(t *testing.T) {
	srv, _ := adminServerWith(t, testserver.Options{Support: testserver.SupportOptions{ResetRequiresApproval: true}})
	pat := mfaClient(t, srv, "pat", "admin")
	mfaClient(t, srv, "bob", "user")
	bob := mustUser(t, srv, "bob")
	made := forgingToken(t, srv)
	r := withBearer(t, srv, made.Secret, "POST", "/api/v1/admin/users/"+bob.ID+"/reset-mfa", []byte(`{"reason":"x"}`))
	wantStatus(t, r, http.StatusOK)
	ref := decodeAs[web.MFAResetAnswer](t, r).Case
	wantStatus(t, apiDo(pat, "POST", "/api/v1/support/cases/"+ref+"/reset-mfa/approve", nil), http.StatusOK)
	rows, err := srv.Store.ListAudit(context.Background(), store.AuditFilter{UserID: bob.ID, Event: audit.SupportMFAReset})
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %+v %v, want one", rows, err)
	}
	d := rows[0].Detail
	if !strings.Contains(d, " agent=token "+strconv.Quote(forgingTokenName)+" ") {
		t.Fatalf("detail %q, want the requesting token's name quoted", d)
	}
	rest := strings.Replace(d, strconv.Quote(forgingTokenName), `"NAME"`, 1)
	if strings.Count(rest, "agent=") != 1 || strings.Count(rest, "verification=") != 1 || strings.Contains(rest, "alice") {
		t.Errorf("the token's name wrote fields of its own into the audit detail: %q", d)
	}
}
