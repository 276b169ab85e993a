package registry_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// TestFirstRequestFindsOutAuth: no ping before the first request; the
// first answer says what the host wants, and the requests sent at the same
// time wait for it (one challenge per host, not one per request).
func TestFirstRequestFindsOutAuth(t *testing.T) {
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	tags := []string{"1", "2", "3", "4", "5", "6"}
	tests := []struct {
		mode string
		// want counts requests by "METHOD kind status".
		want map[string]int
	}{
		{"anonymous", map[string]int{"HEAD manifest 200": 6}},
		{"basic", map[string]int{"HEAD manifest 401": 1, "HEAD manifest 200": 6}},
		{"token", map[string]int{"HEAD manifest 401": 1, "GET token 200": 1, "HEAD manifest 200": 6}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			var opts []registrytest.Option
			switch tt.mode {
			case "basic":
				opts = append(opts, registrytest.WithBasicAuth("u", "p"))
			case "token":
				opts = append(opts, registrytest.WithTokenAuth("u", "p"))
			}
			reg := registrytest.New(t, opts...)
			for _, tag := range tags {
				reg.PushImage(t, "app", tag, img)
			}
			net := registrytest.NewNetwork(10*time.Millisecond, reg)
			keychain := registry.DockerConfigKeychain(dockerConfig(t, reg.Host, "u", "p"))
			synctest.Test(t, func(t *testing.T) {
				c := newClient(t, registry.WithTransport(net), registry.WithKeychain(keychain))
				var wg sync.WaitGroup
				for _, tag := range tags {
					wg.Go(func() {
						if _, err := c.Resolve(t.Context(), reg.Host+"/app:"+tag); err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
			})
			got := map[string]int{}
			for _, r := range reg.Requests() {
				got[fmt.Sprintf("%s %s %d", r.Method, r.Kind, r.Status)]++
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// hidingRegistry serves reg behind Basic auth that lets anonymous clients
// read repositories under "public/" and answers 404 to anything else they
// ask (a registry hiding what a client may not see), while GET /v2/ asks
// for credentials. pingOK makes GET /v2/ answer 200 to anyone instead,
// and writes then need credentials without the host saying so.
func hidingRegistry(t *testing.T, reg *registrytest.Server, pingOK bool) string {
	t.Helper()
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authed := r.Header.Get("Authorization") == want
		read := r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case authed:
		case r.URL.Path == "/v2/" && pingOK:
			w.WriteHeader(http.StatusOK)
			return
		case r.URL.Path == "/v2/" || !read:
			w.Header().Set("WWW-Authenticate", `Basic realm="hiding"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		case !strings.HasPrefix(r.URL.Path, "/v2/public/"):
			http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestNotFoundBelievedOnlyAfterPing: a 404 from a host that was not asked
// for credentials is believed only once GET /v2/ says it wants none; an
// immutable tag hidden from anonymous clients is found, not overwritten.
func TestNotFoundBelievedOnlyAfterPing(t *testing.T) {
	a := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	b := registrytest.NewImage(registrytest.ImageSpec{Seed: 2, Layers: 1, LayerSize: 10})
	tests := []struct {
		name  string
		first string // what the fresh client reads first
	}{
		{"first answer 404", "private/app:1"},
		{"first answer 200, then 404", "public/app:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := registrytest.New(t)
			reg.PushImage(t, "public/app", "1", a)
			reg.PushImage(t, "private/app", "1", b)
			host := hidingRegistry(t, reg, false)
			c := newClient(t, registry.WithKeychain(registry.DockerConfigKeychain(dockerConfig(t, host, "u", "p"))))
			if _, err := c.Resolve(t.Context(), host+"/"+tt.first); err != nil {
				t.Fatal(err)
			}
			d, err := c.Resolve(t.Context(), host+"/private/app:1")
			if err != nil || d.Digest != b.Digest {
				t.Fatalf("Resolve(private/app:1) = %v, %v; want %s", d.Digest, err, b.Digest)
			}
			_, err = c.Copy(t.Context(), host+"/public/app:1", host+"/private/app:1", registry.CopyOptions{})
			if !errors.Is(err, registry.ErrTagConflict) {
				t.Fatalf("copy over a hidden tag: err = %v, want ErrTagConflict", err)
			}
			if got, _, _ := reg.Manifest("private/app", "1"); string(got) != string(b.Manifest) {
				t.Error("private/app:1 was overwritten")
			}
		})
	}
}

// TestAnonymousHostWritesNeedingCredentials: a write answered 401 by a
// host whose reads needed no credentials is sent again with them, unless
// "not found" answers about its repository were believed only because GET
// /v2/ said the host wants none: then they could have hidden what the
// write would replace, and the 401 stands.
func TestAnonymousHostWritesNeedingCredentials(t *testing.T) {
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	hidden := registrytest.NewImage(registrytest.ImageSpec{Seed: 2, Layers: 1, LayerSize: 10})
	tests := []struct {
		name    string
		pingOK  bool
		dst     string
		wantErr error
	}{
		{"ping asks for credentials", false, "public/app:2", nil},
		{"ping asks for none, readable repository", true, "public/app:2", nil},
		{"ping asks for none, hidden repository", true, "private/app:1", registry.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := registrytest.New(t)
			reg.PushImage(t, "public/app", "1", img)
			reg.PushImage(t, "private/app", "1", hidden)
			host := hidingRegistry(t, reg, tt.pingOK)
			c := newClient(t, registry.WithKeychain(registry.DockerConfigKeychain(dockerConfig(t, host, "u", "p"))))
			_, err := c.Copy(t.Context(), host+"/public/app:1", host+"/"+tt.dst, registry.CopyOptions{})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				// The credentials were not sent: they are not wrong.
				if !strings.Contains(err.Error(), "requires credentials (HTTP 401)") {
					t.Errorf("err = %v, want the registry to require credentials", err)
				}
				if got, _, _ := reg.Manifest("private/app", "1"); string(got) != string(hidden.Manifest) {
					t.Error("private/app:1 was overwritten")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			repo, tag, _ := strings.Cut(tt.dst, ":")
			if got, _, ok := reg.Manifest(repo, tag); !ok || string(got) != string(img.Manifest) {
				t.Errorf("%s does not name the image", tt.dst)
			}
		})
	}
}

// TestWaitingForTheFirstAnswerHonoursTheContext: a request waiting for the
// host's first answer gives up when its context ends.
func TestWaitingForTheFirstAnswerHonoursTheContext(t *testing.T) {
	reg := registrytest.New(t)
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	reg.PushImage(t, "app", "1", img)
	release := make(chan struct{})
	arrived := make(chan struct{})
	var once sync.Once
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			close(arrived)
			<-release
		})
		reg.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(slow)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { once.Do(func() {}) })
	host := strings.TrimPrefix(srv.URL, "http://")
	c := newClient(t)

	first := make(chan error, 1)
	go func() {
		_, err := c.Resolve(t.Context(), host+"/app:1")
		first <- err
	}()
	<-arrived
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Resolve(ctx, host+"/app:1"); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting request: err = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("first request: %v", err)
	}
}

// TestReferrersAPIAndFallbackAtOnce: while a host's referrers support is
// unknown, the API and the fallback tag are asked at once (one round
// trip); once it is known, only what it has.
func TestReferrersAPIAndFallbackAtOnce(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(fmt.Sprintf("referrers API %v", api), func(t *testing.T) {
			// HTTPS: concurrent requests share one connection.
			reg := registrytest.New(t, registrytest.WithTLS(), registrytest.WithReferrersAPI(api))
			img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
			other := registrytest.NewImage(registrytest.ImageSpec{Seed: 2, Layers: 1, LayerSize: 10})
			reg.PushImage(t, "app", "1", img)
			reg.PushImage(t, "app", "2", other)
			sbom := reg.PushReferrer(t, "app", img.Descriptor(), "application/spdx+json", 3)
			net := registrytest.NewNetwork(10*time.Millisecond, reg)
			var first, second time.Duration
			synctest.Test(t, func(t *testing.T) {
				c := newClient(t, registry.WithTransport(net))
				// The host's first answer out of the way.
				if _, err := c.Resolve(t.Context(), reg.Host+"/app:1"); err != nil {
					t.Fatal(err)
				}
				reg.Reset()
				for i, d := range []string{img.Digest, other.Digest} {
					start := time.Now()
					refs, err := c.Referrers(t.Context(), reg.Host+"/app@"+d)
					if err != nil {
						t.Fatal(err)
					}
					if i == 0 {
						first = time.Since(start)
						if len(refs) != 1 || refs[0].Digest != sbom.Digest {
							t.Errorf("referrers: %+v, want the SBOM", refs)
						}
					} else {
						second = time.Since(start)
					}
				}
			})
			if first != 10*time.Millisecond || second != 10*time.Millisecond {
				t.Errorf("lookups took %v and %v, want one round trip each", first, second)
			}
			var got []string
			for _, r := range reg.Requests() {
				if !r.Auth() {
					got = append(got, r.Method+" "+string(r.Kind))
				}
			}
			// The first lookup asks both; the second only what the host has.
			want := []string{"GET referrers", "GET manifest", "GET referrers"}
			if !api {
				want = []string{"GET referrers", "GET manifest", "GET manifest"}
			}
			if diff := cmp.Diff(sortedCopy(want), sortedCopy(got)); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
