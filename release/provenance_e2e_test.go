package release_test

// End-to-end tests of inspect, find and diff against the real registries
// and Docker engine of the test environment (scripts/testenv), with images
// labeled by plain `docker build --label`, not by this project. They skip
// without the environment and fail without it under CI
// (release/releasetest).

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/releasetool/release/gitinfo/gitinfotest"
	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
	"github.com/releasetool/release/release"
	"github.com/releasetool/release/release/releasetest"
)

// testEnv is the test environment, with the helpers these tests share.
type testEnv struct{ releasetest.Environment }

// realEnv finds the test environment (release/releasetest: skip without
// it, fail under CI).
func realEnv(t *testing.T) testEnv { return testEnv{releasetest.Env(t)} }

// uniqueRepo names a repository no earlier run used (the registries keep
// their storage between runs).
func uniqueRepo(what string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "e2e/provenance-" + what + "-" + hex.EncodeToString(b)
}

// docker runs the docker CLI against the test engine.
func (e testEnv) docker(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "docker", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append(e.DockerEnv(), env...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// dockerBuild builds a tiny image FROM scratch with the classic builder
// and plain --label arguments, pushes it as ref and returns its digest.
func (e testEnv) dockerBuild(t *testing.T, ref, platform string, labels map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello.txt /hello.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte(ref+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"build", "--quiet", "--platform", platform, "--tag", ref}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		args = append(args, "--label", k+"="+labels[k])
	}
	e.docker(t, dir, []string{"DOCKER_BUILDKIT=0"}, append(args, ".")...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "docker", "image", "rm", ref)
		cmd.Env = append(os.Environ(), e.DockerEnv()...)
		_ = cmd.Run()
	})
	e.docker(t, dir, nil, "push", "--quiet", ref)
	d, err := e.client(t, nil).Resolve(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return d.Digest
}

// client is a registry client for the test registries (CA trusted, the
// TLS registry's credentials), on transport rt when given.
func (e testEnv) client(t *testing.T, rt http.RoundTripper, opts ...registry.Option) *registry.Client {
	t.Helper()
	dir := t.TempDir()
	auth := fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q}}}`, e.RegistryTLS(), e.RegistryUser(), e.RegistryPassword())
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(auth), 0o600); err != nil {
		t.Fatal(err)
	}
	opts = append([]registry.Option{registry.WithKeychain(registry.DockerConfigKeychain(dir))}, opts...)
	if rt != nil {
		opts = append(opts, registry.WithTransport(rt))
	} else {
		opts = append(opts, registry.WithCAFile(e.RegistryCA()))
	}
	c, err := registry.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// skopeoImage is what `skopeo inspect` says of an image.
type skopeoImage struct {
	Digest       string
	Created      time.Time
	Labels       map[string]string
	Architecture string
	Os           string
}

func skopeoInspect(t *testing.T, ref, arch string) skopeoImage {
	t.Helper()
	args := []string{"inspect", "--tls-verify=false", "--no-tags"}
	if arch != "" {
		args = append(args, "--override-os", "linux", "--override-arch", arch)
	}
	out, err := exec.CommandContext(t.Context(), "skopeo", append(args, "docker://"+ref)...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("skopeo inspect %s: %v\n%s", ref, err, ee.Stderr)
		}
		t.Fatalf("skopeo inspect %s: %v", ref, err)
	}
	var s skopeoImage
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	return s
}

// skopeoManifest is what `skopeo inspect --raw` shows of the manifest a
// reference names (an index, or an image).
type skopeoManifest struct {
	MediaType   string            `json:"mediaType"`
	Annotations map[string]string `json:"annotations"`
}

func skopeoRaw(t *testing.T, ref string) skopeoManifest {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "skopeo", "inspect", "--tls-verify=false", "--raw", "docker://"+ref).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("skopeo inspect --raw %s: %v\n%s", ref, err, ee.Stderr)
		}
		t.Fatalf("skopeo inspect --raw %s: %v", ref, err)
	}
	var m skopeoManifest
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// plainIndex writes an index (Docker manifest list) of the given images
// of repo, each under its platform, with ggcr, and returns its digest.
func plainIndex(t *testing.T, repo, tag string, children map[string]string) string {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, platform := range slices.Sorted(maps.Keys(children)) {
		ref, err := name.ParseReference(repo+"@"+children[platform], name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(ref, remote.WithContext(t.Context()))
		if err != nil {
			t.Fatal(err)
		}
		p, err := v1.ParsePlatform(platform)
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.DockerManifestList)
	dst, err := name.NewTag(repo+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(dst, idx, remote.WithContext(t.Context())); err != nil {
		t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// stage copies images made in an in-process registry to the real one.
func stage(t *testing.T, c *registry.Client, mem *registrytest.Server, from, to string) {
	t.Helper()
	if _, err := c.Copy(t.Context(), mem.Host+"/"+from, to, registry.CopyOptions{NoAttachments: true}); err != nil {
		t.Fatalf("staging %s: %v", from, err)
	}
}

func TestE2EInspect(t *testing.T) {
	e := realEnv(t)
	c := e.client(t, nil)
	repo := e.Registry() + "/" + uniqueRepo("inspect")
	revA, revB := strings.Repeat("a1", 20), strings.Repeat("b2", 20)

	labeled := e.dockerBuild(t, repo+":labeled", "linux/amd64", map[string]string{
		"org.opencontainers.image.revision": revA, "org.opencontainers.image.version": "1.4.0",
		"org.opencontainers.image.source": "https://git.example.com/team/app", "maintainer": "ops@example.com",
	})
	amd := e.dockerBuild(t, repo+":amd64", "linux/amd64", map[string]string{"org.opencontainers.image.revision": revA, "org.opencontainers.image.version": "2.0.0"})
	arm := e.dockerBuild(t, repo+":arm64", "linux/arm64", map[string]string{"org.opencontainers.image.revision": revB, "org.opencontainers.image.version": "2.0.0"})
	mixed := plainIndex(t, repo, "mixed", map[string]string{"linux/amd64": amd, "linux/arm64": arm})
	e.dockerBuild(t, repo+":bare", "linux/amd64", nil)

	// Annotations only, as buildx --annotation manifest:… writes them
	// (the environment's buildx cannot: see TestE2EInspectBuildx).
	mem := registrytest.New(t)
	mem.PushImage(t, "app", "annotated", registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 32,
		Annotations: oci("revision="+revB, "version=3.0.0", "source=https://git.example.com/team/annotated")}))
	stage(t, c, mem, "app:annotated", repo+":annotated")

	type value struct {
		v    string
		from release.Origin
	}
	tests := []struct {
		tag             string
		platform        string // compared with skopeo --override-arch
		revision        value
		version, source value
		digest          string
	}{
		{tag: "labeled", digest: labeled, revision: value{revA, release.OriginLabel},
			version: value{"1.4.0", release.OriginLabel}, source: value{"https://git.example.com/team/app", release.OriginLabel}},
		{tag: "mixed", platform: "linux/amd64", digest: mixed, revision: value{revA, release.OriginLabel}, version: value{"2.0.0", release.OriginLabel}},
		{tag: "mixed", platform: "linux/arm64", digest: mixed, revision: value{revB, release.OriginLabel}, version: value{"2.0.0", release.OriginLabel}},
		{tag: "annotated", revision: value{revB, release.OriginManifestAnnotation},
			version: value{"3.0.0", release.OriginManifestAnnotation}, source: value{"https://git.example.com/team/annotated", release.OriginManifestAnnotation}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.tag+"/"+tt.platform, "/"), func(t *testing.T) {
			ref := repo + ":" + tt.tag
			info, err := release.Inspect(t.Context(), c, ref, release.InspectOptions{Platform: tt.platform})
			if err != nil {
				t.Fatal(err)
			}
			arch := ""
			if tt.platform != "" {
				arch = strings.TrimPrefix(tt.platform, "linux/")
			}
			want := skopeoInspect(t, ref, arch)
			if info.Digest != want.Digest || (tt.digest != "" && info.Digest != tt.digest) {
				t.Errorf("digest %s, skopeo says %s (pushed %s)", info.Digest, want.Digest, tt.digest)
			}
			p := info.Platforms[0]
			if diff := cmp.Diff(want.Labels, p.Labels); diff != "" {
				t.Errorf("labels (-skopeo +release):\n%s", diff)
			}
			created, err := time.Parse(time.RFC3339Nano, p.Created)
			if err != nil || !created.Equal(want.Created) {
				t.Errorf("created %q, skopeo says %s", p.Created, want.Created)
			}
			if p.Platform != want.Os+"/"+want.Architecture {
				t.Errorf("platform %s, skopeo says %s/%s", p.Platform, want.Os, want.Architecture)
			}
			if raw := skopeoRaw(t, ref); info.MediaType != raw.MediaType {
				t.Errorf("media type %s, skopeo --raw says %s", info.MediaType, raw.MediaType)
			}
			for _, k := range []struct {
				key  string
				got  string
				want value
			}{
				{release.KeyRevision, p.Revision, tt.revision},
				{release.KeyVersion, p.Version, tt.version},
				{release.KeySource, p.Source, tt.source},
			} {
				if got := (value{k.got, p.From[k.key]}); got != k.want {
					t.Errorf("%s %q from %q, want %q from %q", k.key, got.v, got.from, k.want.v, k.want.from)
				}
			}
		})
	}

	t.Run("platforms from two commits", func(t *testing.T) {
		info, err := release.Inspect(t.Context(), c, repo+":mixed", release.InspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range info.Platforms {
			got = append(got, p.Platform+" "+p.Revision)
		}
		if diff := cmp.Diff([]string{"linux/amd64 " + revA, "linux/arm64 " + revB}, got); diff != "" {
			t.Errorf("platforms (-want +got):\n%s", diff)
		}
		if info.Revision != "" || !slices.Contains(info.Differs, release.KeyRevision) || info.Version != "2.0.0" {
			t.Errorf("top level: revision %q, version %q, differs %v; want no revision, 2.0.0, revision differing", info.Revision, info.Version, info.Differs)
		}
	})

	t.Run("no revision", func(t *testing.T) {
		info, err := release.Inspect(t.Context(), c, repo+":bare", release.InspectOptions{})
		if !errors.Is(err, release.ErrNoRevision) || info == nil {
			t.Fatalf("err = %v, want ErrNoRevision with the info", err)
		}
	})
}

// buildx runs `docker buildx build --push` of the checkout in dir as ref,
// with the extra environment and arguments; a build that fails returns
// buildx's error output, for the caller to judge.
func (e testEnv) buildx(t *testing.T, dir string, env []string, ref string, args ...string) error {
	t.Helper()
	all := append([]string{"buildx", "build", "--network", "none", "--push", "--tag", ref}, args...)
	cmd := exec.CommandContext(t.Context(), "docker", append(all, ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append(e.DockerEnv(), env...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		rm := exec.CommandContext(ctx, "docker", "image", "rm", ref)
		rm.Env = append(os.Environ(), e.DockerEnv()...)
		_ = rm.Run()
	})
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("docker %s: %v\n%s", strings.Join(all, " "), err, out.String())
	}
	return nil
}

// TestE2EInspectBuildx inspects what docker buildx itself writes from a
// git checkout when nobody passes --label: BuildKit provenance
// (--provenance=mode=min), buildx's own git labels (BUILDX_GIT_LABELS=full)
// and --annotation. The environment's buildx drives the engine through
// the docker driver (docs/testing.md), which refuses attestations and
// pushes through the engine, which keeps no annotation; each case checks
// that this is what happened, so that an environment that can build them
// gets its answers checked instead.
func TestE2EInspectBuildx(t *testing.T) {
	e := realEnv(t)
	if !e.Buildx() {
		t.Skip(releasetest.VarBuildx + "=0: no buildx to build with (the classic builder's labels are TestE2EInspect's)")
	}
	c := e.client(t, nil)
	repo := e.Registry() + "/" + uniqueRepo("buildx")
	const source = "https://git.example.com/team/app.git"
	r := gitinfotest.New(t)
	rev := r.Commit("feat: app", gitinfotest.File("Dockerfile", "FROM scratch\nCOPY hello.txt /hello.txt\n"),
		gitinfotest.File("hello.txt", repo+"\n"))
	r.AddRemote("origin", source)

	// check compares what Inspect read of ref with skopeo, and each value
	// with what it should be and where it should come from.
	type value struct {
		v    string
		from release.Origin
	}
	check := func(t *testing.T, ref string, revision, version, src value) {
		t.Helper()
		info, err := release.Inspect(t.Context(), c, ref, release.InspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := skopeoInspect(t, ref, "")
		p := info.Platforms[0]
		if info.Digest != want.Digest || info.MediaType != skopeoRaw(t, ref).MediaType {
			t.Errorf("digest %s, media type %s; skopeo says %s, %s", info.Digest, info.MediaType, want.Digest, skopeoRaw(t, ref).MediaType)
		}
		if diff := cmp.Diff(want.Labels, p.Labels); diff != "" {
			t.Errorf("labels (-skopeo +release):\n%s", diff)
		}
		for _, k := range []struct {
			key  string
			got  string
			want value
		}{
			{release.KeyRevision, info.Revision, revision},
			{release.KeyVersion, info.Version, version},
			{release.KeySource, info.Source, src},
		} {
			if got := (value{k.got, info.From[k.key]}); got != k.want {
				t.Errorf("%s %q from %q, want %q from %q", k.key, got.v, got.from, k.want.v, k.want.from)
			}
		}
	}

	t.Run("provenance", func(t *testing.T) {
		ref := repo + ":provenance"
		err := e.buildx(t, r.Dir, []string{"BUILDX_GIT_LABELS=0"}, ref, "--provenance=mode=min")
		if err != nil {
			if !strings.Contains(err.Error(), "Attestation is not supported for the docker driver") {
				t.Fatal(err)
			}
			t.Logf("buildx's docker driver refuses --provenance (docs/testing.md): BuildKit provenance is covered by the statements of TestInspect and inspect.txtar")
			return
		}
		check(t, ref, value{rev, release.OriginProvenance}, value{}, value{source, release.OriginProvenance})
	})

	t.Run("git labels", func(t *testing.T) {
		ref := repo + ":git-labels"
		if err := e.buildx(t, r.Dir, []string{"BUILDX_GIT_LABELS=full"}, ref, "--provenance=false"); err != nil {
			t.Fatal(err)
		}
		check(t, ref, value{rev, release.OriginLabel}, value{}, value{source, release.OriginLabel})
	})

	t.Run("annotations", func(t *testing.T) {
		ref := repo + ":annotated"
		var args []string
		for _, kv := range []string{"revision=" + rev, "version=3.1.0", "source=" + source} {
			args = append(args, "--annotation", "manifest:org.opencontainers.image."+kv)
		}
		if err := e.buildx(t, r.Dir, []string{"BUILDX_GIT_LABELS=0"}, ref, append(args, "--provenance=false")...); err != nil {
			t.Fatal(err)
		}
		if raw := skopeoRaw(t, ref); len(raw.Annotations) == 0 {
			// What the docker driver does: the engine pushes its own
			// manifest. Nothing says where the image came from, and
			// inspect must not pretend otherwise.
			t.Logf("buildx's docker driver pushed %s without its annotations (docs/testing.md): annotations are covered by TestE2EInspect/annotated", raw.MediaType)
			info, err := release.Inspect(t.Context(), c, ref, release.InspectOptions{})
			if !errors.Is(err, release.ErrNoRevision) || info == nil || info.Revision != "" {
				t.Errorf("inspect of an image without annotations or labels: %v, want ErrNoRevision", err)
			}
			return
		}
		check(t, ref, value{rev, release.OriginManifestAnnotation}, value{"3.1.0", release.OriginManifestAnnotation},
			value{source, release.OriginManifestAnnotation})
	})
}

// counter records the requests the registry answered, and how many tag
// list pages it said came next. Requests that got no answer are left out:
// the client's first request to a host tries https before http, which the
// plain registry does not speak.
type counter struct {
	inner http.RoundTripper
	mu    sync.Mutex
	reqs  []*http.Request
	links int
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.inner.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, req)
	if strings.HasSuffix(req.URL.Path, "/tags/list") && resp.Header.Get("Link") != "" {
		c.links++
	}
	return resp, err
}

// count counts the requests of a method whose path contains part, per
// path.
func (c *counter) count(method, part string) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, r := range c.reqs {
		if r.Method == method && strings.Contains(r.URL.Path, part) {
			out[r.URL.Path]++
		}
	}
	return out
}

// total counts the requests of a method whose path contains part.
func (c *counter) total(method, part string) int {
	n := 0
	for _, v := range c.count(method, part) {
		n += v
	}
	return n
}

// queries lists the values of the query parameter key of the requests
// whose path ends with suffix.
func (c *counter) queries(suffix, key string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.reqs {
		if strings.HasSuffix(r.URL.Path, suffix) {
			out = append(out, r.URL.Query().Get(key))
		}
	}
	return out
}

// tagPageSize asks the registry for tag list pages of n tags instead of
// the client's 1000, to make a registry that pages send a Link header
// early.
type tagPageSize struct {
	inner http.RoundTripper
	n     int
}

func (p tagPageSize) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/tags/list") {
		return p.inner.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	q := req.URL.Query()
	q.Set("n", strconv.Itoa(p.n))
	req.URL.RawQuery = q.Encode()
	return p.inner.RoundTrip(req)
}

func TestE2EFind(t *testing.T) {
	e := realEnv(t)
	c := e.client(t, nil)
	repo := e.Registry() + "/" + uniqueRepo("find")
	// 60 images over 12 commits, 5 tags each: 1.0.i, b-i-0…2, and the
	// commit's sha tag on its last build (b-i-3 on the others).
	mem := registrytest.New(t)
	type image struct {
		digest, config string
		tags           []string
	}
	images := make([]image, 60)
	for i := range images {
		rev := commitN(i % 12)
		img := registrytest.NewImage(registrytest.ImageSpec{Seed: uint64(5000 + i), Layers: 1, LayerSize: 64,
			Labels: oci("revision="+rev, fmt.Sprintf("version=1.0.%d", i))})
		tags := []string{fmt.Sprintf("1.0.%d", i), fmt.Sprintf("b-%d-0", i), fmt.Sprintf("b-%d-1", i), fmt.Sprintf("b-%d-2", i)}
		if i >= 48 {
			tags = append(tags, "sha-"+rev[:12])
		} else {
			tags = append(tags, fmt.Sprintf("b-%d-3", i))
		}
		mem.PushImage(t, "app", tags[0], img)
		images[i] = image{img.Digest, digestOf(img.Config), tags}
	}
	g, ctx := errgroup.WithContext(t.Context())
	g.SetLimit(8)
	for _, img := range images {
		g.Go(func() error {
			if _, err := c.Copy(ctx, mem.Host+"/app:"+img.tags[0], repo, registry.CopyOptions{NoAttachments: true}); err != nil {
				return err
			}
			_, err := c.Tag(ctx, repo+":"+img.tags[0]+"@"+img.digest, img.tags[1], registry.CopyOptions{Tags: img.tags[2:], NoAttachments: true})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("seeding %s: %v", repo, err)
	}

	for _, tt := range []struct {
		name   string
		commit int
		page   int // the tag list page size asked for; 0: the client's own
	}{
		{name: "client's pages", commit: 3},
		{name: "pages of 50", commit: 7, page: 50},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cnt := &counter{inner: http.DefaultTransport}
			var rt http.RoundTripper = cnt
			if tt.page > 0 {
				rt = tagPageSize{inner: cnt, n: tt.page}
			}
			fc := e.client(t, rt)
			res, err := release.Find(t.Context(), fc, repo, commitN(tt.commit)[:7], release.FindOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for i := tt.commit; i < 60; i += 12 {
				for _, tag := range images[i].tags {
					want = append(want, tag+" "+images[i].digest+" "+fmt.Sprintf("1.0.%d", i))
				}
			}
			for _, f := range res.Tags {
				got = append(got, f.Tag+" "+f.Digest+" "+f.Version)
			}
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			// Each config at most once, and only for images without
			// their commit's sha tag: 48 of the 60.
			for path, n := range cnt.count(http.MethodGet, "/blobs/") {
				if n != 1 {
					t.Errorf("%s read %d times", path, n)
				}
			}
			// What page size was asked: the client's is 1000 (registry/manifest.go).
			wantN := "1000"
			if tt.page > 0 {
				wantN = strconv.Itoa(tt.page)
			}
			for _, n := range cnt.queries("/tags/list", "n") {
				if n != wantN {
					t.Errorf("a tag list page was asked with n=%s, want %s", n, wantN)
				}
			}
			pages := cnt.total(http.MethodGet, "/tags/list")
			heads := cnt.total(http.MethodHead, "/manifests/")
			manifests := cnt.total(http.MethodGet, "/manifests/")
			configs := cnt.total(http.MethodGet, "/blobs/")
			t.Logf("find %s: %d tag list GETs (%d Link headers), %d HEADs, %d manifest GETs, %d config GETs",
				commitN(tt.commit)[:7], pages, cnt.links, heads, manifests, configs)
			// Every page the registry announced was read, and no
			// other: the registry's (distribution 2.8) tag list does
			// not page, whatever n asks, so this is one page here.
			if pages != cnt.links+1 || res.TagsScanned != 300 {
				t.Errorf("%d tag list GETs for %d Link headers, %d tags scanned; want one more GET than links, and 300 tags", pages, cnt.links, res.TagsScanned)
			}
			if configs != 48 || manifests != 48 || res.Lookups != 48 {
				t.Errorf("%d configs and %d manifests read (lookups %d), want 48 each", configs, manifests, res.Lookups)
			}
			if heads != 300 {
				t.Errorf("%d HEADs, want one per tag (300)", heads)
			}
		})
	}
}

func TestE2EDiff(t *testing.T) {
	e := realEnv(t)
	c := e.client(t, nil)
	// A range with a merge in it:
	//
	//	c1 ── fix ── fix ── merge ── c4   main
	//	  └── feat ── perf ──┘            side
	r := gitinfotest.New(t)
	c1 := r.Commit("feat: first", gitinfotest.File("a", "1"))
	r.Branch("side")
	r.Commit("fix(cart): empty carts", gitinfotest.File("a", "2"))
	r.Checkout("side")
	r.Commit("feat(side): side orders", gitinfotest.File("b", "1"))
	r.Commit("perf: faster side orders", gitinfotest.File("b", "2"))
	r.Checkout("main")
	r.Commit("fix: rounding", gitinfotest.File("a", "3"))
	r.Merge("Merge branch 'side'", []string{"side"})
	c4 := r.Commit("feat(api): orders", gitinfotest.File("a", "4"))
	repoDir := openRepo(t, r.Dir)

	repo := e.Registry() + "/" + uniqueRepo("diff")
	e.dockerBuild(t, repo+":prod", "linux/amd64", map[string]string{"org.opencontainers.image.revision": c1})
	e.dockerBuild(t, repo+":staging", "linux/amd64", map[string]string{"org.opencontainers.image.revision": c4})

	// Every commit of the range (the merge too), in git's order; the
	// notes list each commit but the merge (every other one here is of
	// a type the notes list).
	all := strings.Fields(r.Git("rev-list", c4, "--not", c1))
	noMerges := strings.Fields(r.Git("rev-list", "--no-merges", c4, "--not", c1))
	slices.Sort(noMerges)
	if len(all) != 6 || len(noMerges) != 5 {
		t.Fatalf("git rev-list: %d commits, %d without merges; the history above has 6 and 5", len(all), len(noMerges))
	}
	noted := func(n release.Notes) []string {
		var out []string
		for _, s := range n.Sections {
			for _, e := range s.Entries {
				out = append(out, e.Commit)
			}
		}
		slices.Sort(out)
		return out
	}

	res, err := release.Diff(t.Context(), c, repo+":prod", repo+":staging", release.DiffOptions{Git: repoDir})
	if err != nil {
		t.Fatal(err)
	}
	fwd := res.Ranges[0]
	if fwd.Kind != release.ChangeForward || len(res.Ranges) != 1 {
		t.Errorf("%d ranges, the first %s; want one, forward", len(res.Ranges), fwd.Kind)
	}
	if diff := cmp.Diff(all, hashes(fwd.Added)); diff != "" {
		t.Errorf("commits (-git rev-list +diff):\n%s", diff)
	}
	if diff := cmp.Diff(noMerges, noted(fwd.Notes)); diff != "" {
		t.Errorf("commits in the notes (-git rev-list --no-merges +diff):\n%s", diff)
	}

	back, err := release.Diff(t.Context(), c, repo+":staging", repo+":prod", release.DiffOptions{Git: repoDir})
	if err != nil {
		t.Fatal(err)
	}
	rb := back.Ranges[0]
	if rb.Kind != release.ChangeRollback || !slices.Equal(all, hashes(rb.Removed)) || !slices.Equal(noMerges, noted(rb.RemovedNotes)) {
		t.Errorf("the other way: %s removing %v (notes %v), want a rollback removing %v (notes %v)",
			rb.Kind, hashes(rb.Removed), noted(rb.RemovedNotes), all, noMerges)
	}
}

func TestE2EErrors(t *testing.T) {
	e := realEnv(t)
	anonymous := func() *registry.Client {
		c, err := registry.New(registry.WithKeychain(registry.DockerConfigKeychain(t.TempDir())), registry.WithCAFile(e.RegistryCA()))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}()
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"bad reference", func() error {
			_, err := release.Inspect(t.Context(), anonymous, e.Registry()+"/Bad/Name:1", release.InspectOptions{})
			return err
		}, registry.ErrInvalidReference},
		{"unknown repository, inspect", func() error {
			_, err := release.Inspect(t.Context(), anonymous, e.Registry()+"/"+uniqueRepo("none")+":1.0.0", release.InspectOptions{})
			return err
		}, registry.ErrNotFound},
		{"unknown repository, find", func() error {
			_, err := release.Find(t.Context(), anonymous, e.Registry()+"/"+uniqueRepo("none"), "abcdef1", release.FindOptions{})
			return err
		}, registry.ErrNotFound},
		{"unauthorised registry", func() error {
			_, err := release.Find(t.Context(), anonymous, e.RegistryTLS()+"/"+uniqueRepo("none"), "abcdef1", release.FindOptions{})
			return err
		}, registry.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), e.RegistryPassword()) {
				t.Errorf("the password reached the error: %v", err)
			}
		})
	}
}
