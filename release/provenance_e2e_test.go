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

	// Annotations only: written as buildx --annotation writes them.
	mem := registrytest.New(t)
	mem.PushImage(t, "app", "annotated", registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 32,
		Annotations: oci("revision="+revB, "version=3.0.0")}))
	stage(t, c, mem, "app:annotated", repo+":annotated")

	tests := []struct {
		tag      string
		platform string // compared with skopeo --override-arch
		revision string
		from     release.Origin
		digest   string
	}{
		{tag: "labeled", revision: revA, from: release.OriginLabel, digest: labeled},
		{tag: "mixed", platform: "linux/amd64", revision: revA, from: release.OriginLabel, digest: mixed},
		{tag: "mixed", platform: "linux/arm64", revision: revB, from: release.OriginLabel, digest: mixed},
		{tag: "annotated", revision: revB, from: release.OriginManifestAnnotation},
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
			if p.Revision != tt.revision || p.From[release.KeyRevision] != tt.from {
				t.Errorf("revision %s from %s, want %s from %s", p.Revision, p.From[release.KeyRevision], tt.revision, tt.from)
			}
			if v := want.Labels["org.opencontainers.image.version"]; v != "" && p.Version != v {
				t.Errorf("version %s, label says %s", p.Version, v)
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

// counter records the requests a client makes.
type counter struct {
	inner http.RoundTripper
	mu    sync.Mutex
	reqs  []*http.Request
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	c.mu.Unlock()
	return c.inner.RoundTrip(req)
}

// count counts the requests of a method whose path contains part.
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

	for _, commit := range []int{3, 7} {
		t.Run(commitN(commit)[:7], func(t *testing.T) {
			cnt := &counter{inner: http.DefaultTransport}
			fc := e.client(t, cnt)
			res, err := release.Find(t.Context(), fc, repo, commitN(commit)[:7], release.FindOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for i := commit; i < 60; i += 12 {
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
			blobs := cnt.count(http.MethodGet, "/blobs/")
			total := 0
			for path, n := range blobs {
				total += n
				if n != 1 {
					t.Errorf("%s read %d times", path, n)
				}
			}
			heads := 0
			for _, n := range cnt.count(http.MethodHead, "/manifests/") {
				heads += n
			}
			t.Logf("find %s: %d HEADs, %d manifest GETs, %d config GETs, %d tag list pages",
				commitN(commit)[:7], heads, len(cnt.count(http.MethodGet, "/manifests/")), total, len(cnt.count(http.MethodGet, "/tags/list")))
			if total != 48 || res.Lookups != 48 {
				t.Errorf("%d configs read (lookups %d), want 48", total, res.Lookups)
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
	r := gitinfotest.New(t)
	c1 := r.Commit("feat: first", gitinfotest.File("a", "1"))
	r.Commit("fix(cart): empty carts", gitinfotest.File("a", "2"))
	r.Commit("docs: readme", gitinfotest.File("a", "3"))
	c4 := r.Commit("feat(api): orders", gitinfotest.File("a", "4"))
	repoDir := openRepo(t, r.Dir)

	repo := e.Registry() + "/" + uniqueRepo("diff")
	e.dockerBuild(t, repo+":prod", "linux/amd64", map[string]string{"org.opencontainers.image.revision": c1})
	e.dockerBuild(t, repo+":staging", "linux/amd64", map[string]string{"org.opencontainers.image.revision": c4})

	res, err := release.Diff(t.Context(), c, repo+":prod", repo+":staging", release.DiffOptions{Git: repoDir})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(r.Git("rev-list", c4, "--not", c1))
	if diff := cmp.Diff(want, hashes(res.Ranges[0].Added)); diff != "" {
		t.Errorf("commits (-git rev-list +diff):\n%s", diff)
	}
	back, err := release.Diff(t.Context(), c, repo+":staging", repo+":prod", release.DiffOptions{Git: repoDir})
	if err != nil {
		t.Fatal(err)
	}
	if back.Ranges[0].Kind != release.ChangeRollback || !slices.Equal(want, hashes(back.Ranges[0].Removed)) {
		t.Errorf("the other way: %s removing %v, want a rollback removing %v", back.Ranges[0].Kind, hashes(back.Ranges[0].Removed), want)
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
