package gitinfotest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// HTTPServer is a git smart-HTTP server on loopback: `git http-backend`
// behind net/http/cgi, with basic authentication.
type HTTPServer struct {
	// URL is the repository's URL, without credentials.
	URL string
	// CAFile is, for an HTTPS server, a PEM file holding the private CA
	// that signed its certificate (what http.sslCAInfo or GIT_SSL_CAINFO
	// name); "" for plain HTTP.
	CAFile string

	mu       sync.Mutex
	requests []string
}

// NewHTTPServer serves the bare repository bareDir (fetch and push) at
// URL until the test ends. With a non-empty user every request must carry
// basic authentication with user and password; failures get 401, which is
// what makes clients ask their credential helpers. Without git or
// git-http-backend it skips the test, or fails it when CI is set (see
// InCI).
func NewHTTPServer(t testing.TB, bareDir, user, password string) *HTTPServer {
	t.Helper()
	return newHTTPServer(t, bareDir, user, password, false)
}

// NewHTTPSServer is NewHTTPServer over HTTPS, with a certificate for
// 127.0.0.1 and localhost signed by a CA made for the test and known to
// nothing else: clients trust it only when given CAFile.
func NewHTTPSServer(t testing.TB, bareDir, user, password string) *HTTPServer {
	t.Helper()
	return newHTTPServer(t, bareDir, user, password, true)
}

func newHTTPServer(t testing.TB, bareDir, user, password string, useTLS bool) *HTTPServer {
	t.Helper()
	GitPath(t)
	backend := filepath.Join(RunGit(t, bareDir, "--exec-path"), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		Missing(t, "gitinfotest: "+backend+" not found")
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
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
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
	// Clients that refuse the certificate are the point of some tests:
	// keep the handshake errors out of their output.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		cert, caPEM := privateCA(t)
		s.CAFile = filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(s.CAFile, caPEM, 0o644); err != nil {
			t.Fatalf("gitinfotest: writing the CA: %v", err)
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/" + filepath.Base(bareDir)
	return s
}

// privateCA makes a CA and a server certificate it signs for 127.0.0.1
// and localhost, and returns the certificate (with its chain) and the CA
// as PEM.
func privateCA(t testing.TB) (tls.Certificate, []byte) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatalf("gitinfotest: generating a key: %v", err)
		}
		return k
	}
	now := time.Now()
	caKey := newKey()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gitinfotest private CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("gitinfotest: making the CA: %v", err)
	}
	ca, err = x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("gitinfotest: making the CA: %v", err)
	}
	leafKey := newKey()
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("gitinfotest: making the server certificate: %v", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

// Requests lists the requests served so far, as "METHOD /path?query".
func (s *HTTPServer) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}
