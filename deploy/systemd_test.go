package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/testutil"
)

// unitBinary is the ExecStart binary the unit names.
const unitBinary = "/usr/local/bin/twofold"

// TestSystemdUnitVerifies runs systemd-analyze verify on twofold.service with ExecStart
// pointed at an executable that exists (verify refuses a missing one): the test binary
// itself, which verify never runs. Any complaint about the unit fails, warnings included
// (an unknown or misspelt key is only a warning, and would silently drop a protection).
func TestSystemdUnitVerifies(t *testing.T) {
	analyze := testutil.RequireTool(t, "systemd-analyze")
	unit, err := os.ReadFile("twofold.service")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart="+unitBinary+" ") {
		t.Fatalf("twofold.service does not start %s", unitBinary)
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "twofold.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), unitBinary, bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", path)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0")
	out, err := cmd.CombinedOutput()
	var about []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "twofold.service") {
			about = append(about, line)
		}
	}
	if err != nil || len(about) > 0 {
		t.Fatalf("systemd-analyze verify twofold.service: %v\n%s", err, out)
	}
}

// TestSystemdUnitIsHardened: the protections the deployment guide promises are in the unit.
func TestSystemdUnitIsHardened(t *testing.T) {
	unit, err := os.ReadFile("twofold.service")
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, line := range strings.Split(string(unit), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			set[line] = true
		}
	}
	for _, want := range []string{
		"DynamicUser=yes", "StateDirectory=twofold", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "CapabilityBoundingSet=",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "RestrictNamespaces=yes", "RestrictSUIDSGID=yes",
		"MemoryDenyWriteExecute=yes", "SystemCallFilter=@system-service", "SystemCallArchitectures=native",
		"UMask=0077", "Environment=TWOFOLD_DATA_DIR=/var/lib/twofold", "ExecReload=/bin/kill -HUP $MAINPID",
	} {
		if !set[want] {
			t.Errorf("twofold.service lacks %q", want)
		}
	}
}
