// Command tenant-app is an example application that signs users in through twofold.
//
//	go run ./cmd/twofold client add tenant-app --redirect-uri http://127.0.0.1:9090/callback \
//	    --post-logout-redirect-uri http://127.0.0.1:9090/ --json | go run ./examples/tenant-app
//
// It reads the client registration (the JSON of `twofold client add --json`) from standard
// input, or TENANT_APP_CLIENT_ID and TENANT_APP_CLIENT_SECRET. See README.md.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/twofold-id/twofold/examples/tenant-app/tenantapp"
)

func main() {
	addr := flag.String("addr", env("TENANT_APP_ADDR", "127.0.0.1:9090"), "listen address (TENANT_APP_ADDR)")
	issuer := flag.String("issuer", env("TWOFOLD_ISSUER", "http://127.0.0.1:8080"), "twofold's URL (TWOFOLD_ISSUER)")
	acr := flag.String("acr-values", env("TENANT_APP_ACR_VALUES", ""), "acr_values to ask for, e.g. urn:twofold:acr:mfa")
	flag.Parse()

	cfg := tenantapp.Config{Issuer: strings.TrimRight(*issuer, "/"), BaseURL: "http://" + *addr, ACRValues: *acr,
		ClientID: os.Getenv("TENANT_APP_CLIENT_ID"), ClientSecret: os.Getenv("TENANT_APP_CLIENT_SECRET")}
	if cfg.ClientID == "" {
		if err := readRegistration(&cfg); err != nil {
			log.Fatalf("tenant-app: %v\nRegister it first:\n  go run ./cmd/twofold client add tenant-app "+
				"--redirect-uri %s/callback --post-logout-redirect-uri %s/ --json | go run ./examples/tenant-app", err, cfg.BaseURL, cfg.BaseURL)
		}
	}
	log.Printf("tenant-app: open %s (signing in through %s as client %s)", cfg.BaseURL, cfg.Issuer, cfg.ClientID)
	srv := &http.Server{Addr: *addr, Handler: tenantapp.New(cfg), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// readRegistration reads `twofold client add --json` output from standard input.
func readRegistration(cfg *tenantapp.Config) error {
	if fi, err := os.Stdin.Stat(); err != nil || fi.Mode()&os.ModeCharDevice != 0 {
		return fmt.Errorf("no client registration on standard input, and TENANT_APP_CLIENT_ID is not set")
	}
	var reg struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	data, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &reg); err != nil || reg.ClientID == "" {
		return fmt.Errorf("standard input is not the JSON of `twofold client add --json` (did the registration fail?)")
	}
	cfg.ClientID, cfg.ClientSecret = reg.ClientID, reg.ClientSecret
	return nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
