package gitinfotest

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// HTTPServer is a git smart-HTTP server on loopback: `git http-backend`
// behind net/http/cgi, with basic authentication.
type HTTPServer struct {
	// URL is the repository's URL, without credentials.
	URL string

	mu       sync.Mutex
	requests []string
}

// NewHTTPServer serves the bare repository bareDir (fetch and push) at
// URL until the test ends. With a non-empty user every request must carry
// basic authentication with user and password; failures get 401, which is
// what makes clients ask their credential helpers. It skips the test when
// git is missing.
func NewHTTPServer(t testing.TB, bareDir, user, password string) *HTTPServer {
	t.Helper()
	GitPath(t)
	backend := filepath.Join(RunGit(t, bareDir, "--exec-path"), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skipf("gitinfotest: %s not found", backend)
	}
	// Pushes over HTTP need this unless the server authenticates users
	// itself (REMOTE_USER): ours checks credentials in front of the CGI.
	RunGit(t, bareDir, "config", "http.receivepack", "true")
	cgiHandler := &cgi.Handler{
		Path: backend,
		Env: []string{
			"GIT_PROJECT_ROOT=" + filepath.Dir(bareDir),
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=" + os.DevNull,
		},
		InheritEnv: []string{"PATH"},
	}
	s := &HTTPServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
		s.mu.Unlock()
		if user != "" {
			u, p, ok := req.BasicAuth()
			if !ok || u != user || p != password {
				w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
		}
		cgiHandler.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/" + filepath.Base(bareDir)
	return s
}

// Requests lists the requests served so far, as "METHOD /path?query".
func (s *HTTPServer) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}
