package registry_test

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// hinter is what errors that carry a fix implement.
type hinter interface{ Hint() string }

func TestCredentials(t *testing.T) {
	const user, password = "ci-bot", "correct-horse-battery"
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 4, Layers: 1, LayerSize: 10})
	for _, mode := range []string{"basic", "token", "token, anonymous tokens"} {
		t.Run(mode, func(t *testing.T) {
			opts := []registrytest.Option{registrytest.WithBasicAuth(user, password)}
			switch mode {
			case "token":
				opts = []registrytest.Option{registrytest.WithTokenAuth(user, password)}
			case "token, anonymous tokens":
				// Without credentials the request carries a token that
				// grants nothing: still no credentials.
				opts = []registrytest.Option{registrytest.WithTokenAuth(user, password), registrytest.WithAnonymousTokens()}
			}
			reg := registrytest.New(t, opts...)
			reg.PushImage(t, "app", "1", img)

			tests := []struct {
				name     string
				keychain func(t *testing.T) string // Docker config dir, "" for none
				wantErr  string                    // what the registry did; "" = success
			}{
				{"right credentials", func(t *testing.T) string { return dockerConfig(t, reg.Host, user, password) }, ""},
				{"wrong password", func(t *testing.T) string { return dockerConfig(t, reg.Host, user, "wrong-"+password) }, "rejected the credentials"},
				{"no credentials", func(t *testing.T) string { return t.TempDir() }, "requires credentials"},
				{"credentials for another registry", func(t *testing.T) string { return dockerConfig(t, "elsewhere.example", user, password) }, "requires credentials"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dir := tt.keychain(t)
					c := newClient(t, registry.WithKeychain(registry.DockerConfigKeychain(dir)))
					d, err := c.Resolve(t.Context(), reg.Host+"/app:1")
					if tt.wantErr == "" {
						if err != nil || d.Digest != img.Digest {
							t.Fatalf("Resolve = %v, %v; want %s", d.Digest, err, img.Digest)
						}
						return
					}
					var ae *registry.AuthError
					if !errors.Is(err, registry.ErrUnauthorized) || !errors.As(err, &ae) {
						t.Fatalf("err = %v, want ErrUnauthorized", err)
					}
					msg := err.Error()
					if strings.Contains(msg, password) || strings.Contains(msg, base64.StdEncoding.EncodeToString([]byte(user+":wrong-"+password))) {
						t.Errorf("error shows the password: %s", msg)
					}
					want := "resolving " + reg.Host + "/app:1: registry " + reg.Host + " " + tt.wantErr + " (HTTP 401)"
					if msg != want {
						t.Errorf("error = %q, want %q", msg, want)
					}
					var h hinter
					if !errors.As(err, &h) || !strings.Contains(h.Hint(), "docker login "+reg.Host) || !strings.Contains(h.Hint(), "DOCKER_CONFIG") {
						t.Errorf("no hint naming docker login and DOCKER_CONFIG in %v", err)
					}
				})
			}
		})
	}
}

func TestTokenRenewedWhenExpired(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithTokenAuth("u", "p"))
	a := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 2, LayerSize: 100})
	b := registrytest.NewImage(registrytest.ImageSpec{Seed: 2, Layers: 2, LayerSize: 100})
	reg.PushImage(t, "staging/app", "a", a)
	reg.PushImage(t, "staging/app", "b", b)
	c := newClient(t, registry.WithKeychain(registry.DockerConfigKeychain(dockerConfig(t, reg.Host, "u", "p"))))
	if _, err := c.Copy(t.Context(), reg.Host+"/staging/app:a", reg.Host+"/prod/app", registry.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	reg.ExpireTokens()
	if _, err := c.Copy(t.Context(), reg.Host+"/staging/app:b", reg.Host+"/prod/app", registry.CopyOptions{}); err != nil {
		t.Fatalf("copy after the token expired: %v", err)
	}
	if got := reg.Count(func(r registrytest.Request) bool { return r.Kind == registrytest.KindToken }); got != 2 {
		t.Errorf("%d token requests, want 2 (one, then one renewal)", got)
	}
}

// TestAnnounce: a write announced before the first request is in the
// first token exchange, so reads then a copy cost one exchange, not one
// for pull and another for push; a user who may only pull can still read
// after announcing a write, whether the token server grants less (the
// token specification) or refuses (asked again without the announced
// push), and the write itself fails. The announced push scope comes first
// (some registries read only the first).
func TestAnnounce(t *testing.T) {
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 7, Layers: 2, LayerSize: 100})
	tokens := func(reg *registrytest.Server) []string {
		var out []string
		for _, r := range reg.Requests() {
			if r.Kind == registrytest.KindToken {
				out = append(out, strings.Join(r.Scopes, " ")+" "+http.StatusText(r.Status))
			}
		}
		return out
	}
	tests := []struct {
		name     string
		opts     []registrytest.Option
		announce bool
		reads    []string // the token requests of the reads: scopes and answer
		all      []string // and with the copy's (nil: the copy fails)
	}{
		{name: "not announced",
			reads: []string{"repository:prod/app:pull OK"},
			all:   []string{"repository:prod/app:pull OK", "repository:prod/app:pull repository:prod/app:pull,push OK"}},
		{name: "announced", announce: true,
			reads: []string{"repository:prod/app:pull,push repository:prod/app:pull OK"},
			all:   []string{"repository:prod/app:pull,push repository:prod/app:pull OK"}},
		{name: "announced, pull only, push not granted", announce: true, opts: []registrytest.Option{registrytest.WithPullOnly(false)},
			reads: []string{"repository:prod/app:pull,push repository:prod/app:pull OK"}},
		{name: "announced, pull only, push refused", announce: true, opts: []registrytest.Option{registrytest.WithPullOnly(true)},
			reads: []string{"repository:prod/app:pull,push repository:prod/app:pull Forbidden", "repository:prod/app:pull OK"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			staging := registrytest.New(t)
			staging.PushImage(t, "app", "1.0.0", img)
			prod := registrytest.New(t, append([]registrytest.Option{registrytest.WithTokenAuth("u", "p")}, tt.opts...)...)
			prod.PushImage(t, "prod/app", "0.9.0", img)
			c := newClient(t, registry.WithKeychain(registry.DockerConfigKeychain(dockerConfig(t, prod.Host, "u", "p"))))
			if tt.announce {
				if err := c.Announce([]string{staging.Host + "/app"}, []string{prod.Host + "/prod/app"}); err != nil {
					t.Fatal(err)
				}
			}
			// The reads of a promotion, then its copy.
			if d, err := c.Resolve(t.Context(), prod.Host+"/prod/app:0.9.0"); err != nil || d.Digest != img.Digest {
				t.Fatalf("Resolve = %v, %v", d, err)
			}
			if diff := cmp.Diff(tt.reads, tokens(prod)); diff != "" {
				t.Errorf("token requests of the reads (-want +got):\n%s", diff)
			}
			_, err := c.Copy(t.Context(), staging.Host+"/app:1.0.0", prod.Host+"/prod/app", registry.CopyOptions{Tags: []string{"latest"}})
			if tt.all == nil {
				if err == nil {
					t.Fatal("a user who may not push copied")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.all, tokens(prod)); diff != "" {
				t.Errorf("token requests (-want +got):\n%s", diff)
			}
		})
	}
	if err := newClient(t).Announce([]string{"bad ref!"}, nil); !errors.Is(err, registry.ErrInvalidReference) {
		t.Errorf("Announce of a bad reference: err = %v, want ErrInvalidReference", err)
	}
}

// TestPullOnlyCredentialsRefusedClearly: credentials that may pull but not
// push end a copy with one AuthError naming what was refused, after at
// most one token exchange for the push (the token server granted pull
// only, and the registry says insufficient_scope): a token asked for the
// push is not renewed again and again until the retries give up with
// "credentials renewed". With the write announced (as promote does), the
// first token was already asked for the push.
func TestPullOnlyCredentialsRefusedClearly(t *testing.T) {
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 8, Layers: 2, LayerSize: 100})
	for _, announce := range []bool{false, true} {
		t.Run(fmt.Sprintf("announced=%t", announce), func(t *testing.T) {
			staging := registrytest.New(t)
			staging.PushImage(t, "app", "1.0.0", img)
			prod := registrytest.New(t, registrytest.WithTokenAuth("u", "p"), registrytest.WithPullOnly(false))
			c := newClient(t, registry.WithKeychain(registry.DockerConfigKeychain(dockerConfig(t, prod.Host, "u", "p"))))
			if announce {
				if err := c.Announce([]string{staging.Host + "/app"}, []string{prod.Host + "/prod/app"}); err != nil {
					t.Fatal(err)
				}
			}
			_, err := c.Copy(t.Context(), staging.Host+"/app:1.0.0", prod.Host+"/prod/app", registry.CopyOptions{Tags: []string{"1.0.0"}})
			var ae *registry.AuthError
			if !errors.As(err, &ae) || !errors.Is(err, registry.ErrUnauthorized) {
				t.Fatalf("Copy err = %v, want an *AuthError", err)
			}
			if want := "registry " + prod.Host + " refused push to prod/app to these credentials (HTTP 401)"; !strings.Contains(err.Error(), want) {
				t.Errorf("err = %q, want it to say %q", err, want)
			}
			if h := ae.Hint(); !strings.Contains(h, "may not do that") || !strings.Contains(h, "docker login "+prod.Host) {
				t.Errorf("Hint() = %q", h)
			}
			// Announced: the first token was asked for the push and is not
			// asked again. Not announced: a pull token, then one for the
			// push, unless the write's scope was noted before the first
			// exchange (the copy's reads and writes start at once).
			low, high := 1, 2
			if announce {
				high = 1
			}
			if got := prod.Count(func(r registrytest.Request) bool { return r.Kind == registrytest.KindToken }); got < low || got > high {
				t.Errorf("%d token requests, want %d to %d", got, low, high)
			}
			if writes := prod.Count(func(r registrytest.Request) bool { return r.Write() && r.Status < 300 }); writes != 0 {
				t.Errorf("%d writes succeeded at a registry that refuses the push", writes)
			}
		})
	}
}

func TestTLSNeedsTheCA(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithTLS())
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	reg.PushImage(t, "app", "1", img)

	_, err := newClient(t).Resolve(t.Context(), reg.Host+"/app:1")
	if !errors.Is(err, registry.ErrUnknownAuthority) {
		t.Fatalf("without the CA: err = %v, want ErrUnknownAuthority", err)
	}
	var h hinter
	if !errors.As(err, &h) || !strings.Contains(h.Hint(), "--ca-file") {
		t.Errorf("no hint naming --ca-file in %v", err)
	}

	d, err := newClient(t, registry.WithCAFile(reg.CAFile(t))).Resolve(t.Context(), reg.Host+"/app:1")
	if err != nil || d.Digest != img.Digest {
		t.Fatalf("with the CA: %v, %v", d, err)
	}
}

// dialTo is a transport whose every connection goes to addr, whatever the
// name asked for: it lets a test use a non-loopback name without any
// traffic leaving the machine.
func dialTo(addr string) *http.Transport {
	return &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

func TestPlainHTTPOnlyForLoopbackOrNamedHosts(t *testing.T) {
	reg := registrytest.New(t)
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	reg.PushImage(t, "app", "1", img)
	_, port, _ := net.SplitHostPort(reg.Host)
	name := "registry.example.test:" + port

	tests := []struct {
		name    string
		host    string
		opts    []registry.Option
		wantErr error
	}{
		{"loopback address", reg.Host, nil, nil},
		{"localhost", "localhost:" + port, nil, nil},
		{"other name refused", name, []registry.Option{registry.WithTransport(dialTo(reg.Host))}, registry.ErrInsecureRefused},
		{"other name allowed", name, []registry.Option{registry.WithTransport(dialTo(reg.Host)), registry.WithInsecureRegistry(name)}, nil},
		{"other host name allowed, any port", name, []registry.Option{registry.WithTransport(dialTo(reg.Host)), registry.WithInsecureRegistry("registry.example.test")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg.Reset()
			d, err := newClient(t, tt.opts...).Resolve(t.Context(), tt.host+"/app:1")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				var h hinter
				if !errors.As(err, &h) || !strings.Contains(h.Hint(), "--insecure-registry "+name) {
					t.Errorf("no hint naming --insecure-registry in %v", err)
				}
				if got := reg.Count(); got != 0 {
					t.Errorf("%d plain HTTP requests reached the registry", got)
				}
				return
			}
			if err != nil || d.Digest != img.Digest {
				t.Fatalf("Resolve = %v, %v", d, err)
			}
		})
	}
}

func TestRedirectFromHTTPSToHTTPRefused(t *testing.T) {
	plain := registrytest.New(t)
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	plain.PushImage(t, "app", "1", img)
	// An HTTPS front for the same content that sends blob downloads to
	// plain HTTP, as a misconfigured storage redirect would.
	front := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
			http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		plain.ServeHTTP(w, r)
	}))
	defer front.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(front.URL, "https://")
	_, err := newClient(t, registry.WithCAFile(ca)).Config(t.Context(), host+"/app:1")
	if err == nil || !strings.Contains(err.Error(), "refusing redirect from https to http") {
		t.Fatalf("err = %v, want the redirect refused", err)
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	const password = "hunter2-very-secret"
	host := echoingRegistry(t)
	c := newClient(t, registry.WithKeychain(registry.DockerConfigKeychain(dockerConfig(t, host, "me", password))))
	_, _, err := c.Manifest(t.Context(), host+"/app:1")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.Contains(msg, password) || strings.Contains(msg, base64.StdEncoding.EncodeToString([]byte("me:"+password))) {
		t.Errorf("error shows the credentials: %s", msg)
	}
	if !strings.Contains(msg, "[REDACTED]") {
		t.Errorf("error = %q, want the echoed secret redacted", msg)
	}
}
