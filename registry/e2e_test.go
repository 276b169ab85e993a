package registry_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// realRegistries are the two docker-registry servers of the test
// environment (scripts/testenv): one plain HTTP, one TLS with htpasswd.
// The variables are the ones `scripts/testenv env` prints (see
// docs/testing.md); the registry package reads them itself rather than
// through release/releasetest, because registry must not import release.
type realRegistries struct {
	plain, tls     string
	ca             string
	user, password string
}

func realEnv(t *testing.T) realRegistries {
	t.Helper()
	e := realRegistries{
		plain:    os.Getenv("RELEASE_TEST_REGISTRY"),
		tls:      os.Getenv("RELEASE_TEST_REGISTRY_TLS"),
		ca:       os.Getenv("RELEASE_TEST_REGISTRY_CA"),
		user:     os.Getenv("RELEASE_TEST_REGISTRY_USER"),
		password: os.Getenv("RELEASE_TEST_REGISTRY_PASSWORD"),
	}
	if e.plain == "" || e.tls == "" || e.ca == "" || e.user == "" {
		msg := "test environment not available (RELEASE_TEST_REGISTRY* unset): run `scripts/testenv up` and `eval \"$(scripts/testenv env)\"`, or `make test`"
		// As release/releasetest: CI set to anything but empty, 0 or false
		// wants the environment complete.
		if ci := strings.TrimSpace(os.Getenv("CI")); ci != "" {
			if b, err := strconv.ParseBool(ci); err != nil || b {
				t.Fatal("CI=" + ci + ": " + msg)
			}
		}
		t.Skip(msg)
	}
	return e
}

// seen is one request a counting transport saw.
type seen struct {
	method, host, path, query string
	status                    int
}

// counter is a transport that records every request, for request budgets
// against registries the test cannot look inside.
type counter struct {
	inner http.RoundTripper
	mu    sync.Mutex
	reqs  []seen
	after func(seen)
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.inner.RoundTrip(req)
	s := seen{method: req.Method, host: req.URL.Host, path: req.URL.Path, query: req.URL.RawQuery}
	if err == nil {
		s.status = resp.StatusCode
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, s)
	c.mu.Unlock()
	if c.after != nil {
		c.after(s)
	}
	return resp, err
}

// count counts the requests to host, the ping excluded (htpasswd
// registries have no token endpoint), that match f.
func (c *counter) count(host string, f func(seen) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.reqs {
		if s.host == host && s.path != "/v2/" && (f == nil || f(s)) {
			n++
		}
	}
	return n
}

func isWrite(s seen) bool { return s.method != http.MethodGet && s.method != http.MethodHead }

// isUpload is a completed blob upload (not a mount).
func isUpload(s seen) bool {
	return s.method == http.MethodPut && strings.Contains(s.path, "/blobs/uploads/") && s.status == http.StatusCreated
}

// client returns a client for the real registries (trusting the CA, with
// the htpasswd credentials) and its request counter.
func (e realRegistries) client(t *testing.T, password string) (*registry.Client, *counter) {
	t.Helper()
	pem, err := os.ReadFile(e.ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cnt := &counter{inner: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c := newClient(t,
		registry.WithTransport(cnt),
		registry.WithKeychain(registry.DockerConfigKeychain(dockerConfig(t, e.tls, e.user, password))))
	return c, cnt
}

// uniqueRepo names a repository no earlier run used (the registries keep
// their storage between runs).
func uniqueRepo(name string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "e2e/" + name + "-" + hex.EncodeToString(b)
}

// staged pushes an index with attestations, a cosign signature and a
// referrer to the plain registry, through an in-process registry.
func staged(t *testing.T, e realRegistries, seed uint64) (repo string, idx *registrytest.Index) {
	t.Helper()
	mem := registrytest.New(t)
	idx = registrytest.NewIndex(seed, []string{"linux/amd64", "linux/arm64"}, 3, 64<<10, true)
	mem.PushIndex(t, "app", "1.0.0", idx)
	mem.PushSignature(t, "app", idx.Digest, "sig", seed)
	mem.PushReferrer(t, "app", idx.Descriptor(), "application/spdx+json", seed+1)
	repo = e.plain + "/" + uniqueRepo("staging")
	c, _ := e.client(t, e.password)
	if _, err := c.Copy(t.Context(), mem.Host+"/app:1.0.0", repo, registry.CopyOptions{}); err != nil {
		t.Fatalf("staging the image: %v", err)
	}
	return repo, idx
}

func TestE2EPromote(t *testing.T) {
	e := realEnv(t)
	staging, idx := staged(t, e, 101)
	prod := e.tls + "/" + uniqueRepo("prod")
	c, _ := e.client(t, e.password)
	res, err := c.Copy(t.Context(), staging+":1.0.0", prod, registry.CopyOptions{Tags: []string{"1.0", "latest"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != idx.Digest {
		t.Errorf("digest %s, want %s", res.Digest, idx.Digest)
	}
	// Every manifest arrived byte for byte, under the same digest.
	for _, d := range append([]string{idx.Digest}, digests(idx.Images)...) {
		a, _, err := c.Manifest(t.Context(), staging+"@"+d)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := c.Manifest(t.Context(), prod+"@"+d)
		if err != nil {
			t.Fatalf("manifest %s at prod: %v", d, err)
		}
		if string(a) != string(b) {
			t.Errorf("manifest %s differs", d)
		}
	}
	for _, tag := range []string{"1.0.0", "1.0", "latest"} {
		d, err := c.Resolve(t.Context(), prod+":"+tag)
		if err != nil || d.Digest != idx.Digest {
			t.Errorf("%s:%s = %v, %v", prod, tag, d.Digest, err)
		}
	}
	atts, err := c.Attachments(t.Context(), prod+"@"+idx.Digest)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{}
	for _, a := range atts {
		kinds = append(kinds, a.Kind)
	}
	if !slices.Equal(kinds, []string{"sig", "referrer"}) {
		t.Errorf("attachments at prod: %v, want the signature and the referrer", kinds)
	}

	// A re-run, by digest as `release promote` knows it: at most 2
	// requests per tag at the destination (the signature tag and the
	// referrers fallback tag count as tags), nothing written.
	again, cnt := e.client(t, e.password)
	res, err = again.Copy(t.Context(), staging+":1.0.0@"+idx.Digest, prod, registry.CopyOptions{Tags: []string{"1.0", "latest"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range res.Tags {
		if tr.Action != registry.ActionUnchanged {
			t.Errorf("re-run: %s %s", tr.Tag, tr.Action)
		}
	}
	tags := 3 + 2
	t.Logf("re-run: %d requests at the destination, %d at the source", cnt.count(e.tls, nil), cnt.count(e.plain, nil))
	if n := cnt.count(e.tls, nil); n > 2*tags {
		t.Errorf("re-run made %d requests at the destination, want ≤ %d: %v", n, 2*tags, cnt.reqs)
	}
	if n := cnt.count(e.tls, isWrite); n != 0 {
		t.Errorf("re-run wrote %d times", n)
	}
}

func digests(imgs []*registrytest.Image) []string {
	var out []string
	for _, i := range imgs {
		out = append(out, i.Digest)
	}
	return out
}

func TestE2EMountInsideOneRegistry(t *testing.T) {
	e := realEnv(t)
	staging, idx := staged(t, e, 202)
	c, cnt := e.client(t, e.password)
	prod := e.tls + "/" + uniqueRepo("prod")
	if _, err := c.Copy(t.Context(), staging+":1.0.0", prod, registry.CopyOptions{NoAttachments: true}); err != nil {
		t.Fatal(err)
	}
	other := e.tls + "/" + uniqueRepo("other")
	before := cnt.count(e.tls, isUpload)
	res, err := c.Copy(t.Context(), prod+"@"+idx.Digest, other+":1.0.0", registry.CopyOptions{NoAttachments: true})
	if err != nil {
		t.Fatal(err)
	}
	blobs := 2*4 + 2*2
	if res.BlobsMounted != blobs || res.BlobsCopied != 0 {
		t.Errorf("result %+v, want %d mounted", res, blobs)
	}
	if n := cnt.count(e.tls, isUpload) - before; n != 0 {
		t.Errorf("%d uploads inside one registry, want mounts only", n)
	}
}

func TestE2ETagConflict(t *testing.T) {
	e := realEnv(t)
	staging, idx := staged(t, e, 303)
	other, _ := staged(t, e, 304)
	c, cnt := e.client(t, e.password)
	prod := e.tls + "/" + uniqueRepo("prod")
	if _, err := c.Copy(t.Context(), other+":1.0.0", prod, registry.CopyOptions{NoAttachments: true}); err != nil {
		t.Fatal(err)
	}
	writes := cnt.count(e.tls, isWrite)
	_, err := c.Copy(t.Context(), staging+":1.0.0", prod, registry.CopyOptions{Tags: []string{"latest"}})
	var conflict *registry.TagConflictError
	if !errors.As(err, &conflict) || conflict.Want != idx.Digest {
		t.Fatalf("err = %v, want a conflict on 1.0.0", err)
	}
	if n := cnt.count(e.tls, isWrite) - writes; n != 0 {
		t.Errorf("%d writes after the conflict was known", n)
	}
}

func TestE2EAuthAndTLS(t *testing.T) {
	e := realEnv(t)
	staging, _ := staged(t, e, 404)
	prod := e.tls + "/" + uniqueRepo("prod")
	c, _ := e.client(t, "not-"+e.password)
	_, err := c.Copy(t.Context(), staging+":1.0.0", prod, registry.CopyOptions{})
	if !errors.Is(err, registry.ErrUnauthorized) || strings.Contains(err.Error(), e.password) {
		t.Errorf("wrong password: err = %v, want ErrUnauthorized without the password", err)
	}
	plainTLS := newClient(t, registry.WithKeychain(registry.DockerConfigKeychain(dockerConfig(t, e.tls, e.user, e.password))))
	if _, err := plainTLS.Resolve(t.Context(), e.tls+"/any:1"); !errors.Is(err, registry.ErrUnknownAuthority) {
		t.Errorf("without the CA: err = %v, want ErrUnknownAuthority", err)
	}
	withCA := newClient(t, registry.WithCAFile(e.ca), registry.WithKeychain(registry.DockerConfigKeychain(dockerConfig(t, e.tls, e.user, e.password))))
	if _, err := withCA.Tags(t.Context(), prod); err != nil {
		t.Errorf("with the CA file: %v", err)
	}
}

func TestE2ECancelledThenRerun(t *testing.T) {
	e := realEnv(t)
	staging, idx := staged(t, e, 505)
	prod := e.tls + "/" + uniqueRepo("prod")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	first, cnt := e.client(t, e.password)
	var uploads atomic.Int32
	cnt.after = func(s seen) {
		if s.host == e.tls && isUpload(s) && uploads.Add(1) == 4 {
			cancel()
		}
	}
	_, err := first.Copy(ctx, staging+":1.0.0", prod, registry.CopyOptions{Tags: []string{"latest"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: err = %v, want cancelled", err)
	}
	arrived := uploadedDigests(cnt, e.tls)

	second, cnt2 := e.client(t, e.password)
	if tags, err := second.Tags(t.Context(), prod); err != nil || len(tags) != 0 {
		t.Fatalf("after the cancelled run prod has tags %v (%v), want none", tags, err)
	}
	res, err := second.Copy(t.Context(), staging+":1.0.0", prod, registry.CopyOptions{Tags: []string{"latest"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range uploadedDigests(cnt2, e.tls) {
		if slices.Contains(arrived, d) {
			t.Errorf("blob %s uploaded again", d)
		}
	}
	if res.Digest != idx.Digest || res.BlobsSkipped < len(arrived) {
		t.Errorf("re-run %+v, want %d blobs skipped", res, len(arrived))
	}
}

// uploadedDigests lists the digests of completed uploads to host.
func uploadedDigests(c *counter, host string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.reqs {
		if s.host == host && isUpload(s) {
			if i := strings.Index(s.query, "digest=sha256%3A"); i >= 0 {
				out = append(out, "sha256:"+s.query[i+len("digest=sha256%3A"):][:64])
			}
		}
	}
	return out
}
