package main

// End-to-end tests of release promote and retag against the test
// environment's two registries (docker-registry 2.8: "staging" over plain
// HTTP, "prod" over TLS with htpasswd), run as a user runs the command.
// What arrives is checked with skopeo, not with our own client. Requests
// are counted, and faults injected, by a transport between the command and
// the real registries.

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
	"github.com/releasetool/release/release/releasetest"
)

// e2eRegistries is the test environment as the promote tests use it.
type e2eRegistries struct {
	env            releasetest.Environment
	staging, prod  string // host:port
	run            string // a suffix unique to this test run
	seeder         *registry.Client
	mem            *registrytest.Server
	dockerConfig   string // logged in to prod
	tlsConfigTrust func() *http.Transport
}

func newE2E(t *testing.T) *e2eRegistries {
	t.Helper()
	e := releasetest.Env(t)
	b := make([]byte, 4)
	cryptorand.Read(b)
	seeder, err := registry.New(registry.WithCAFile(e.RegistryCA()), registry.WithKeychain(registry.DockerConfigKeychain(e.DockerConfig())))
	if err != nil {
		t.Fatal(err)
	}
	r := &e2eRegistries{
		env: e, staging: e.Registry(), prod: e.RegistryTLS(), run: hex.EncodeToString(b),
		seeder: seeder, mem: registrytest.New(t), dockerConfig: e.DockerConfig(),
	}
	r.tlsConfigTrust = func() *http.Transport {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = e.RegistryTLSConfig(t)
		return tr
	}
	return r
}

// repo is a repository path unique to this run.
func (r *e2eRegistries) repo(name string) string { return "e2e/promote-" + r.run + "/" + name }

// seedImage puts img under host/repo:tag (through the in-process registry
// and the registry client: setup, not what is tested).
func (r *e2eRegistries) seedImage(t *testing.T, host, repo, tag string, img *registrytest.Image) {
	t.Helper()
	r.mem.PushImage(t, repo, tag, img)
	r.seed(t, host, repo, tag)
}

func (r *e2eRegistries) seedIndex(t *testing.T, host, repo, tag string, idx *registrytest.Index) {
	t.Helper()
	r.mem.PushIndex(t, repo, tag, idx)
	r.seed(t, host, repo, tag)
}

func (r *e2eRegistries) seed(t *testing.T, host, repo, tag string) {
	t.Helper()
	if _, err := r.seeder.Copy(t.Context(), r.mem.Host+"/"+repo+":"+tag, host+"/"+repo, registry.CopyOptions{}); err != nil {
		t.Fatalf("seeding %s/%s:%s: %v", host, repo, tag, err)
	}
}

// skopeoRaw returns the manifest bytes ref names, read by skopeo ("" when
// there is none).
func (r *e2eRegistries) skopeoRaw(t *testing.T, ref string) string {
	t.Helper()
	args := append([]string{"inspect", "--raw"}, r.skopeoAuth(ref)...)
	cmd := exec.CommandContext(t.Context(), "skopeo", append(args, "docker://"+ref)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "manifest unknown") || strings.Contains(stderr.String(), "not found") {
			return ""
		}
		t.Fatalf("skopeo inspect %s: %v\n%s", ref, err, stderr.String())
	}
	return string(out)
}

// skopeoDigest is the digest of what ref names, read by skopeo.
func (r *e2eRegistries) skopeoDigest(t *testing.T, ref string) string {
	t.Helper()
	raw := r.skopeoRaw(t, ref)
	if raw == "" {
		return ""
	}
	return sha([]byte(raw))
}

// skopeoTags lists the tags of repo (host/path), read by skopeo; none for
// a repository the registry does not know (docker-registry answers the
// tag list of a repository without tags, or with blobs only, 404).
func (r *e2eRegistries) skopeoTags(t *testing.T, repo string) []string {
	t.Helper()
	args := append([]string{"list-tags"}, r.skopeoAuth(repo)...)
	cmd := exec.CommandContext(t.Context(), "skopeo", append(args, "docker://"+repo)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "404") || strings.Contains(stderr.String(), "name unknown") {
			return nil
		}
		t.Fatalf("skopeo list-tags %s: %v\n%s", repo, err, stderr.String())
	}
	var doc struct{ Tags []string }
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("skopeo list-tags %s: %v\n%s", repo, err, out)
	}
	return doc.Tags
}

// skopeoAuth are skopeo's TLS and credential flags for ref's registry.
func (r *e2eRegistries) skopeoAuth(ref string) []string {
	if strings.HasPrefix(ref, r.prod+"/") {
		return []string{"--cert-dir", r.env.RegistryCertDir(), "--creds", r.env.RegistryUser() + ":" + r.env.RegistryPassword()}
	}
	return []string{"--tls-verify=false"}
}

// skopeoState is every tag of repo and the digest it names, read by
// skopeo.
func (r *e2eRegistries) skopeoState(t *testing.T, repo string) map[string]string {
	t.Helper()
	state := map[string]string{}
	for _, tag := range r.skopeoTags(t, repo) {
		state[tag] = r.skopeoDigest(t, repo+":"+tag)
	}
	return state
}

// watched is one request the e2e transport saw.
type watched struct {
	method, scheme, host, path, query string
	status                            int
	fault                             string
	// twin marks a plain-HTTP request to the TLS registry (prod): the
	// twin of the client's first request to a host that may speak plain
	// HTTP (a loopback host is asked over HTTPS and plain HTTP at once,
	// registry's host.first; the HTTPS answer wins, and the plain one is
	// a 400 from the TLS server or cut short). It is not authentication,
	// so budgets count it (and tests bound it on its own: one per run).
	twin bool
}

// auth reports the authentication handshake budgets exclude: pings,
// token requests, and requests answered 401 (the first request's
// challenge, answered before it is sent again).
func (w watched) auth() bool {
	return !w.twin && (w.path == "/v2/" || strings.Contains(w.query, "scope=") || w.status == http.StatusUnauthorized)
}
func (w watched) isTwin() bool { return w.twin }
func (w watched) write() bool  { return w.method != http.MethodGet && w.method != http.MethodHead }
func (w watched) upload() bool {
	return w.method == http.MethodPut && strings.Contains(w.path, "/blobs/uploads/") && w.status == http.StatusCreated
}
func (w watched) mount() bool {
	return w.method == http.MethodPost && strings.Contains(w.query, "mount=") && w.status == http.StatusCreated
}

// watcher counts the requests of a run and can inject faults: 500s, 429s
// with Retry-After, connections dropped before the request is sent, and
// after it took effect at the registry.
type watcher struct {
	inner   http.RoundTripper
	tlsHost string // the registry that speaks only HTTPS (see watched.twin)

	mu       sync.Mutex
	seen     []watched
	rate     float64
	rng      *rand.Rand
	onUpload func()
}

func (w *watcher) RoundTrip(req *http.Request) (*http.Response, error) {
	seen := watched{method: req.Method, scheme: req.URL.Scheme, host: req.URL.Host, path: req.URL.Path, query: req.URL.RawQuery}
	seen.twin = seen.scheme == "http" && seen.host == w.tlsHost
	w.mu.Lock()
	if w.rate > 0 && w.rng.Float64() < w.rate {
		seen.fault = []string{"500", "429", "drop", "drop-after"}[w.rng.IntN(4)]
	}
	w.mu.Unlock()
	record := func() {
		w.mu.Lock()
		w.seen = append(w.seen, seen)
		onUpload := w.onUpload
		w.mu.Unlock()
		if seen.upload() && onUpload != nil {
			onUpload()
		}
	}
	synthetic := func(status int, h http.Header) *http.Response {
		if req.Body != nil {
			req.Body.Close()
		}
		seen.status = status
		record()
		return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h, Body: io.NopCloser(strings.NewReader("")), Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	}
	switch seen.fault {
	case "500":
		return synthetic(http.StatusInternalServerError, http.Header{}), nil
	case "429":
		return synthetic(http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}), nil
	case "drop":
		synthetic(0, nil)
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	resp, err := w.inner.RoundTrip(req)
	if err != nil {
		record()
		return nil, err
	}
	seen.status = resp.StatusCode
	if seen.fault == "drop-after" {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		record()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	record()
	return resp, nil
}

// count counts the requests to host that match.
func (w *watcher) count(host string, match func(watched) bool) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, s := range w.seen {
		if s.host == host && match(s) {
			n++
		}
	}
	return n
}

func (w *watcher) summary(host string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, s := range w.seen {
		if s.host == host {
			fmt.Fprintf(&b, "%s %s://%s %d %s\n", s.method, s.scheme, s.path, s.status, s.fault)
		}
	}
	return b.String()
}

func (w *watcher) reset() {
	w.mu.Lock()
	w.seen = nil
	w.mu.Unlock()
}

// watched returns a cliEnv whose registry traffic goes through a new
// watcher (which trusts prod's CA, so no --ca-file is passed with it).
func (r *e2eRegistries) watched(opts ...registry.Option) (cliEnv, *watcher) {
	w := &watcher{inner: r.tlsConfigTrust(), tlsHost: r.prod}
	return cliEnv{dockerConfig: r.dockerConfig, options: append([]registry.Option{registry.WithTransport(w)}, opts...)}, w
}

func e2eLabels(version, revision string) map[string]string {
	m := map[string]string{"org.opencontainers.image.source": "https://git.example.com/team/app"}
	if version != "" {
		m["org.opencontainers.image.version"] = version
	}
	if revision != "" {
		m["org.opencontainers.image.revision"] = revision
	}
	return m
}

func TestE2EPromote(t *testing.T) {
	r := newE2E(t)
	src := r.repo("staging")
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 3, LayerSize: 50_000, Labels: e2eLabels("1.0.0", revOne)})
	r.seedImage(t, r.staging, src, "1.0.0", img)
	idx := buildkitIndex(2, "1.1.0", revTwo)
	sig := r.mem.PushSignature(t, src, idx.Digest, "sig", 1)
	sbom := r.mem.PushReferrer(t, src, idx.Descriptor(), "application/spdx+json", 2)
	r.seedIndex(t, r.staging, src, "1.1.0", idx)
	if r.skopeoDigest(t, r.staging+"/"+src+":1.1.0") != idx.Digest {
		t.Fatal("seeding the index changed its digest")
	}

	for _, tt := range []struct {
		name, tag, digest string
		revision          string
		children          []string
		attachments       []string // tags at prod
	}{
		{name: "single image", tag: "1.0.0", digest: img.Digest, revision: revOne},
		{name: "index with attestations, a signature and a referrer", tag: "1.1.0", digest: idx.Digest, revision: revTwo, children: digestsOf(idx.Images),
			attachments: []string{strings.Replace(idx.Digest, ":", "-", 1) + ".sig", strings.Replace(idx.Digest, ":", "-", 1)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dst := r.prod + "/" + r.repo("prod-"+tt.tag)
			ce, w := r.watched()
			args := []string{"promote", "--json", r.staging + "/" + src + ":" + tt.tag, dst}
			doc := decodePromote(t, runCLI(t, t.Context(), ce, args...))
			if doc.Digest != tt.digest {
				t.Errorf("promoted %s, want %s", doc.Digest, tt.digest)
			}
			for _, tag := range []string{tt.tag, "sha-" + tt.revision[:12], "latest"} {
				if got := r.skopeoDigest(t, dst+":"+tag); got != tt.digest {
					t.Errorf("skopeo: %s:%s names %s, want %s", dst, tag, got, tt.digest)
				}
			}
			for _, d := range tt.children {
				if r.skopeoRaw(t, dst+"@"+d) != r.skopeoRaw(t, r.staging+"/"+src+"@"+d) {
					t.Errorf("child manifest %s differs at prod", d)
				}
			}
			for _, tag := range tt.attachments {
				if r.skopeoRaw(t, dst+":"+tag) == "" {
					t.Errorf("attachment tag %s did not arrive", tag)
				}
			}
			if len(tt.attachments) > 0 {
				// The signature byte for byte: the .sig tag names at prod
				// what it names at staging (the referrers' fallback tag is
				// the destination's own index, so it is checked by content
				// below, not by digest).
				tag := tt.attachments[0]
				got, atStaging := r.skopeoDigest(t, dst+":"+tag), r.skopeoDigest(t, r.staging+"/"+src+":"+tag)
				if got != sig.Digest || atStaging != sig.Digest {
					t.Errorf("skopeo: %s names %s at prod and %s at staging, want the signature %s", tag, got, atStaging, sig.Digest)
				}
			}
			if len(tt.attachments) > 0 && !strings.Contains(r.skopeoRaw(t, dst+":"+tt.attachments[1]), sbom.Digest) {
				t.Error("the referrers fallback index at prod does not list the SBOM")
			}

			// The re-run: nothing written, at most 2 requests per tag at
			// prod (attachment tags included), the auth handshake apart
			// (prod's one challenge: a 401) but the plain-HTTP twin of the
			// first request counted (it is a request prod answers), and
			// bounded on its own.
			w.reset()
			again := decodePromote(t, runCLI(t, t.Context(), ce, args...))
			tags := len(again.Tags) + len(tt.attachments)
			n := w.count(r.prod, func(s watched) bool { return !s.auth() })
			auth, twins := w.count(r.prod, watched.auth), w.count(r.prod, watched.isTwin)
			t.Logf("re-run: %d requests at prod for %d tags (%d plain-HTTP twin), and %d of the auth handshake:\n%s", n, tags, twins, auth, w.summary(r.prod))
			if n > 2*tags || w.count(r.prod, watched.write) > 0 || twins > 1 || auth > 1 {
				t.Errorf("re-run: %d requests at prod for %d tags (%d twins, %d of the handshake):\n%s", n, tags, twins, auth, w.summary(r.prod))
			}
			if again.BlobsCopied != 0 {
				t.Errorf("re-run copied %d blobs", again.BlobsCopied)
			}
		})
	}

	t.Run("inside one registry blobs are mounted", func(t *testing.T) {
		ce, w := r.watched()
		dst := r.staging + "/" + r.repo("same-registry")
		doc := decodePromote(t, runCLI(t, t.Context(), ce, "promote", "--json", r.staging+"/"+src+":1.1.0", dst))
		mounts := w.count(r.staging, watched.mount)
		if uploads := w.count(r.staging, watched.upload); uploads != 0 || mounts == 0 || doc.BytesCopied != 0 {
			t.Errorf("%d uploads, %d mounts, %d bytes copied:\n%s", uploads, mounts, doc.BytesCopied, w.summary(r.staging))
		}
		if r.skopeoDigest(t, dst+":1.1.0") != idx.Digest {
			t.Error("the index did not arrive")
		}
	})
}

func TestE2EPromoteTagPolicyAndRefusals(t *testing.T) {
	r := newE2E(t)
	src := r.repo("staging")
	digests := map[string]string{}
	for i, v := range []string{"1.4.0", "1.5.0", "1.4.1"} {
		img := registrytest.NewImage(registrytest.ImageSpec{Seed: uint64(10 + i), Layers: 1, LayerSize: 1000, Labels: e2eLabels(v, fmt.Sprintf("%d%039d", i+1, 0))})
		r.seedImage(t, r.staging, src, v, img)
		digests[v] = img.Digest
	}
	bare := registrytest.NewImage(registrytest.ImageSpec{Seed: 20, Layers: 1, LayerSize: 1000, Labels: e2eLabels("2.0.0", "")})
	r.seedImage(t, r.staging, src, "2.0.0", bare)
	rebuilt := registrytest.NewImage(registrytest.ImageSpec{Seed: 21, Layers: 1, LayerSize: 1000, Labels: e2eLabels("1.5.0", revTwo)})
	r.seedImage(t, r.staging, r.repo("rebuilt"), "1.5.0", rebuilt)

	dst := r.prod + "/" + r.repo("prod")
	ce := cliEnv{dockerConfig: r.dockerConfig}
	promote := func(args ...string) cliRun {
		return runCLI(t, t.Context(), ce, append([]string{"promote", "--ca-file", r.env.RegistryCA()}, args...)...)
	}
	steps := []struct {
		version string
		want    []string
	}{
		{"1.4.0", []string{"1.4.0=created", "sha-100000000000=created", "1.4=created", "1=created", "latest=created"}},
		{"1.5.0", []string{"1.5.0=created", "sha-200000000000=created", "1.5=created", "1=moved", "latest=moved"}},
		{"1.4.1", []string{"1.4.1=created", "sha-300000000000=created", "1.4=moved"}},
	}
	for _, s := range steps {
		doc := decodePromote(t, promote("--json", r.staging+"/"+src+":"+s.version, dst))
		if got := doc.actions(); !slices.Equal(got, s.want) {
			t.Errorf("%s: tags %v, want %v", s.version, got, s.want)
		}
	}
	for tag, v := range map[string]string{"1": "1.5.0", "latest": "1.5.0", "1.5": "1.5.0", "1.4": "1.4.1", "1.4.0": "1.4.0"} {
		if got := r.skopeoDigest(t, dst+":"+tag); got != digests[v] {
			t.Errorf("skopeo: %s names %s, want %s (%s)", tag, got, digests[v], v)
		}
	}

	// An exact tag holding other bytes: exit 3, prod untouched: not one
	// write reached it (no blob, no manifest), and every tag names what it
	// named, none added (1.5.0, 1.5, 1, latest, the sha tags, and no
	// sha-222222222222 for the rebuilt image's revision).
	before := r.skopeoState(t, dst)
	if len(before) != 10 || before["1.5.0"] != digests["1.5.0"] || before["latest"] != digests["1.5.0"] || before["sha-200000000000"] != digests["1.5.0"] {
		t.Fatalf("prod before the conflict, by skopeo: %v", before)
	}
	wce, w := r.watched()
	res := runCLI(t, t.Context(), wce, "promote", r.staging+"/"+r.repo("rebuilt")+":1.5.0", dst)
	if res.code != exitConflict || !strings.Contains(res.stderr, "immutable") {
		t.Errorf("conflict: exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if n := w.count(r.prod, watched.write); n != 0 {
		t.Errorf("the refused promotion sent %d writes to prod:\n%s", n, w.summary(r.prod))
	}
	if diff := cmp.Diff(before, r.skopeoState(t, dst)); diff != "" {
		t.Errorf("prod's tags after the conflict (-before +after):\n%s", diff)
	}

	// Unlabeled: refused, then allowed.
	res = promote(r.staging+"/"+src+":2.0.0", dst)
	if res.code != exitFailure || !strings.Contains(res.stderr, "--allow-unlabeled") {
		t.Errorf("unlabeled: exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if got := r.skopeoDigest(t, dst+":2.0.0"); got != "" {
		t.Errorf("the refused image arrived: %s", got)
	}
	res = promote("--allow-unlabeled", r.staging+"/"+src+":2.0.0", dst)
	if res.code != 0 || r.skopeoDigest(t, dst+":latest") != bare.Digest {
		t.Errorf("--allow-unlabeled: exit %d, stderr:\n%s", res.code, res.stderr)
	}

	// Retag as a rollback: latest back to 1.5.0.
	res = runCLI(t, t.Context(), ce, "retag", "--ca-file", r.env.RegistryCA(), dst+":1.5.0", "latest")
	if res.code != 0 || !regexp.MustCompile(`(?m)^latest +moved +2\.0\.0 `).MatchString(res.stdout) {
		t.Errorf("retag: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if got := r.skopeoDigest(t, dst+":latest"); got != digests["1.5.0"] {
		t.Errorf("after the rollback latest names %s", got)
	}
}

func TestE2EPromoteRegistryAccess(t *testing.T) {
	r := newE2E(t)
	src := r.staging + "/" + r.repo("staging") + ":1.0.0"
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 30, Layers: 1, LayerSize: 1000, Labels: e2eLabels("1.0.0", revOne)})
	r.seedImage(t, r.staging, r.repo("staging"), "1.0.0", img)
	password := r.env.RegistryPassword()
	wrong := writeDockerConfig(t, r.prod, r.env.RegistryUser(), "not-"+password)

	// A name for the plain registry that is not loopback, routed to it.
	plainName := "staging.registry.test:" + r.staging[strings.LastIndexByte(r.staging, ':')+1:]
	routed := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{}
	routed.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == plainName {
			addr = r.staging
		}
		return dialer.DialContext(ctx, network, addr)
	}
	route := []registry.Option{registry.WithTransport(routed)}
	ca := r.env.RegistryCA()
	dst := r.prod + "/" + r.repo("prod")
	tests := []struct {
		name   string
		ce     cliEnv
		args   []string
		code   int
		stderr string
		hint   string
	}{
		{name: "credentials from DOCKER_CONFIG", ce: cliEnv{dockerConfig: r.dockerConfig}, args: []string{"--ca-file", ca, src, dst}},
		{name: "wrong password", ce: cliEnv{dockerConfig: wrong}, args: []string{"--ca-file", ca, src, dst + "-wrong"},
			code: exitFailure, stderr: "rejected the credentials (HTTP 401)", hint: "docker login " + r.prod},
		{name: "wrong password, verbose", ce: cliEnv{dockerConfig: wrong}, args: []string{"--verbose", "--ca-file", ca, src, dst + "-wrong"},
			code: exitFailure, stderr: "rejected the credentials", hint: "docker login"},
		{name: "no --ca-file", ce: cliEnv{dockerConfig: r.dockerConfig}, args: []string{src, dst + "-noca"},
			code: exitFailure, stderr: "certificate signed by an unknown authority", hint: "--ca-file"},
		{name: "plain HTTP to a non-loopback name", ce: cliEnv{options: route}, args: []string{src, plainName + "/" + r.repo("plain")},
			code: exitFailure, stderr: "plain HTTP", hint: "--insecure-registry " + plainName},
		{name: "--insecure-registry", ce: cliEnv{options: route}, args: []string{"--insecure-registry", plainName, src, plainName + "/" + r.repo("plain")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, t.Context(), tt.ce, append([]string{"promote"}, tt.args...)...)
			if strings.Contains(res.stdout+res.stderr, password) {
				t.Error("the password reached the output")
			}
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", res.code, tt.code, res.stderr)
			}
			if tt.code == 0 {
				return
			}
			errLine, hint, _ := strings.Cut(res.stderr, "release: hint: ")
			if strings.Count(res.stderr, "release: error: ") != 1 || !strings.Contains(errLine, tt.stderr) || !strings.Contains(hint, tt.hint) {
				t.Errorf("stderr:\n%s\nwant one error with %q and a hint with %q", res.stderr, tt.stderr, tt.hint)
			}
		})
	}
	if r.skopeoDigest(t, dst+":1.0.0") != img.Digest || r.skopeoDigest(t, r.staging+"/"+r.repo("plain")+":1.0.0") != img.Digest {
		t.Error("the allowed promotions did not arrive")
	}
	if r.skopeoDigest(t, dst+"-wrong:1.0.0") != "" {
		t.Error("the unauthorised promotion arrived")
	}
}

// TestE2EPromoteFaults: 50 promotions in a row to the real prod registry
// with 30% of the requests failing on the way (the transport answers 500
// or 429 + Retry-After itself, or drops the connection before sending or
// after the registry took the request); then a promotion interrupted
// half-way and run again.
func TestE2EPromoteFaults(t *testing.T) {
	r := newE2E(t)
	src := r.repo("staging")
	digests := map[string]string{}
	for i := range 50 {
		v := fmt.Sprintf("1.%d.0", i)
		if i%10 == 0 {
			idx := buildkitIndex(uint64(200+i), v, fmt.Sprintf("%040x", i+1))
			r.mem.PushSignature(t, src, idx.Digest, "sig", uint64(i))
			r.seedIndex(t, r.staging, src, v, idx)
			digests[v] = idx.Digest
			continue
		}
		img := registrytest.NewImage(registrytest.ImageSpec{Seed: uint64(200 + i), Layers: 2, LayerSize: 2000, Labels: e2eLabels(v, fmt.Sprintf("%040x", i+1))})
		r.seedImage(t, r.staging, src, v, img)
		digests[v] = img.Digest
	}
	wait := &noWait{}
	ce, w := r.watched(registry.WithRetry(registry.RetryPolicy{Attempts: 15, Sleep: wait.sleep}))
	w.rate, w.rng = 0.3, rand.New(rand.NewPCG(1, 2))
	dst := r.prod + "/" + r.repo("prod")
	for i := range 50 {
		v := fmt.Sprintf("1.%d.0", i)
		doc := decodePromote(t, runCLI(t, t.Context(), ce, "promote", "--json", r.staging+"/"+src+":"+v, dst))
		if doc.Digest != digests[v] {
			t.Fatalf("%s: promoted %s, want %s", v, doc.Digest, digests[v])
		}
	}
	faulted := w.count(r.prod, func(s watched) bool { return s.fault != "" }) + w.count(r.staging, func(s watched) bool { return s.fault != "" })
	total := w.count(r.prod, func(watched) bool { return true }) + w.count(r.staging, func(watched) bool { return true })
	throttled := w.count(r.prod, func(s watched) bool { return s.fault == "429" }) + w.count(r.staging, func(s watched) bool { return s.fault == "429" })
	honoured := wait.retryAfter(time.Second)
	t.Logf("%d of %d requests failed on purpose, %d of them 429s; %d waits of their Retry-After (1s)", faulted, total, throttled, honoured)
	// Every 429 the client read is waited for as it says (the ones it does
	// not read are the plain-HTTP twins of prod's first requests, cut
	// short when HTTPS answers).
	if honoured == 0 || honoured > throttled {
		t.Errorf("%d waits of the Retry-After for %d 429s", honoured, throttled)
	}
	// Every exact tag, by skopeo, and the floating tags of the last one.
	tags := r.skopeoTags(t, dst)
	for v, want := range digests {
		if !slices.Contains(tags, v) {
			t.Errorf("skopeo: %s is not in prod's tag list", v)
			continue
		}
		if got := r.skopeoDigest(t, dst+":"+v); got != want {
			t.Errorf("skopeo: %s names %s, want %s", v, got, want)
		}
	}
	for _, tag := range []string{"latest", "1", "1.49"} {
		if got := r.skopeoDigest(t, dst+":"+tag); got != digests["1.49.0"] {
			t.Errorf("%s names %s, want 1.49.0's", tag, got)
		}
	}

	t.Run("interrupted, then run again", func(t *testing.T) {
		idx := buildkitIndex(300, "9.0.0", revOne)
		r.mem.PushSignature(t, src, idx.Digest, "sig", 300)
		r.seedIndex(t, r.staging, src, "9.0.0", idx)
		target := r.prod + "/" + r.repo("interrupted")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		first, fw := r.watched()
		uploads := 0
		fw.onUpload = func() {
			if uploads++; uploads == 3 {
				cancel()
			}
		}
		res := runCLI(t, ctx, first, "promote", "--jobs", "1", r.staging+"/"+src+":9.0.0", target)
		if res.code != exitInterrupted {
			t.Fatalf("exit %d, want %d; stderr:\n%s", res.code, exitInterrupted, res.stderr)
		}
		// No tag at all, not only the exact one: the signature's tag,
		// the sha tag and the floating tags come after the image too.
		if tags := r.skopeoTags(t, target); len(tags) != 0 {
			t.Fatalf("the interrupted run left tags %v", tags)
		}
		arrived := fw.uploadedDigests()
		if len(arrived) < 3 {
			t.Fatalf("%d blob uploads arrived before the interruption, want the 3 that stopped it:\n%s", len(arrived), fw.summary(r.prod))
		}
		second, sw := r.watched()
		doc := decodePromote(t, runCLI(t, t.Context(), second, "promote", "--json", r.staging+"/"+src+":9.0.0", target))
		for _, d := range sw.uploadedDigests() {
			if slices.Contains(arrived, d) {
				t.Errorf("blob %s uploaded again", d)
			}
		}
		if doc.BlobsSkipped < len(arrived) {
			t.Errorf("skipped %d, %d had arrived", doc.BlobsSkipped, len(arrived))
		}
		for _, d := range append([]string{idx.Digest}, digestsOf(idx.Images)...) {
			if r.skopeoRaw(t, target+"@"+d) == "" {
				t.Errorf("%s missing at prod", d)
			}
		}
		if r.skopeoDigest(t, target+":9.0.0") != idx.Digest {
			t.Error("9.0.0 does not name the index")
		}
	})
}

// uploadedDigests lists the digests of the completed blob uploads.
func (w *watcher) uploadedDigests() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, s := range w.seen {
		if s.upload() {
			for _, kv := range strings.Split(s.query, "&") {
				if d, ok := strings.CutPrefix(kv, "digest="); ok {
					out = append(out, strings.Replace(d, "%3A", ":", 1))
				}
			}
		}
	}
	return out
}
