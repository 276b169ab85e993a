package registry_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// TestCAFileVerification: with WithCAFile the handshake's verification is
// the client's own (against roots loaded on first use); it must refuse
// what crypto/tls refuses, the certificate's name included, also for a
// registry reached by IP address (which TLS does not send as SNI).
func TestCAFileVerification(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithTLS())
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	reg.PushImage(t, "app", "1", img)
	port := reg.Host[strings.LastIndexByte(reg.Host, ':'):]

	// The same registry behind certificates of a CA of the test's.
	ca := newTestCA(t, t.TempDir())
	otherName := serveTLS(t, reg, ca.leaf(t, "other.example"))
	ipInSANs := serveTLS(t, reg, ca.leaf(t, "127.0.0.1"))
	localhostOnly := serveTLS(t, reg, ca.leaf(t, "localhost"))
	localhostPort := localhostOnly[strings.LastIndexByte(localhostOnly, ':'):]

	tests := []struct {
		name, host, ca string
		want           string // "" = success; else a substring of the error
		unknownCA      bool
	}{
		{name: "the CA of the registry", host: reg.Host, ca: reg.CAFile(t)},
		{name: "another CA", host: reg.Host, ca: strangerCA(t), want: "unknown authority", unknownCA: true},
		{name: "a name the certificate does not cover", host: "localhost" + port, ca: reg.CAFile(t), want: "localhost"},
		{name: "an IP address in the certificate's SANs", host: ipInSANs, ca: ca.path},
		{name: "an IP address not in the certificate's SANs", host: otherName, ca: ca.path, want: "127.0.0.1"},
		{name: "a certificate for localhost, reached by IP address", host: localhostOnly, ca: ca.path, want: "127.0.0.1"},
		{name: "a certificate for localhost, reached by name", host: "localhost" + localhostPort, ca: ca.path},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := resolveOrRefuse(t, newClient(t, registry.WithCAFile(tt.ca)), tt.host+"/app:1", img.Digest, tt.want)
			if got := errors.Is(err, registry.ErrUnknownAuthority); got != tt.unknownCA {
				t.Errorf("errors.Is(err, ErrUnknownAuthority) = %v, want %v (%v)", got, tt.unknownCA, err)
			}
		})
	}
}

// TestSystemRootsCheckTheName: a certificate a system root signed is held
// to the host's name too, with the system roots alone (crypto/tls's own
// verification) and with a CA file (the client's, which falls back to the
// system roots). The system roots are the process's, loaded once, so the
// test runs itself again with SSL_CERT_FILE naming a CA of its own.
func TestSystemRootsCheckTheName(t *testing.T) {
	if dir := os.Getenv("REGISTRY_TEST_SYSTEM_CA"); dir != "" {
		systemRootsChild(t, dir)
		return
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSystemRootsCheckTheName$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(),
		"REGISTRY_TEST_SYSTEM_CA="+dir,
		"SSL_CERT_FILE="+ca.path,
		"SSL_CERT_DIR="+t.TempDir(),
	)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestSystemRootsCheckTheName/") {
		t.Fatalf("the test run with SSL_CERT_FILE: %v\n%s", err, out)
	}
}

// systemRootsChild is TestSystemRootsCheckTheName in the process whose
// system roots are the CA in dir.
func systemRootsChild(t *testing.T, dir string) {
	ca := loadTestCA(t, dir)
	reg := registrytest.New(t)
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	reg.PushImage(t, "app", "1", img)
	otherName := serveTLS(t, reg, ca.leaf(t, "other.example"))
	ipInSANs := serveTLS(t, reg, ca.leaf(t, "127.0.0.1"))
	stranger := strangerCA(t)

	tests := []struct {
		name string
		host string
		opts []registry.Option
		want string // "" = success; else a substring of the error
	}{
		{name: "system roots, IP address in the SANs", host: ipInSANs},
		{name: "system roots, IP address not in the SANs", host: otherName, want: "127.0.0.1"},
		{name: "CA file and system roots, IP address in the SANs", host: ipInSANs, opts: []registry.Option{registry.WithCAFile(stranger)}},
		{name: "CA file and system roots, IP address not in the SANs", host: otherName, opts: []registry.Option{registry.WithCAFile(stranger)}, want: "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resolveOrRefuse(t, newClient(t, tt.opts...), tt.host+"/app:1", img.Digest, tt.want)
		})
	}
}

// resolveOrRefuse resolves ref with c: to digest when want is "", else to
// an error mentioning want, which it returns.
func resolveOrRefuse(t *testing.T, c *registry.Client, ref, digest, want string) error {
	t.Helper()
	d, err := c.Resolve(t.Context(), ref)
	if want == "" {
		if err != nil || d.Digest != digest {
			t.Fatalf("got %v, %v", d, err)
		}
		return nil
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want one mentioning %q", err, want)
	}
	return err
}

// serveTLS serves h over HTTPS with cert on a loopback port and returns
// "127.0.0.1:port".
func serveTLS(t *testing.T, h http.Handler, cert tls.Certificate) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "https://")
}

// testCA is a certificate authority of a test: its certificate (as PEM
// at path) and key.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	path string
}

// newTestCA makes a CA and writes its certificate (ca.pem) and key
// (ca.key) into dir.
func newTestCA(t *testing.T, dir string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "registry test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, path: path}
}

// loadTestCA reads the CA newTestCA wrote into dir.
func loadTestCA(t *testing.T, dir string) *testCA {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			t.Fatalf("no PEM in %s", name)
		}
		return blk.Bytes
	}
	cert, err := x509.ParseCertificate(read("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParseECPrivateKey(read("ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, path: filepath.Join(dir, "ca.pem")}
}

// leaf is a server certificate the CA signed for names (DNS names, or IP
// addresses).
func (ca *testCA) leaf(t *testing.T, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// strangerCA writes a CA certificate no registry's certificate chains to.
func strangerCA(t *testing.T) string {
	t.Helper()
	return newTestCA(t, t.TempDir()).path
}
