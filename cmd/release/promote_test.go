package main

// Command-level tests of release promote and retag against in-process
// registries (registry/registrytest): the whole program runs (flags,
// DOCKER_CONFIG, exit codes, output), with the requests counted and faults
// injected at the registries.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// cliRun is one run of the program.
type cliRun struct {
	code           int
	stdout, stderr string
}

// cliEnv is what a test passes to run besides the arguments.
type cliEnv struct {
	dockerConfig string
	options      []registry.Option
	// terminal says stderr is a terminal (progress lines are drawn).
	terminal bool
	// now is the clock (time.Now unless given).
	now func() time.Time
}

// runCLI runs the program as main does, with DOCKER_CONFIG (an empty one
// unless given), the registry options of the test, and stderr a terminal
// or not.
func runCLI(t *testing.T, ctx context.Context, ce cliEnv, args ...string) cliRun {
	t.Helper()
	if ce.dockerConfig == "" {
		ce.dockerConfig = writeDockerConfig(t, "", "", "")
	}
	var stdout, stderr bytes.Buffer
	e := env{
		stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv: func(k string) string {
			if k == "DOCKER_CONFIG" {
				return ce.dockerConfig
			}
			return ""
		},
		wd:               t.TempDir(),
		now:              ce.now,
		registryOptions:  ce.options,
		stderrIsTerminal: ce.terminal,
	}
	if e.now == nil {
		e.now = time.Now
	}
	code := run(ctx, append([]string{"release"}, args...), e)
	return cliRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// writeDockerConfig writes a DOCKER_CONFIG directory with Basic
// credentials for host (none when host is "").
func writeDockerConfig(t *testing.T, host, user, password string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := `{"auths":{}}`
	if host != "" {
		auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
		cfg = fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeDockerConfigHosts writes a DOCKER_CONFIG directory with the same
// Basic credentials for every host.
func writeDockerConfigHosts(t *testing.T, user, password string, hosts ...string) string {
	t.Helper()
	auths := map[string]any{}
	for _, h := range hosts {
		auths[h] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	}
	b, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// noWait retries like the real client but without sleeping, recording the
// waits it was asked for.
type noWait struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (n *noWait) sleep(ctx context.Context, d time.Duration) error {
	n.mu.Lock()
	n.waits = append(n.waits, d)
	n.mu.Unlock()
	return ctx.Err()
}

// retryAfter counts the waits of exactly d: the Retry-After of the
// injected 429s (both fault injectors send "1"), honoured. The computed
// backoff never lands on a whole second (250 ms × 3ⁿ, capped at 10 s, with
// ±10% jitter: 225–275 ms, 675–825 ms, 2.0–2.5 s, 6.1–7.4 s, 9–11 s), so
// these waits are the server's and no other.
func (n *noWait) retryAfter(d time.Duration) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, w := range n.waits {
		if w == d {
			c++
		}
	}
	return c
}

// promoteJSON is the --json document.
type promoteJSON struct {
	Source      string `json:"source"`
	Digest      string `json:"digest"`
	Destination string `json:"destination"`
	Version     string `json:"version"`
	Tags        []struct {
		Tag    string `json:"tag"`
		Action string `json:"action"`
	} `json:"tags"`
	BlobsCopied  int   `json:"blobs_copied"`
	BlobsSkipped int   `json:"blobs_skipped"`
	BytesCopied  int64 `json:"bytes_copied"`
	Previous     []struct {
		Tags     []string `json:"tags"`
		Digest   string   `json:"digest"`
		Version  string   `json:"version"`
		Revision string   `json:"revision"`
	} `json:"previous"`
}

func decodePromote(t *testing.T, r cliRun) promoteJSON {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	var doc promoteJSON
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("stdout is not the JSON document: %v\n%s", err, r.stdout)
	}
	return doc
}

func (d promoteJSON) actions() []string {
	var out []string
	for _, t := range d.Tags {
		out = append(out, t.Tag+"="+t.Action)
	}
	return out
}

// buildkitIndex is a two-platform index labeled like `release build`
// labels images, with BuildKit attestation manifests.
func buildkitIndex(seed uint64, version, revision string) *registrytest.Index {
	spec := registrytest.IndexSpec{Provenance: map[string][]byte{}}
	for i, p := range []string{"linux/amd64", "linux/arm64"} {
		img := registrytest.NewImage(registrytest.ImageSpec{
			Seed: seed*10 + uint64(i), Layers: 3, LayerSize: 2000, Platform: p,
			Labels: map[string]string{
				"org.opencontainers.image.version":  version,
				"org.opencontainers.image.revision": revision,
				"org.opencontainers.image.source":   "https://git.example.com/team/app",
			},
		})
		spec.Images = append(spec.Images, img)
		spec.Provenance[img.Digest] = registrytest.Statement(img.Digest, "https://slsa.dev/provenance/v0.2", map[string]any{})
	}
	return registrytest.NewIndexOf(spec)
}

func singleImage(seed uint64, version, revision string) *registrytest.Image {
	labels := map[string]string{"org.opencontainers.image.version": version}
	if revision != "" {
		labels["org.opencontainers.image.revision"] = revision
	}
	return registrytest.NewImage(registrytest.ImageSpec{Seed: seed, Layers: 2, LayerSize: 1000, Labels: labels})
}

const (
	revOne = "1111111111111111111111111111111111111111"
	revTwo = "2222222222222222222222222222222222222222"
)

// TestPromoteCommandStagingToProd promotes a single image and an index
// with attestations, signatures and a referrer from a plain registry to a
// TLS registry with Basic auth, and checks the re-run's cost.
func TestPromoteCommandStagingToProd(t *testing.T) {
	staging := registrytest.New(t)
	prod := registrytest.New(t, registrytest.WithTLS(), registrytest.WithBasicAuth("ci", "s3cret-pw"), registrytest.WithReferrersAPI(false))
	ce := cliEnv{dockerConfig: writeDockerConfig(t, prod.Host, "ci", "s3cret-pw")}
	ca := prod.CAFile(t)

	img := singleImage(1, "1.0.0", revOne)
	staging.PushImage(t, "app", "1.0.0", img)
	idx := buildkitIndex(2, "1.1.0", revTwo)
	staging.PushIndex(t, "app", "1.1.0", idx)
	sig := staging.PushSignature(t, "app", idx.Digest, "sig", 1)
	sbom := staging.PushReferrer(t, "app", idx.Descriptor(), "application/spdx+json", 2)

	for _, tt := range []struct {
		name, tag, digest string
		manifests         []string
	}{
		{"single image", "1.0.0", img.Digest, []string{img.Digest}},
		{"index", "1.1.0", idx.Digest, append([]string{idx.Digest, sig.Digest, sbom.Digest}, digestsOf(idx.Images)...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"promote", "--json", "--ca-file", ca, staging.Host + "/app:" + tt.tag, prod.Host + "/prod/app"}
			doc := decodePromote(t, runCLI(t, t.Context(), ce, args...))
			if doc.Digest != tt.digest || doc.Version != tt.tag {
				t.Errorf("digest %s version %s, want %s %s", doc.Digest, doc.Version, tt.digest, tt.tag)
			}
			for _, d := range tt.manifests {
				want, _, _ := staging.Manifest("app", d)
				got, _, ok := prod.Manifest("prod/app", d)
				if !ok || !bytes.Equal(got, want) {
					t.Errorf("manifest %s not copied byte for byte", d)
				}
			}
			raw, _, _ := prod.Manifest("prod/app", tt.tag)
			if !bytes.Equal(raw, mustManifest(t, staging, "app", tt.digest)) {
				t.Errorf("prod/app:%s does not name %s", tt.tag, tt.digest)
			}

			// The re-run copies nothing: at most two requests per tag
			// (attachment tags included) at the destination, auth apart.
			prod.Reset()
			again := decodePromote(t, runCLI(t, t.Context(), ce, args...))
			tags := len(again.Tags)
			if tt.digest == idx.Digest {
				tags += 2 // the signature's tag and the referrers' fallback tag
			}
			for _, a := range again.Tags {
				if a.Action != "unchanged" {
					t.Errorf("re-run: %s %s", a.Tag, a.Action)
				}
			}
			if again.BlobsCopied != 0 || again.BytesCopied != 0 {
				t.Errorf("re-run copied %d blobs", again.BlobsCopied)
			}
			if n := prod.Count(registrytest.NotAuth); n > 2*tags {
				t.Errorf("re-run: %d requests at the destination for %d tags:\n%s", n, tags, prod.Summary())
			}
			if n := prod.Count(func(r registrytest.Request) bool { return r.Write() }); n > 0 {
				t.Errorf("re-run: %d writes:\n%s", n, prod.Summary())
			}
		})
	}
	if v := append(prod.Violations(), prod.CheckTags()...); len(v) > 0 {
		t.Errorf("incomplete tags: %v", v)
	}
}

func digestsOf(imgs []*registrytest.Image) []string {
	var out []string
	for _, im := range imgs {
		out = append(out, im.Digest)
	}
	return out
}

func mustManifest(t *testing.T, s *registrytest.Server, repo, ref string) []byte {
	t.Helper()
	raw, _, ok := s.Manifest(repo, ref)
	if !ok {
		t.Fatalf("%s:%s missing", repo, ref)
	}
	return raw
}

// TestPromoteCommandSurvivesFaults: with 30% of the requests at both
// registries failing (500, 429 with Retry-After, connections dropped before
// or after the request took effect), 50 promotions in a row finish with
// the right digests, and no tag ever names an incomplete image.
func TestPromoteCommandSurvivesFaults(t *testing.T) {
	faults := registrytest.Faults{Rate: 0.3, Seed: 7}
	staging := registrytest.New(t, registrytest.WithFaults(faults))
	faults.Seed = 8
	prod := registrytest.New(t, registrytest.WithFaults(faults), registrytest.WithTokenAuth("ci", "pw"))
	wait := &noWait{}
	ce := cliEnv{
		dockerConfig: writeDockerConfig(t, prod.Host, "ci", "pw"),
		// The default policy's 5 tries give up on 0.3⁵ ≈ 0.24% of the
		// requests, a few of the ~2000 here; the test is about what
		// happens around retries, so it allows more, and does not wait.
		options: []registry.Option{registry.WithRetry(registry.RetryPolicy{Attempts: 15, Sleep: wait.sleep})},
	}
	digests := map[string]string{}
	for i := range 50 {
		v := fmt.Sprintf("1.%d.0", i)
		rev := fmt.Sprintf("%040x", i+1)
		if i%5 == 0 {
			idx := buildkitIndex(uint64(100+i), v, rev)
			staging.PushIndex(t, "app", v, idx)
			staging.PushSignature(t, "app", idx.Digest, "sig", uint64(i))
			digests[v] = idx.Digest
			continue
		}
		img := singleImage(uint64(100+i), v, rev)
		staging.PushImage(t, "app", v, img)
		digests[v] = img.Digest
	}
	for i := range 50 {
		v := fmt.Sprintf("1.%d.0", i)
		doc := decodePromote(t, runCLI(t, t.Context(), ce, "promote", "--json", staging.Host+"/app:"+v, prod.Host+"/prod/app"))
		if doc.Digest != digests[v] {
			t.Fatalf("%s: promoted %s, want %s", v, doc.Digest, digests[v])
		}
		for _, tag := range []string{v, "1", "latest"} {
			raw, _, _ := prod.Manifest("prod/app", tag)
			if got := sha(raw); got != digests[v] {
				t.Fatalf("after %s, prod/app:%s names %s", v, tag, got)
			}
		}
	}
	faulted := prod.Count(func(r registrytest.Request) bool { return r.Fault != "" }) +
		staging.Count(func(r registrytest.Request) bool { return r.Fault != "" })
	total := prod.Count() + staging.Count()
	honoured := wait.retryAfter(time.Second)
	t.Logf("%d of %d requests failed on purpose; %d waits of the 429s' Retry-After (1s)", faulted, total, honoured)
	if faulted < total/5 {
		t.Errorf("only %d of %d requests failed", faulted, total)
	}
	if honoured == 0 {
		t.Error("no Retry-After was honoured")
	}
	if v := append(prod.Violations(), prod.CheckTags()...); len(v) > 0 {
		t.Errorf("incomplete tags: %v", v)
	}
}

// TestPromoteCommandInterrupted: a promotion cancelled half-way (Ctrl-C)
// exits 130 leaving no tag on an incomplete image; the next run completes
// it without uploading again what had arrived.
func TestPromoteCommandInterrupted(t *testing.T) {
	staging := registrytest.New(t)
	idx := buildkitIndex(9, "2.0.0", revTwo)
	staging.PushIndex(t, "app", "2.0.0", idx)
	staging.PushSignature(t, "app", idx.Digest, "sig", 3)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var uploads atomic.Int32
	var cancelled atomic.Bool
	prod := registrytest.New(t,
		registrytest.WithHook(func(r registrytest.Request) {
			if r.Upload() && r.UserAgent == "first" && uploads.Add(1) == 4 {
				cancelled.Store(true)
				cancel()
			}
		}),
		// What the first run still had on the wire after the cancellation
		// is turned away, so the log shows exactly what arrived.
		registrytest.WithFaults(registrytest.Faults{Rate: 1, Kinds: []string{"500"}, Only: func(r registrytest.Request) bool {
			return cancelled.Load() && r.UserAgent == "first"
		}}),
	)
	args := []string{"promote", "--jobs", "2", staging.Host + "/app:2.0.0", prod.Host + "/app"}
	first := runCLI(t, ctx, cliEnv{options: []registry.Option{registry.WithUserAgent("first")}}, args...)
	if first.code != exitInterrupted || !strings.Contains(first.stderr, "release: error: interrupted") {
		t.Fatalf("first run: exit %d, stderr:\n%s", first.code, first.stderr)
	}
	prod.WaitIdle()
	if v := append(prod.Violations(), prod.CheckTags()...); len(v) > 0 {
		t.Fatalf("the interrupted run left tags on incomplete images: %v", v)
	}
	if tags := prod.Tags("app"); len(tags) != 0 {
		t.Errorf("the interrupted run left tags %v", tags)
	}
	var arrived []string
	for _, r := range prod.Requests() {
		if r.Upload() && r.UserAgent == "first" {
			arrived = append(arrived, r.Ref)
		}
	}
	if len(arrived) < 4 {
		t.Fatalf("%d uploads arrived before the interruption", len(arrived))
	}

	second := runCLI(t, t.Context(), cliEnv{options: []registry.Option{registry.WithUserAgent("second")}}, append(args, "--json")...)
	doc := decodePromote(t, second)
	for _, r := range prod.Requests() {
		if r.Upload() && r.UserAgent == "second" && slices.Contains(arrived, r.Ref) {
			t.Errorf("blob %s uploaded again", r.Ref)
		}
	}
	if doc.BlobsSkipped < len(arrived) {
		t.Errorf("second run skipped %d blobs, %d had arrived", doc.BlobsSkipped, len(arrived))
	}
	if raw, _, _ := prod.Manifest("app", "2.0.0"); sha(raw) != idx.Digest {
		t.Error("2.0.0 does not name the index after the second run")
	}
	if v := append(prod.Violations(), prod.CheckTags()...); len(v) > 0 {
		t.Errorf("incomplete tags: %v", v)
	}
}

// TestPromoteCommandRegistryAccess: credentials, certificates and plain
// HTTP, as a user meets them.
func TestPromoteCommandRegistryAccess(t *testing.T) {
	const password = "pa55-w0rd-never-printed"
	staging := registrytest.New(t)
	img := singleImage(4, "3.0.0", revOne)
	staging.PushImage(t, "app", "3.0.0", img)
	tlsProd := registrytest.New(t, registrytest.WithTLS(), registrytest.WithTokenAuth("ci", password))
	ca := tlsProd.CAFile(t)
	right := writeDockerConfig(t, tlsProd.Host, "ci", password)
	wrong := writeDockerConfig(t, tlsProd.Host, "ci", password+"-typo")

	// A plain HTTP registry under a name that is not loopback: the
	// transport routes the name to the in-process registry.
	plain := registrytest.New(t)
	const plainName = "registry.example:5000"
	dialer := &net.Dialer{}
	routed := http.DefaultTransport.(*http.Transport).Clone()
	routed.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == plainName {
			addr = plain.Host
		}
		return dialer.DialContext(ctx, network, addr)
	}
	route := []registry.Option{registry.WithTransport(routed)}

	src := staging.Host + "/app:3.0.0"
	tests := []struct {
		name   string
		ce     cliEnv
		args   []string
		code   int
		stderr string // in the one error line
		hint   string
	}{
		{name: "right credentials and the CA", ce: cliEnv{dockerConfig: right}, args: []string{"--ca-file", ca, src, tlsProd.Host + "/app"}},
		{name: "wrong credentials", ce: cliEnv{dockerConfig: wrong}, args: []string{"--ca-file", ca, src, tlsProd.Host + "/other"},
			code: exitFailure, stderr: "registry " + tlsProd.Host + " rejected the credentials (HTTP 401)", hint: "docker login " + tlsProd.Host},
		{name: "wrong credentials, verbose", ce: cliEnv{dockerConfig: wrong}, args: []string{"--verbose", "--ca-file", ca, src, tlsProd.Host + "/other"},
			code: exitFailure, stderr: "rejected the credentials (HTTP 401)", hint: "docker login"},
		{name: "no credentials", args: []string{"--ca-file", ca, src, tlsProd.Host + "/other"},
			code: exitFailure, stderr: "registry " + tlsProd.Host + " requires credentials (HTTP 401)", hint: "docker login " + tlsProd.Host},
		{name: "self-signed without --ca-file", ce: cliEnv{dockerConfig: right}, args: []string{src, tlsProd.Host + "/other"},
			code: exitFailure, stderr: "certificate", hint: "--ca-file"},
		{name: "plain HTTP to a non-loopback host", ce: cliEnv{options: route}, args: []string{src, plainName + "/app"},
			code: exitFailure, stderr: "plain HTTP", hint: "--insecure-registry " + plainName},
		{name: "plain HTTP allowed by --insecure-registry", ce: cliEnv{options: route}, args: []string{"--insecure-registry", plainName, src, plainName + "/app"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, t.Context(), tt.ce, append([]string{"promote"}, tt.args...)...)
			if strings.Contains(r.stdout+r.stderr, password) {
				t.Errorf("the password reached the output:\n%s%s", r.stdout, r.stderr)
			}
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, tt.code, r.stderr)
			}
			if tt.code == 0 {
				if !strings.Contains(r.stdout, "promoted "+src) {
					t.Errorf("stdout:\n%s", r.stdout)
				}
				return
			}
			if r.stdout != "" {
				t.Errorf("stdout on failure: %q", r.stdout)
			}
			errLine, hint, _ := strings.Cut(r.stderr, "release: hint: ")
			if n := strings.Count(r.stderr, "release: error: "); n != 1 || !strings.Contains(errLine, tt.stderr) {
				t.Errorf("stderr:\n%s\nwant one error line mentioning %q", r.stderr, tt.stderr)
			}
			if !strings.Contains(hint, tt.hint) {
				t.Errorf("stderr:\n%s\nwant a hint with %q", r.stderr, tt.hint)
			}
		})
	}
	if raw, _, _ := plain.Manifest("app", "3.0.0"); sha(raw) != img.Digest {
		t.Error("the allowed plain HTTP promotion did not arrive")
	}
}

// TestPromoteCommandTokenExchanges: one token exchange per registry and
// run, with token authentication at both ends. A promotion that may write
// asks for pull,push on the destination in its first exchange (reading
// with a pull token first would cost a second exchange for the writes); a
// no-op asks the same and stays at one; a dry run asks for pull alone;
// inside one registry one token covers both repositories; a retag is one
// exchange too.
func TestPromoteCommandTokenExchanges(t *testing.T) {
	staging := registrytest.New(t, registrytest.WithTokenAuth("ci", "pw"))
	prod := registrytest.New(t, registrytest.WithTokenAuth("ci", "pw"))
	ce := cliEnv{dockerConfig: writeDockerConfigHosts(t, "ci", "pw", staging.Host, prod.Host)}
	idx := buildkitIndex(11, "7.0.0", revOne)
	staging.PushIndex(t, "app", "7.0.0", idx)
	staging.PushSignature(t, "app", idx.Digest, "sig", 11)
	src := staging.Host + "/app:7.0.0"

	exchanges := func(s *registrytest.Server) []string {
		var out []string
		for _, r := range s.Requests() {
			if r.Kind == registrytest.KindToken {
				out = append(out, strings.Join(r.Scopes, " "))
			}
		}
		return out
	}
	pushAt := func(repo string) string { return "repository:" + repo + ":pull,push" }
	for _, tt := range []struct {
		name    string
		args    []string
		at      *registrytest.Server // where the tags go
		push    string               // the scope the one exchange there must ask for ("" none with push)
		written bool
	}{
		{name: "dry run", args: []string{"--dry-run", src, prod.Host + "/prod/app"}, at: prod},
		{name: "fresh", args: []string{src, prod.Host + "/prod/app"}, at: prod, push: pushAt("prod/app"), written: true},
		{name: "no-op", args: []string{src, prod.Host + "/prod/app"}, at: prod, push: pushAt("prod/app")},
		{name: "inside one registry", args: []string{src, staging.Host + "/prod/app"}, at: staging, push: pushAt("prod/app"), written: true},
		{name: "retag", args: []string{prod.Host + "/prod/app:7.0.0", "stable"}, at: prod, push: pushAt("prod/app"), written: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			staging.Reset()
			prod.Reset()
			cmd := "promote"
			if tt.name == "retag" {
				cmd = "retag"
			}
			r := runCLI(t, t.Context(), ce, append([]string{cmd}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
			}
			for _, s := range []*registrytest.Server{staging, prod} {
				if got := exchanges(s); len(got) > 1 {
					t.Errorf("%d token exchanges at %s, want one: %q", len(got), s.Host, got)
				}
			}
			got := exchanges(tt.at)
			if len(got) != 1 {
				t.Fatalf("token exchanges where the tags go: %q, want one", got)
			}
			if hasPush := strings.Contains(got[0], ":pull,push"); hasPush != (tt.push != "") || (tt.push != "" && !strings.Contains(got[0], tt.push)) {
				t.Errorf("the token exchange asked for %q, want push %q", got[0], tt.push)
			}
			if w := tt.at.Count(func(r registrytest.Request) bool { return r.Write() }); (w > 0) != tt.written {
				t.Errorf("%d writes:\n%s", w, tt.at.Summary())
			}
		})
	}
}

// TestPromoteCommandPullOnlyCredentials: credentials that may pull but not
// push at the destination end the promotion with one error saying so and
// a hint, after the one token exchange the promotion makes there: nothing
// is written, and no renewal loop ends in "credentials renewed".
func TestPromoteCommandPullOnlyCredentials(t *testing.T) {
	staging := registrytest.New(t)
	prod := registrytest.New(t, registrytest.WithTokenAuth("ci", "pw"), registrytest.WithPullOnly(false))
	ce := cliEnv{dockerConfig: writeDockerConfigHosts(t, "ci", "pw", prod.Host)}
	idx := buildkitIndex(12, "7.1.0", revOne)
	staging.PushIndex(t, "app", "7.1.0", idx)
	r := runCLI(t, t.Context(), ce, "promote", staging.Host+"/app:7.1.0", prod.Host+"/prod/app")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	var errs, hints []string
	for _, l := range lines {
		if strings.HasPrefix(l, "release: error: ") {
			errs = append(errs, l)
		}
		if strings.HasPrefix(l, "release: hint: ") {
			hints = append(hints, l)
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "registry "+prod.Host+" refused push to prod/app to these credentials (HTTP 401)") {
		t.Errorf("error lines = %q, want one saying the push to prod/app was refused", errs)
	}
	if len(hints) != 1 || !strings.Contains(hints[0], "docker login "+prod.Host) {
		t.Errorf("hint lines = %q, want one naming docker login", hints)
	}
	if strings.Contains(r.stderr, "renewed") || strings.Contains(r.stderr, "pw") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if n := prod.Count(func(r registrytest.Request) bool { return r.Kind == registrytest.KindToken }); n != 1 {
		t.Errorf("%d token exchanges at prod, want 1", n)
	}
	if n := prod.Count(func(r registrytest.Request) bool { return r.Write() && r.Status < 300 }); n != 0 {
		t.Errorf("%d writes succeeded at prod", n)
	}
}

// TestPromoteCommandMountsInsideOneRegistry: staging and prod as two
// repositories of one registry: blobs are mounted, never uploaded.
func TestPromoteCommandMountsInsideOneRegistry(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithTokenAuth("ci", "pw"))
	idx := buildkitIndex(5, "4.0.0", revOne)
	reg.PushIndex(t, "staging/app", "4.0.0", idx)
	ce := cliEnv{dockerConfig: writeDockerConfig(t, reg.Host, "ci", "pw")}
	doc := decodePromote(t, runCLI(t, t.Context(), ce, "promote", "--json", reg.Host+"/staging/app:4.0.0", reg.Host+"/prod/app"))
	if up := reg.Uploads(); len(up) != 0 {
		t.Errorf("%d uploads inside one registry:\n%s", len(up), reg.Summary())
	}
	mounts := reg.Count(func(r registrytest.Request) bool { return r.From != "" && r.Status == http.StatusCreated })
	if mounts == 0 || doc.BlobsCopied != mounts || doc.BytesCopied != 0 {
		t.Errorf("%d mounts, blobs_copied %d, bytes_copied %d", mounts, doc.BlobsCopied, doc.BytesCopied)
	}
	if raw, _, _ := reg.Manifest("prod/app", "4.0.0"); sha(raw) != idx.Digest {
		t.Error("prod/app:4.0.0 does not name the index")
	}
}

// TestPromoteCommandOutputStreams: --quiet keeps the result and the error,
// --json is the only thing on stdout, and stderr is never a terminal here
// so no progress is drawn.
func TestPromoteCommandOutputStreams(t *testing.T) {
	staging, prod := registrytest.New(t), registrytest.New(t)
	img := singleImage(6, "5.0.0", revOne)
	staging.PushImage(t, "app", "5.0.0", img)
	bare := singleImage(7, "5.1.0", "")
	staging.PushImage(t, "app", "5.1.0", bare)

	r := runCLI(t, t.Context(), cliEnv{}, "promote", "--json", staging.Host+"/app:5.0.0", prod.Host+"/app")
	if r.stderr != "" || strings.Contains(r.stdout, "\r") {
		t.Errorf("stderr %q; stdout %q", r.stderr, r.stdout)
	}
	r = runCLI(t, t.Context(), cliEnv{}, "promote", "--quiet", "--allow-unlabeled", staging.Host+"/app:5.1.0", prod.Host+"/app")
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "promoted ") {
		t.Errorf("--quiet: exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
	}
	r = runCLI(t, t.Context(), cliEnv{}, "promote", "--allow-unlabeled", "--dry-run", staging.Host+"/app:5.1.0", prod.Host+"/other")
	if !strings.Contains(r.stderr, "release: warning: ") || strings.Count(r.stderr, "\n") != strings.Count(r.stderr, "release: ") {
		t.Errorf("stderr lines must all be release: lines:\n%s", r.stderr)
	}
}

// TestPromoteCommandJSONKeys pins the --json document: the spec's keys
// plus previous, and each tag as {tag, action}.
func TestPromoteCommandJSONKeys(t *testing.T) {
	staging, prod := registrytest.New(t), registrytest.New(t)
	img := singleImage(8, "6.0.0", revOne)
	staging.PushImage(t, "app", "6.0.0", img)
	r := runCLI(t, t.Context(), cliEnv{}, "promote", "--json", staging.Host+"/app:6.0.0", prod.Host+"/app")
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"blobs_copied", "blobs_skipped", "bytes_copied", "destination", "digest", "previous", "source", "tags", "version"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	var tags []map[string]any
	if err := json.Unmarshal(doc["tags"], &tags); err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		if len(tag) != 2 || tag["tag"] == nil || tag["action"] == nil {
			t.Errorf("tag entry %v, want exactly tag and action", tag)
		}
	}
	if string(doc["previous"]) != "[]" {
		t.Errorf("previous %s, want []", doc["previous"])
	}
}

func sha(b []byte) string {
	if b == nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
