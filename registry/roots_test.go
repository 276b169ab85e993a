package registry_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// TestCAFileVerification: with WithCAFile the handshake's verification is
// the client's own (against roots loaded on first use); it must refuse
// what crypto/tls refuses.
func TestCAFileVerification(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithTLS())
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	reg.PushImage(t, "app", "1", img)
	port := reg.Host[strings.LastIndexByte(reg.Host, ':'):]

	tests := []struct {
		name, host, ca string
		want           string // "" = success; else a substring of the error
		unknownCA      bool
	}{
		{name: "the CA of the registry", host: reg.Host, ca: reg.CAFile(t)},
		{name: "another CA", host: reg.Host, ca: strangerCA(t), want: "unknown authority", unknownCA: true},
		{name: "a name the certificate does not cover", host: "localhost" + port, ca: reg.CAFile(t), want: "localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := newClient(t, registry.WithCAFile(tt.ca)).Resolve(t.Context(), tt.host+"/app:1")
			if tt.want == "" {
				if err != nil || d.Digest != img.Digest {
					t.Fatalf("got %v, %v", d, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
			if got := errors.Is(err, registry.ErrUnknownAuthority); got != tt.unknownCA {
				t.Errorf("errors.Is(err, ErrUnknownAuthority) = %v, want %v (%v)", got, tt.unknownCA, err)
			}
		})
	}
}

// strangerCA writes a CA certificate no registry's certificate chains to.
func strangerCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stranger CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
