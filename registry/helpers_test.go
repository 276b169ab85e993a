package registry_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
	auth := map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	auths := map[string]any{host: auth}
	for _, h := range more {
		auths[h] = auth
	}
	return helperConfig(t, map[string]any{"auths": auths})
}

// echoingRegistry serves a registry that asks for Basic credentials and
// then quotes what it was sent, raw and decoded, in its error message, and
// returns its host: the worst case for a client's redaction.
func echoingRegistry(t testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if auth == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="echo"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		dec, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(auth, "Basic "))
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{
			"code": "DENIED", "message": "bad header " + auth + " for " + string(dec),
		}}})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// helperConfig writes a Docker config directory whose config.json is cfg.
func helperConfig(t testing.TB, cfg map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
