package web_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/web"
)

var updateOpenAPI = flag.Bool("update", false, "rewrite the schemas of internal/web/openapi.json generated from the Go types")

// openAPIDoc is the part of the description the tests read.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type openAPIOperation struct {
	OperationID string           `json:"operationId"`
	Access      string           `json:"x-twofold-access"`
	Security    *json.RawMessage `json:"security"`
	Parameters  []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	Responses map[string]json.RawMessage `json:"responses"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var d openAPIDoc
	if err := json.Unmarshal(web.OpenAPI(), &d); err != nil {
		t.Fatalf("internal/web/openapi.json is not JSON: %v", err)
	}
	return d
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPIDescribesEveryRoute: every /api/v1 route the router registers is described
// in internal/web/openapi.json with its access level, and every described operation is
// one the router serves.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	d := loadOpenAPI(t)
	served := map[string]string{}
	for pattern, level := range web.RouteLevels(t) {
		method, path, ok := strings.Cut(pattern, " ")
		if ok && strings.HasPrefix(path, "/api/v1/") {
			served[strings.ToLower(method)+" "+path] = level
		}
	}
	for op, level := range served {
		method, path, _ := strings.Cut(op, " ")
		raw, ok := d.Paths[path][method]
		if !ok {
			t.Errorf("%s %s (%s) is not described: add it to internal/web/openapi.json (paths, with x-twofold-access %q)",
				strings.ToUpper(method), path, level, level)
			continue
		}
		var o openAPIOperation
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		if o.Access != level {
			t.Errorf("%s %s: x-twofold-access %q, but the route's level is %q", strings.ToUpper(method), path, o.Access, level)
		}
	}
	for path, item := range d.Paths {
		for method := range item {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			if _, ok := served[method+" "+path]; !ok {
				t.Errorf("internal/web/openapi.json describes %s %s, which the router does not serve", strings.ToUpper(method), path)
			}
		}
	}
}

// TestOpenAPIDocumentIsSound: an OpenAPI 3.1 document whose references resolve, whose
// operations have unique ids, a security requirement, declared path parameters and answers.
func TestOpenAPIDocumentIsSound(t *testing.T) {
	d := loadOpenAPI(t)
	if d.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", d.OpenAPI)
	}
	var whole any
	if err := json.Unmarshal(web.OpenAPI(), &whole); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if !resolves(whole, ref) {
					t.Errorf("$ref %q does not resolve", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(whole)
	ids := map[string]string{}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	for path, item := range d.Paths {
		for method, raw := range item {
			var o openAPIOperation
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			where := strings.ToUpper(method) + " " + path
			if o.OperationID == "" || ids[o.OperationID] != "" {
				t.Errorf("%s: operationId %q is empty or also %s's", where, o.OperationID, ids[o.OperationID])
			}
			ids[o.OperationID] = where
			if o.Security == nil {
				t.Errorf("%s: no security requirement (public: [])", where)
			}
			if len(o.Responses) == 0 {
				t.Errorf("%s: no responses", where)
			}
			for _, m := range param.FindAllStringSubmatch(path, -1) {
				if !slices.ContainsFunc(o.Parameters, func(p struct {
					Name string `json:"name"`
					In   string `json:"in"`
				}) bool {
					return p.Name == m[1] && p.In == "path"
				}) {
					t.Errorf("%s: path parameter %s is not declared", where, m[1])
				}
			}
		}
	}
}

// resolves reports whether a local reference such as #/components/schemas/X names a
// value of doc.
func resolves(doc any, ref string) bool {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	cur := doc
	for _, part := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]; !ok {
			return false
		}
	}
	return true
}

// openAPITypes are the answers (and request bodies) the description names by their Go type.
var openAPITypes = map[string]any{
	"LoginAnswer": web.LoginAnswer{}, "StepAnswer": web.StepAnswer{}, "SessionAnswer": web.SessionAnswer{},
	"MFAStatus": web.MFAStatus{}, "User": web.User{}, "TOTPSetup": web.TOTPSetup{}, "RecoveryCode": web.RecoveryCode{},
	"SessionList": web.SessionList{}, "Session": web.Session{}, "SessionsEnded": web.SessionsEnded{},
	"Application": web.Application{}, "ApplicationList": web.ApplicationList{}, "ApplicationRemoved": web.ApplicationRemoved{},
	"Profile": web.Profile{}, "Accepted": web.Accepted{}, "AcceptAnswer": web.AcceptAnswer{},
	"PasswordResetAnswer": web.PasswordResetAnswer{}, "RegistrationRequested": web.RegistrationRequested{},
	"RegistrationConfirmed": web.RegistrationConfirmed{}, "CaseOpened": web.CaseOpened{}, "CaseList": web.CaseList{},
	"CaseSummary": web.CaseSummary{}, "Case": web.Case{}, "NoteAdded": web.NoteAdded{}, "TimelineEntry": web.TimelineEntry{},
	"VerificationSent": web.VerificationSent{}, "ResetPending": web.ResetPending{}, "ResetDone": web.ResetDone{},
	"EmailConfirmation": web.EmailConfirmation{}, "CaseClosed": web.CaseClosed{}, "MFAFacts": web.MFAFacts{},
	"Account": web.Account{}, "PendingReset": web.PendingReset{}, "AdminClient": web.AdminClient{},
	"NewAdminClient": web.NewAdminClient{}, "AdminClientChange": web.AdminClientChange{},
	"AdminSigningKey": web.AdminSigningKey{}, "KeysRotated": web.KeysRotated{}, "RotatedSigningKey": web.RotatedSigningKey{},
	"Settings": web.Settings{}, "Setting": web.Setting{}, "APIToken": web.APIToken{}, "TokenCreator": web.TokenCreator{},
	"APITokenCreated": web.APITokenCreated{}, "AuditEntry": web.AuditEntry{},
	"AdminUser": web.AdminUser{}, "AdminUserMFA": web.AdminUserMFA{}, "AdminUserDetails": web.AdminUserDetails{},
	"AdminSession": web.AdminSession{}, "AdminFactor": web.AdminFactor{}, "AdminCase": web.AdminCase{},
	"AdminInvitation": web.AdminInvitation{}, "MFAResetAnswer": web.MFAResetAnswer{},
	"KeyAdded": web.KeyAdded{}, "Key": web.Key{}, "MFAFactors": web.MFAFactors{},
}

// TestOpenAPISchemasMatchTheGoTypes: the schema of each answer type is the one its Go type
// encodes to (property names, types, which may be null, which are always present). With
// -update the schemas are rewritten from the types.
func TestOpenAPISchemasMatchTheGoTypes(t *testing.T) {
	names := map[reflect.Type]string{}
	for n, v := range openAPITypes {
		names[reflect.TypeOf(v)] = n
	}
	want := map[string]any{}
	for n, v := range openAPITypes {
		want[n] = goSchema(reflect.TypeOf(v), names, true)
	}
	if *updateOpenAPI {
		var whole map[string]any
		if err := json.Unmarshal(web.OpenAPI(), &whole); err != nil {
			t.Fatal(err)
		}
		schemas := whole["components"].(map[string]any)["schemas"].(map[string]any)
		for n, s := range want {
			schemas[n] = s
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(whole); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("openapi.json", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("rewrote the generated schemas of openapi.json; run the tests again")
		return
	}
	d := loadOpenAPI(t)
	for _, n := range sortedKeys(want) {
		raw, ok := d.Components.Schemas[n]
		if !ok {
			t.Errorf("components.schemas.%s is missing: go test ./internal/web -run TestOpenAPISchemasMatchTheGoTypes -update", n)
			continue
		}
		var got any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		wb, _ := json.Marshal(want[n])
		var w any
		_ = json.Unmarshal(wb, &w)
		if !reflect.DeepEqual(got, w) {
			t.Errorf("components.schemas.%s differs from web.%s: go test ./internal/web -run TestOpenAPISchemasMatchTheGoTypes -update\n got %s\nwant %s", n, n, raw, wb)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var timeType = reflect.TypeOf(time.Time{})

// goSchema is the JSON Schema of what encoding/json makes of t: a named answer type by
// reference (unless top), a pointer as nullable.
func goSchema(t reflect.Type, names map[reflect.Type]string, top bool) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.Pointer:
		s := goSchema(t.Elem(), names, false)
		if ty, ok := s["type"].(string); ok {
			s["type"] = []any{ty, "null"}
			return s
		}
		return map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": goSchema(t.Elem(), names, false)}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": goSchema(t.Elem(), names, false)}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Struct:
		if n, ok := names[t]; ok && !top {
			return map[string]any{"$ref": "#/components/schemas/" + n}
		}
		props := map[string]any{}
		required := []any{}
		var fields func(t reflect.Type)
		fields = func(t reflect.Type) {
			for i := range t.NumField() {
				f := t.Field(i)
				tag := f.Tag.Get("json")
				if f.Anonymous && tag == "" {
					fields(f.Type)
					continue
				}
				if !f.IsExported() || tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if name == "" {
					name = f.Name
				}
				props[name] = goSchema(f.Type, names, false)
				if !strings.Contains(opts, "omitempty") {
					required = append(required, name)
				}
			}
		}
		fields(t)
		s := map[string]any{"type": "object", "properties": props, "x-go-type": "web." + names[t]}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]any{}
}

// TestOpenAPIServed: GET /api/v1/openapi.json answers the document to anyone.
func TestOpenAPIServed(t *testing.T) {
	srv := newServer(t)
	r := srv.Client(t).Get("/api/v1/openapi.json")
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" || !bytes.Equal(r.Body, web.OpenAPI()) {
		t.Fatalf("Content-Type %q, %d bytes: want the embedded description", ct, len(r.Body))
	}
}
