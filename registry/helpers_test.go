package registry_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// dockerConfig writes a Docker config directory with credentials for the
// hosts and returns it (what DOCKER_CONFIG would name).
func dockerConfig(t testing.TB, host, user, password string, more ...string) string {
	t.Helper()
	dir := t.TempDir()
	auth := map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	auths := map[string]any{host: auth}
	for _, h := range more {
		auths[h] = auth
	}
	cfg := map[string]any{"auths": auths}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
