package admin_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// promotingStore is the admin service's store, where an administrator promotes the user
// watch right after the service has read the account (a concurrent request landing
// between the service's first check and the write).
type promotingStore struct {
	admin.Store
	srv   *testserver.Server
	watch string
	once  sync.Once
}

func (p *promotingStore) GetUser(ctx context.Context, id string) (*store.User, error) {
	u, err := p.Store.GetUser(ctx, id)
	if err == nil && id == p.watch {
		p.once.Do(func() {
			fresh := *u
			if err := p.srv.Auth.SetRoleKeepingAnAdmin(ctx, &fresh, store.RoleAdmin, auth.Meta{}); err != nil {
				panic(err)
			}
		})
	}
	return u, err
}

// TestTokenRuleHoldsWhenTargetPromotedMeanwhile: an API token's disable, role change,
// delete, MFA reset, MFA requirement change or password reset link of a user whom an administrator promotes
// right after the service read the account is refused: the rule holds on the row the
// write changes, in its transaction, not on the earlier read.
func TestTokenRuleHoldsWhenTargetPromotedMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(s *admin.Service, a admin.Actor, id string) error
		left func(t *testing.T, srv *testserver.Server, id string)
	}{
		{"disable", func(s *admin.Service, a admin.Actor, id string) error {
			on := true
			_, err := s.Update(context.Background(), a, id, admin.Change{Disabled: &on}, auth.Meta{ActorID: a.AuditID()})
			return err
		}, func(t *testing.T, srv *testserver.Server, id string) {
			if u, _ := srv.Store.GetUser(context.Background(), id); u.Disabled {
				t.Error("the token disabled an administrator")
			}
		}},
		{"demote", func(s *admin.Service, a admin.Actor, id string) error {
			role := store.RoleSupport
			_, err := s.Update(context.Background(), a, id, admin.Change{Role: &role}, auth.Meta{ActorID: a.AuditID()})
			return err
		}, func(t *testing.T, srv *testserver.Server, id string) {
			if u, _ := srv.Store.GetUser(context.Background(), id); u.Role != store.RoleAdmin {
				t.Errorf("the token demoted an administrator to %s", u.Role)
			}
		}},
		{"mfa_reset", func(s *admin.Service, a admin.Actor, id string) error {
			_, err := s.ResetMFA(context.Background(), a, id, "lost phone, checked in person", "", auth.Meta{ActorID: a.AuditID()})
			return err
		}, func(t *testing.T, srv *testserver.Server, id string) {
			if rs, _ := srv.Store.ListPendingMFAResets(context.Background(), id); len(rs) > 0 {
				t.Error("the token filed an MFA reset of an administrator")
			}
		}},
		{"mfa_required", func(s *admin.Service, a admin.Actor, id string) error {
			no := admin.MFARequiredNo
			_, err := s.Update(context.Background(), a, id, admin.Change{MFARequired: &no}, auth.Meta{ActorID: a.AuditID()})
			return err
		}, func(t *testing.T, srv *testserver.Server, id string) {
			if u, _ := srv.Store.GetUser(context.Background(), id); u.MFAOverride != store.MFAOverrideDefault {
				t.Errorf("the token set an administrator's MFA requirement to %q", u.MFAOverride)
			}
		}},
		{"password_reset_link", func(s *admin.Service, a admin.Actor, id string) error {
			return s.SendPasswordReset(context.Background(), a, id, auth.Meta{ActorID: a.AuditID()})
		}, func(t *testing.T, srv *testserver.Server, id string) {
			for _, m := range srv.Mail(t) {
				if strings.Contains(m.Text, "/password/reset?token=") {
					t.Errorf("the token mailed a password reset link to an administrator (%s): %s", m.To, m.Subject)
				}
			}
		}},
		{"delete", func(s *admin.Service, a admin.Actor, id string) error {
			return s.Delete(context.Background(), a, id, "bob", auth.Meta{ActorID: a.AuditID()})
		}, func(t *testing.T, srv *testserver.Server, id string) {
			if _, err := srv.Store.GetUser(context.Background(), id); err != nil {
				t.Errorf("the token deleted an administrator: %v", err)
			}
		}},
	} {
		for _, db := range []string{"sqlite", "postgres"} {
			t.Run(tc.name+"/"+db, func(t *testing.T) {
				var o testserver.Options
				if db == "postgres" {
					o.DatabaseURL = testutil.PostgresURL(t)
				}
				srv := testserver.New(t, o)
				root := srv.CreateUser(t, "root", "root@example.com", store.RoleAdmin)
				srv.CreateUser(t, "other", "other@example.com", store.RoleAdmin)
				bob := srv.CreateUser(t, "bob", "bob@example.com", store.RoleUser)
				ps := &promotingStore{Store: srv.Store, srv: srv, watch: bob.ID}
				svc := admin.New(admin.Options{Store: ps, Auth: srv.Auth, Invite: srv.Invite, Support: srv.Support})
				token := admin.Actor{UserID: root.ID, TokenID: "tok-automation"}
				err := tc.do(svc, token, bob.ID)
				if u, _ := srv.Store.GetUser(context.Background(), bob.ID); u != nil && u.Role != store.RoleAdmin && tc.name != "demote" {
					t.Fatalf("the promotion did not happen: role %s", u.Role)
				}
				tc.left(t, srv, bob.ID)
				if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeTokenCannotManageAdmins {
					t.Errorf("%s by a token of a user promoted meanwhile: %v, want token_cannot_manage_admins", tc.name, err)
				}
			})
		}
	}
}
