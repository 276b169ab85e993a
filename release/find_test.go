package release_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
	"github.com/releasetool/release/release"
)

// commitN is the n-th commit of the big repository: 40 times one hex digit
// (1…c), so their prefixes never collide.
func commitN(n int) string { return strings.Repeat(fmt.Sprintf("%x", n+1), 40) }

// bigRepo is a repository of 300 tags over 60 images: image i comes from
// commitN(i%12) and has the tags 1.0.i, b-i-0, b-i-1, b-i-2 and, when
// withSHA(i), sha-<12 hex> of its commit (else b-i-3).
type bigRepo struct {
	reg     *registrytest.Server
	digests []string
	configs []string
	tags    [][]string
}

func newBigRepo(t testing.TB, withSHA func(i int) bool, opts ...registrytest.Option) *bigRepo {
	t.Helper()
	b := &bigRepo{reg: registrytest.New(t, opts...)}
	for i := range 60 {
		rev := commitN(i % 12)
		img := registrytest.NewImage(registrytest.ImageSpec{Seed: uint64(1000 + i), Layers: 1, LayerSize: 16,
			Labels: oci("revision="+rev, fmt.Sprintf("version=1.0.%d", i))})
		tags := []string{fmt.Sprintf("1.0.%d", i), fmt.Sprintf("b-%d-0", i), fmt.Sprintf("b-%d-1", i), fmt.Sprintf("b-%d-2", i)}
		if withSHA(i) {
			tags = append(tags, "sha-"+rev[:12])
		} else {
			tags = append(tags, fmt.Sprintf("b-%d-3", i))
		}
		for _, tag := range tags {
			b.reg.PushImage(t, "app", tag, img)
		}
		b.digests = append(b.digests, img.Digest)
		b.configs = append(b.configs, digestOf(img.Config))
		b.tags = append(b.tags, tags)
	}
	b.reg.Reset()
	return b
}

// found is what Find should list for images is of commitN(c).
func (b *bigRepo) found(c int, from func(i int) release.Origin) []release.FoundTag {
	var out []release.FoundTag
	for i := c; i < 60; i += 12 {
		rev := commitN(c)
		if from(i) == release.OriginTag {
			rev = rev[:12]
		}
		for _, tag := range b.tags[i] {
			out = append(out, release.FoundTag{Tag: tag, Digest: b.digests[i], Version: fmt.Sprintf("1.0.%d", i), Revision: rev, From: from(i)})
		}
	}
	slices.SortFunc(out, func(x, y release.FoundTag) int { return strings.Compare(x.Tag, y.Tag) })
	return out
}

// configReads counts the GETs of each config blob.
func (b *bigRepo) configReads() map[string]int {
	out := map[string]int{}
	for _, r := range b.reg.Requests() {
		if r.Kind == registrytest.KindBlob && slices.Contains(b.configs, r.Ref) {
			out[r.Ref]++
		}
	}
	return out
}

func TestFindManyTags(t *testing.T) {
	none := func(int) bool { return false }
	// The last build of each commit carries its sha tag, as release build
	// leaves it: the tag moved on from the earlier builds.
	latest := func(i int) bool { return i >= 48 }
	label := func(int) release.Origin { return release.OriginLabel }
	tests := []struct {
		name     string
		withSHA  func(int) bool
		opts     []registrytest.Option
		from     func(int) release.Origin
		lookups  int
		requests map[string]int
	}{
		{
			name: "no sha tags: each image read once", withSHA: none, from: label, lookups: 60,
			requests: map[string]int{"GET tags": 1, "HEAD manifest": 300, "GET manifest": 60, "GET blob": 60},
		},
		{
			name: "paged tag list", withSHA: none, from: label, lookups: 60,
			opts:     []registrytest.Option{registrytest.WithTagPageSize(50)},
			requests: map[string]int{"GET tags": 6, "HEAD manifest": 300, "GET manifest": 60, "GET blob": 60},
		},
		{
			// Images 0…47 have no sha tag: the sha tags of 48…59 say
			// nothing about them, so they are read; 48…59 are not.
			name: "sha tags on the last builds", withSHA: latest, lookups: 48,
			from: func(i int) release.Origin {
				if i >= 48 {
					return release.OriginTag
				}
				return release.OriginLabel
			},
			requests: map[string]int{"GET tags": 1, "HEAD manifest": 300, "GET manifest": 48, "GET blob": 48},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBigRepo(t, tt.withSHA, tt.opts...)
			c := newImages(t)
			res, err := release.Find(t.Context(), c, b.reg.Host+"/app", commitN(3)[:7], release.FindOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(b.found(3, tt.from), res.Tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if len(res.Tags) != 25 {
				t.Errorf("%d tags, want the 25 of the 5 images of the commit", len(res.Tags))
			}
			if res.Revision != commitN(3) {
				t.Errorf("revision = %s, want %s", res.Revision, commitN(3))
			}
			if diff := cmp.Diff(tt.requests, requests(b.reg)); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			for cfg, n := range b.configReads() {
				if n != 1 {
					t.Errorf("config %s read %d times", cfg, n)
				}
			}
			got := [3]int{res.TagsScanned, res.Digests, res.Lookups}
			if want := [3]int{300, 60, tt.lookups}; got != want {
				t.Errorf("tags scanned, digests, lookups = %v, want %v", got, want)
			}
		})
	}
}

func TestFindRevisionForms(t *testing.T) {
	reg := registrytest.New(t)
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Labels: oci("revision=" + revA)})
	reg.PushImage(t, "app", "1.0.0", img)
	reg.PushImage(t, "app", "sha-"+revA[:12], img)
	c := newImages(t)
	// Only the sha tag answers: its 12 hex, or the commit itself when it
	// was given in full.
	tests := []struct {
		commit, want string
	}{
		{revA[:7], revA[:12]},
		{revA, revA},
		{strings.ToUpper(revA[:9]), revA[:12]},
	}
	for _, tt := range tests {
		t.Run(tt.commit, func(t *testing.T) {
			reg.Reset()
			res, err := release.Find(t.Context(), c, reg.Host+"/app", tt.commit, release.FindOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Revision != tt.want {
				t.Errorf("revision = %s, want %s", res.Revision, tt.want)
			}
			if len(res.Tags) != 2 || res.Tags[0].Version != "1.0.0" {
				t.Errorf("tags = %+v, want 1.0.0 and the sha tag, version 1.0.0", res.Tags)
			}
			if n := reg.Count(func(r registrytest.Request) bool { return r.Kind == registrytest.KindBlob }); n != 0 {
				t.Errorf("%d blob reads, want none", n)
			}
		})
	}
}

// isHEAD matches the requests that resolve tags; isManifestGET those that
// start reading an image.
func isHEAD(r *http.Request) bool { return r.Method == http.MethodHead }
func isManifestGET(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/")
}

// TestFindResolvesConcurrentlyWithinTheBound: both phases, resolving tags
// and reading images, run Jobs requests at once, no fewer and no more.
func TestFindResolvesConcurrentlyWithinTheBound(t *testing.T) {
	b := newBigRepo(t, func(i int) bool { return i >= 48 })
	const jobs = 5
	heads := registrytest.NewGate(nil, jobs, isHEAD)
	reads := registrytest.NewGate(heads, jobs, isManifestGET)
	c := newImages(t, registry.WithTransport(reads))
	// The deadline only ends a Find that would wait forever at a gate.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var phases []release.FindProgress
	res, err := release.Find(ctx, c, b.reg.Host+"/app", commitN(0)[:7], release.FindOptions{
		Jobs:     jobs,
		Progress: func(p release.FindProgress) { phases = append(phases, p) },
	})
	if err != nil {
		t.Fatalf("Find: %v (a phase that makes its requests one by one never opens its gate)", err)
	}
	if heads.Max() != jobs {
		t.Errorf("at most %d HEADs in flight, want exactly the bound %d", heads.Max(), jobs)
	}
	if reads.Max() != jobs {
		t.Errorf("at most %d image reads in flight, want exactly the bound %d", reads.Max(), jobs)
	}
	if len(res.Tags) != 25 {
		t.Errorf("%d tags found, want 25", len(res.Tags))
	}
	last := map[string]release.FindProgress{}
	count := map[string]int{}
	for _, p := range phases {
		last[p.Phase] = p
		count[p.Phase]++
	}
	wantLast := map[string]release.FindProgress{
		"tags":   {Phase: "tags", Done: 300, Total: 300},
		"images": {Phase: "images", Done: 48, Total: 48},
	}
	if diff := cmp.Diff(wantLast, last); diff != "" {
		t.Errorf("last progress reports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"tags": 300, "images": 48}, count); diff != "" {
		t.Errorf("progress reports (-want +got):\n%s", diff)
	}
}

// vanishingTag lists one tag more than the repository has: a tag deleted
// between the listing and its HEAD.
type vanishingTag struct {
	release.Images
	tag string
}

func (v vanishingTag) Tags(ctx context.Context, repo string) ([]string, error) {
	tags, err := v.Images.Tags(ctx, repo)
	return append(tags, v.tag), err
}

// TestFindTagDeletedSinceTheListing: a tag gone by the time it is resolved
// is skipped, and still counts as done, so the progress line ends at its
// total.
func TestFindTagDeletedSinceTheListing(t *testing.T) {
	reg := registrytest.New(t)
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Labels: oci("revision="+revA, "version=1.0.0")})
	reg.PushImage(t, "app", "1.0.0", img)
	last := map[string]release.FindProgress{}
	res, err := release.Find(t.Context(), vanishingTag{newImages(t), "gone"}, reg.Host+"/app", revA, release.FindOptions{
		Progress: func(p release.FindProgress) { last[p.Phase] = p },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []release.FoundTag{{Tag: "1.0.0", Digest: img.Digest, Version: "1.0.0", Revision: revA, From: release.OriginLabel}}
	if diff := cmp.Diff(want, res.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	wantLast := map[string]release.FindProgress{
		"tags":   {Phase: "tags", Done: 2, Total: 2},
		"images": {Phase: "images", Done: 1, Total: 1},
	}
	if diff := cmp.Diff(wantLast, last); diff != "" {
		t.Errorf("last progress reports (-want +got):\n%s", diff)
	}
}

func TestFindCases(t *testing.T) {
	reg := registrytest.New(t)
	push := func(tag string, spec registrytest.ImageSpec) *registrytest.Image {
		img := registrytest.NewImage(spec)
		reg.PushImage(t, "app", tag, img)
		return img
	}
	imgA := push("1.0.0", registrytest.ImageSpec{Seed: 1, Labels: oci("revision="+revA, "version=1.0.0")})
	reg.PushImage(t, "app", "latest", imgA)
	imgB := push("2.0.0", registrytest.ImageSpec{Seed: 2, Labels: oci("revision="+revB, "version=2.0.0")})
	// A sha tag that lies about its image: the tag is believed (it is
	// what release build writes), and only about its own digest.
	push("sha-"+revC[:12], registrytest.ImageSpec{Seed: 3, Labels: oci("revision="+revA, "version=3.0.0")})
	reg.PushSignature(t, "app", imgA.Digest, "sig", 1)
	// An index whose platforms came from two commits.
	amd := registrytest.NewImage(registrytest.ImageSpec{Seed: 4, Platform: "linux/amd64", Labels: oci("revision="+revC, "version=4.0.0")})
	arm := registrytest.NewImage(registrytest.ImageSpec{Seed: 5, Platform: "linux/arm64", Labels: oci("revision="+revB, "version=4.0.0")})
	mixed := registrytest.NewIndexOf(registrytest.IndexSpec{Images: []*registrytest.Image{amd, arm}})
	reg.PushIndex(t, "app", "4.0.0", mixed)
	// Provenance only.
	p := registrytest.NewImage(registrytest.ImageSpec{Seed: 6})
	prov := registrytest.NewIndexOf(registrytest.IndexSpec{Images: []*registrytest.Image{p},
		Provenance: map[string][]byte{p.Digest: provenanceV1(p.Digest, revC, "")}})
	reg.PushIndex(t, "app", "5.0.0", prov)
	// Annotations only.
	ann := push("6.0.0", registrytest.ImageSpec{Seed: 7, Annotations: oci("revision="+revC, "version=6.0.0")})

	empty := registrytest.New(t)
	c := newImages(t)
	tests := []struct {
		name     string
		repo     string
		commit   string
		want     []release.FoundTag
		wantErr  error
		errText  string
		noHEADOf string // a tag Find must not even resolve
	}{
		{
			name: "prefix", repo: reg.Host + "/app", commit: revA[:8],
			want: []release.FoundTag{
				{Tag: "1.0.0", Digest: imgA.Digest, Version: "1.0.0", Revision: revA, From: release.OriginLabel},
				{Tag: "latest", Digest: imgA.Digest, Version: "1.0.0", Revision: revA, From: release.OriginLabel},
			},
			noHEADOf: "sha256-" + strings.TrimPrefix(imgA.Digest, "sha256:") + ".sig",
		},
		{
			name: "full hash", repo: reg.Host + "/app", commit: revB,
			want: []release.FoundTag{
				{Tag: "2.0.0", Digest: imgB.Digest, Version: "2.0.0", Revision: revB, From: release.OriginLabel},
				{Tag: "4.0.0", Digest: mixed.Digest, Version: "4.0.0", Revision: revB, From: release.OriginLabel, Platforms: []string{"linux/arm64"}},
			},
		},
		{
			name: "labels, annotations, provenance and sha tags", repo: reg.Host + "/app", commit: revC[:7],
			want: []release.FoundTag{
				{Tag: "4.0.0", Digest: mixed.Digest, Version: "4.0.0", Revision: revC, From: release.OriginLabel, Platforms: []string{"linux/amd64"}},
				{Tag: "5.0.0", Digest: prov.Digest, Revision: revC, From: release.OriginProvenance},
				{Tag: "6.0.0", Digest: ann.Digest, Version: "6.0.0", Revision: revC, From: release.OriginManifestAnnotation},
				// sha-<revC> names an image without a version tag: it is
				// read for its version, and its label (revA) wins.
			},
		},
		{
			name: "no match", repo: reg.Host + "/app", commit: "0123456789",
			want: []release.FoundTag{},
		},
		{
			name: "ambiguous prefix", repo: reg.Host + "/app", commit: revA[:7],
			wantErr: release.ErrAmbiguous,
			errText: "images of 2 revisions match: " + revA + " (1.0.0, latest); " + revB + " (2.0.0, 4.0.0)",
		},
		{name: "too short", repo: reg.Host + "/app", commit: "abc123", wantErr: release.ErrInvalid},
		{name: "not hex", repo: reg.Host + "/app", commit: "main-branch", wantErr: release.ErrInvalid},
		{name: "unknown repository", repo: reg.Host + "/nothing", commit: revA, wantErr: registry.ErrNotFound, errText: "has no image tags"},
		{name: "empty registry", repo: empty.Host + "/app", commit: revA, wantErr: registry.ErrNotFound},
		{name: "a tag is no repository", repo: reg.Host + "/app:1.0.0", commit: revA, wantErr: registry.ErrInvalidReference},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg.Reset()
			res, err := release.Find(t.Context(), c, tt.repo, tt.commit, release.FindOptions{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.errText) {
					t.Errorf("err = %q, want it to say %q", err, tt.errText)
				}
				return
			}
			if diff := cmp.Diff(tt.want, res.Tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			for _, r := range reg.Requests() {
				if tt.noHEADOf != "" && r.Ref == tt.noHEADOf {
					t.Errorf("%s was requested: attachment tags are not images of a commit", r)
				}
			}
		})
	}
}

// BenchmarkFind is release find over 300 tags / 60 images in an
// in-process registry, with sha tags on the last build of each commit.
func BenchmarkFind(b *testing.B) {
	big := newBigRepo(b, func(i int) bool { return i >= 48 })
	repo := big.reg.Host + "/app"
	c, err := registry.New(registry.WithKeychain(registry.DockerConfigKeychain(b.TempDir())))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := release.Find(b.Context(), c, repo, commitN(3)[:7], release.FindOptions{})
		if err != nil || len(res.Tags) != 25 {
			b.Fatalf("Find: %d tags, %v", len(res.Tags), err)
		}
	}
}
