package registry_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// serve runs h on a loopback port (plain HTTP, which loopback is allowed)
// for the test and returns its host:port.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// requestLog records the requests a server got.
type requestLog struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (s *requestLog) add(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r.Clone(r.Context()))
}

func (s *requestLog) all() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

// TestRedirectToStorageCarriesNoCredentials: a registry that sends blob
// downloads to storage on another host (S3, a CDN) gets the credentials;
// the storage never does, whatever the authentication.
func TestRedirectToStorageCarriesNoCredentials(t *testing.T) {
	const user, password = "ci", "storage-must-not-see-this"
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 31, Layers: 2, LayerSize: 100})
	blobs := map[string][]byte{}
	for _, b := range img.Blobs() {
		blobs[digestOf(b)] = b
	}
	for _, mode := range []string{"basic", "token"} {
		t.Run(mode, func(t *testing.T) {
			opt := registrytest.WithBasicAuth(user, password)
			if mode == "token" {
				opt = registrytest.WithTokenAuth(user, password)
			}
			reg := registrytest.New(t, opt)
			reg.PushImage(t, "app", "1", img)
			var storage requestLog
			storageHost := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				storage.add(r)
				b, ok := blobs[r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]]
				if !ok {
					http.NotFound(w, r)
					return
				}
				w.Write(b)
			}))
			// The registry answers blob GETs it authorised with a
			// redirect to the storage host. Its token realm is its own
			// host (the one in front).
			var host string
			host = serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") && r.Header.Get("Authorization") != "" {
					http.Redirect(w, r, "http://"+storageHost+"/bucket/"+r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:], http.StatusTemporaryRedirect)
					return
				}
				reg.ServeHTTP(realmRewriter{ResponseWriter: w, from: reg.URL, to: "http://" + host}, r)
			}))
			c := newClient(t, registry.WithKeychain(registry.DockerConfigKeychain(dockerConfig(t, host, user, password))))
			if _, err := c.Config(t.Context(), host+"/app:1"); err != nil {
				t.Fatalf("Config: %v", err)
			}
			// A copy to another registry streams the layers through the
			// same redirect.
			dst := registrytest.New(t)
			if _, err := c.Copy(t.Context(), host+"/app:1", dst.Host+"/app", registry.CopyOptions{}); err != nil {
				t.Fatalf("Copy: %v", err)
			}
			sameManifest(t, reg, dst, "app", "app", img.Digest)
			got := storage.all()
			if len(got) != 1+len(img.Blobs()) {
				t.Errorf("storage got %d requests, want %d (the config, then every blob)", len(got), 1+len(img.Blobs()))
			}
			for _, r := range got {
				if a := r.Header.Get("Authorization"); a != "" {
					t.Errorf("storage got %s with Authorization %q", r.URL.Path, a)
				}
				if strings.Contains(r.URL.String(), password) {
					t.Errorf("storage URL %s carries the password", r.URL)
				}
			}
		})
	}
}

// realmRewriter points the token realm of a registry's challenges at the
// host in front of it.
type realmRewriter struct {
	http.ResponseWriter
	from, to string
}

func (w realmRewriter) WriteHeader(code int) {
	if v := w.Header().Get("WWW-Authenticate"); v != "" {
		w.Header().Set("WWW-Authenticate", strings.ReplaceAll(v, w.from, w.to))
	}
	w.ResponseWriter.WriteHeader(code)
}

// TestRedirectsStopAfterTen: at most 10 requests follow one another
// through redirects (the first and 9 redirects), as net/http's own policy;
// a loop ends there, with an error, and is not retried.
func TestRedirectsStopAfterTen(t *testing.T) {
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 32, Layers: 1, LayerSize: 10})
	tests := []struct {
		name      string
		redirects int // before the blob is served; -1 for a loop
		wantErr   bool
		wantHops  int // requests of the config's chain
	}{
		{"9 redirects", 9, false, 10},
		{"10 redirects", 10, true, 10},
		{"a loop", -1, true, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := registrytest.New(t)
			reg.PushImage(t, "app", "1", img)
			var hops requestLog
			host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/blobs/") {
					reg.ServeHTTP(w, r)
					return
				}
				hops.add(r)
				n, _ := strconv.Atoi(r.URL.Query().Get("hop"))
				if tt.redirects < 0 || n < tt.redirects {
					next := n + 1
					if tt.redirects < 0 {
						next = 1 // back and forth: a loop
					}
					http.Redirect(w, r, fmt.Sprintf("%s?hop=%d", r.URL.Path, next), http.StatusFound)
					return
				}
				reg.ServeHTTP(w, r)
			}))
			_, err := newClient(t).Config(t.Context(), host+"/app:1")
			switch {
			case tt.wantErr && (err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects")):
				t.Errorf("err = %v, want one saying it stopped after 10 redirects", err)
			case !tt.wantErr && err != nil:
				t.Errorf("err = %v", err)
			}
			if got := len(hops.all()); got != tt.wantHops {
				t.Errorf("%d requests through the redirects, want %d", got, tt.wantHops)
			}
		})
	}
}

// TestTagListLinkStaysOnTheRegistry: a tag list page whose Link points at
// another host (or at a page already read) is an error; the other host is
// never asked.
func TestTagListLinkStaysOnTheRegistry(t *testing.T) {
	var other requestLog
	otherHost := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.add(r)
		json.NewEncoder(w).Encode(map[string]any{"name": "app", "tags": []string{"stolen"}})
	}))
	tests := []struct {
		name, link, want string
	}{
		{"another host", "<http://" + otherHost + "/v2/app/tags/list?last=1>; rel=\"next\"", "points away from the registry"},
		{"another scheme", "<https://HOST/v2/app/tags/list?last=1>; rel=\"next\"", "points away from the registry"},
		{"the page itself", "</v2/app/tags/list?n=1000>; rel=\"next\"", "tag list pages loop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var host string
			var pages requestLog
			host = serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v2/app/tags/list" {
					http.NotFound(w, r)
					return
				}
				// A client that does not notice the loop ends after 3
				// pages rather than never.
				if pages.add(r); len(pages.all()) <= 3 {
					w.Header().Set("Link", strings.ReplaceAll(tt.link, "HOST", host))
				}
				json.NewEncoder(w).Encode(map[string]any{"name": "app", "tags": []string{"1"}})
			}))
			tags, err := newClient(t).Tags(t.Context(), host+"/app")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Tags = %v, %v; want an error saying %q", tags, err, tt.want)
			}
			if n := len(other.all()); n != 0 {
				t.Errorf("the other host got %d requests", n)
			}
		})
	}
}

// TestResponseSizeCaps: what is read into memory is capped (manifests and
// tag pages 4 MiB, configs 8 MiB); a body at its cap is read, one byte
// more is ErrTooLarge.
func TestResponseSizeCaps(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name                   string
		manifest, config, tags int // body sizes; 0 = as small as it comes
		read                   string
		wantTooLarge           bool
	}{
		{name: "manifest at its cap", manifest: 4 * mib, read: "manifest"},
		{name: "manifest over its cap", manifest: 4*mib + 1, read: "manifest", wantTooLarge: true},
		{name: "config at its cap", config: 8 * mib, read: "config"},
		{name: "config over its cap", config: 8*mib + 1, read: "config", wantTooLarge: true},
		{name: "tag page at its cap", tags: 4 * mib, read: "tags"},
		{name: "tag page over its cap", tags: 4*mib + 1, read: "tags", wantTooLarge: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := padJSON(t, []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`), tt.config)
			manifest := padJSON(t, mustMarshal(t, map[string]any{
				"schemaVersion": 2,
				"mediaType":     registrytest.MediaOCIManifest,
				"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digestOf(config), "size": len(config)},
				"layers":        []any{},
			}), tt.manifest)
			tags := padJSON(t, []byte(`{"name":"app","tags":["1"]}`), tt.tags)
			host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/v2/app/manifests/1":
					w.Header().Set("Content-Type", registrytest.MediaOCIManifest)
					w.Write(manifest)
				case "/v2/app/blobs/" + digestOf(config):
					w.Write(config)
				case "/v2/app/tags/list":
					w.Write(tags)
				default:
					http.NotFound(w, r)
				}
			}))
			c := newClient(t)
			var err error
			switch tt.read {
			case "manifest":
				var raw []byte
				raw, _, err = c.Manifest(t.Context(), host+"/app:1")
				if err == nil && !bytes.Equal(raw, manifest) {
					t.Error("Manifest returned other bytes")
				}
			case "config":
				var raw []byte
				raw, err = c.Config(t.Context(), host+"/app:1")
				if err == nil && !bytes.Equal(raw, config) {
					t.Error("Config returned other bytes")
				}
			case "tags":
				var got []string
				got, err = c.Tags(t.Context(), host+"/app")
				if err == nil && (len(got) != 1 || got[0] != "1") {
					t.Errorf("Tags = %v", got)
				}
			}
			if tt.wantTooLarge != errors.Is(err, registry.ErrTooLarge) {
				t.Errorf("err = %v, want ErrTooLarge: %v", err, tt.wantTooLarge)
			}
			if !tt.wantTooLarge && err != nil {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// TestEndlessBodyIsNotReadToTheEnd: a body over its cap is not read
// further than the cap (plus what the connection buffered): a registry, or
// what poses as one, cannot make the client read without end.
func TestEndlessBodyIsNotReadToTheEnd(t *testing.T) {
	const body = 256 << 20
	var mu sync.Mutex
	written := 0
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", registrytest.MediaOCIManifest)
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		for n := 0; n < body; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return // the client hung up
			}
			mu.Lock()
			written += len(chunk)
			mu.Unlock()
		}
	}))
	_, _, err := newClient(t).Manifest(t.Context(), host+"/app:1")
	if !errors.Is(err, registry.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("the server wrote %d KiB", written>>10)
	if written > 64<<20 {
		t.Errorf("the server wrote %d MiB before the client hung up; the cap is 4 MiB", written>>20)
	}
}

// padJSON pads a JSON object with spaces before its closing brace to size
// bytes (no padding for 0).
func padJSON(t *testing.T, doc []byte, size int) []byte {
	t.Helper()
	if size == 0 {
		return doc
	}
	if size < len(doc) {
		t.Fatalf("cannot pad %d bytes down to %d", len(doc), size)
	}
	out := make([]byte, 0, size)
	out = append(out, doc[:len(doc)-1]...)
	out = append(out, bytes.Repeat([]byte(" "), size-len(doc))...)
	return append(out, '}')
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
