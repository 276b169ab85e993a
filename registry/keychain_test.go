package registry_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// credentialHelper writes an executable docker-credential-<name> into a
// new directory and returns the directory. It answers `get` for host with
// user and secret, as the credential helper protocol has it, and that it
// has nothing for any other host; every host it is asked about is
// appended to the file asked.log in the directory.
func credentialHelper(t *testing.T, name, host, user, secret string) string {
	t.Helper()
	dir := t.TempDir()
	creds, err := json.Marshal(map[string]string{"ServerURL": host, "Username": user, "Secret": secret})
	if err != nil {
		t.Fatal(err)
	}
	script := `#!/bin/sh
[ "$1" = get ] || { echo "unsupported: $1"; exit 1; }
read -r host || true
echo "$host" >> '` + filepath.Join(dir, "asked.log") + `'
if [ "$host" = '` + host + `' ]; then
	echo '` + string(creds) + `'
else
	echo "credentials not found in native keychain"
	exit 1
fi
`
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCredentialHelpers: credentials come from the helper the Docker
// config names for the registry (credHelpers) or for every registry
// (credsStore), found on PATH as docker-credential-<name>, and the secret
// never shows in an error.
//
// The helper is run by docker/cli's credential store, which looks it up on
// the process's PATH: the test sets PATH, so it cannot run in parallel.
func TestCredentialHelpers(t *testing.T) {
	const user, secret = "ci-bot", "helper-secret-6f1e9a"
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 41, Layers: 1, LayerSize: 10})
	for _, mode := range []string{"basic", "token"} {
		t.Run(mode, func(t *testing.T) {
			opt := registrytest.WithBasicAuth(user, secret)
			if mode == "token" {
				opt = registrytest.WithTokenAuth(user, secret)
			}
			reg := registrytest.New(t, opt)
			reg.PushImage(t, "app", "1", img)

			tests := []struct {
				name    string
				secret  string // what the helper answers
				config  map[string]any
				wantErr string // "" = success
			}{
				{name: "credHelpers", secret: secret,
					config: map[string]any{"credHelpers": map[string]string{reg.Host: "fake"}}},
				{name: "credsStore", secret: secret,
					config: map[string]any{"credsStore": "fake"}},
				{name: "credHelpers beat credsStore", secret: secret,
					config: map[string]any{"credHelpers": map[string]string{reg.Host: "fake"}, "credsStore": "missing"}},
				{name: "credHelpers, wrong secret", secret: "wrong-" + secret,
					config:  map[string]any{"credHelpers": map[string]string{reg.Host: "fake"}},
					wantErr: "registry " + reg.Host + " rejected the credentials (HTTP 401)"},
				{name: "a helper for another registry only", secret: secret,
					config:  map[string]any{"credHelpers": map[string]string{"elsewhere.example": "fake"}},
					wantErr: "registry " + reg.Host + " requires credentials (HTTP 401)"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					helpers := credentialHelper(t, "fake", reg.Host, user, tt.secret)
					t.Setenv("PATH", helpers+string(os.PathListSeparator)+os.Getenv("PATH"))
					keychain := registry.DockerConfigKeychain(helperConfig(t, tt.config))
					d, err := newClient(t, registry.WithKeychain(keychain)).Resolve(t.Context(), reg.Host+"/app:1")
					if tt.wantErr == "" {
						if err != nil || d.Digest != img.Digest {
							t.Fatalf("Resolve = %v, %v; want %s", d.Digest, err, img.Digest)
						}
						if asked, _ := os.ReadFile(filepath.Join(helpers, "asked.log")); !strings.Contains(string(asked), reg.Host) {
							t.Errorf("the helper was asked about %q, not %s", asked, reg.Host)
						}
						return
					}
					if !errors.Is(err, registry.ErrUnauthorized) || !strings.HasSuffix(err.Error(), tt.wantErr) {
						t.Fatalf("err = %v, want ErrUnauthorized ending %q", err, tt.wantErr)
					}
					for _, s := range []string{tt.secret, base64.StdEncoding.EncodeToString([]byte(user + ":" + tt.secret))} {
						if strings.Contains(err.Error(), s) {
							t.Errorf("the error shows the secret: %v", err)
						}
					}
				})
			}
		})
	}
}

// TestCredentialHelperSecretRedacted: a registry that echoes the
// Authorization header in its errors cannot leak a secret that came from a
// credential helper either.
func TestCredentialHelperSecretRedacted(t *testing.T) {
	const user, secret = "ci-bot", "helper-secret-echoed-41b2"
	host := echoingRegistry(t)
	t.Setenv("PATH", credentialHelper(t, "fake", host, user, secret)+string(os.PathListSeparator)+os.Getenv("PATH"))
	keychain := registry.DockerConfigKeychain(helperConfig(t, map[string]any{"credHelpers": map[string]string{host: "fake"}}))
	_, _, err := newClient(t, registry.WithKeychain(keychain)).Manifest(t.Context(), host+"/app:1")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.Contains(msg, secret) || strings.Contains(msg, base64.StdEncoding.EncodeToString([]byte(user+":"+secret))) {
		t.Errorf("the error shows the secret: %s", msg)
	}
	if !strings.Contains(msg, "[REDACTED]") {
		t.Errorf("error = %q, want the echoed secret redacted", msg)
	}
}
