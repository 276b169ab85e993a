package release_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
	"github.com/releasetool/release/release"
)

// Revisions the tests use; revB shares revA's first 7 digits so prefixes
// can be ambiguous.
const (
	revA = "aaaaaaa111111111111111111111111111111111"
	revB = "aaaaaaa222222222222222222222222222222222"
	revC = "cccccccccccccccccccccccccccccccccccccccc"
)

// oci builds the org.opencontainers.image.* keys of a label or annotation
// map from key=value pairs ("revision=…").
func oci(pairs ...string) map[string]string {
	m := map[string]string{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		m["org.opencontainers.image."+k] = v
	}
	return m
}

// newImages returns a registry client for registrytest servers: no
// retries waiting, no credentials from the machine.
func newImages(t *testing.T, opts ...registry.Option) *registry.Client {
	t.Helper()
	opts = append([]registry.Option{
		registry.WithKeychain(registry.DockerConfigKeychain(t.TempDir())),
		registry.WithRetry(registry.RetryPolicy{Attempts: 1}),
	}, opts...)
	c, err := registry.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// provenanceV02 is BuildKit's SLSA v0.2 provenance of subject.
func provenanceV02(subject, revision, source string) []byte {
	return registrytest.Statement(subject, "https://slsa.dev/provenance/v0.2", map[string]any{
		"builder":   map[string]any{"id": ""},
		"buildType": "https://mobyproject.org/buildkit@v1",
		"metadata": map[string]any{
			"buildStartedOn": "2024-01-02T03:04:05Z",
			"https://mobyproject.org/buildkit@v1#metadata": map[string]any{
				"vcs": map[string]any{"revision": revision, "source": source, "localdir:context": "."},
			},
		},
	})
}

// provenanceV1 is BuildKit's SLSA v1 provenance of subject.
func provenanceV1(subject, revision, source string) []byte {
	return registrytest.Statement(subject, "https://slsa.dev/provenance/v1", map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://mobyproject.org/buildkit@v1"},
		"runDetails": map[string]any{
			"builder": map[string]any{"id": ""},
			"metadata": map[string]any{
				"buildkit_metadata": map[string]any{
					"vcs": map[string]any{"revision": revision, "source": source},
				},
			},
		},
	})
}

// requests counts the registry's requests by "METHOD kind", auth apart.
func requests(reg *registrytest.Server) map[string]int {
	out := map[string]int{}
	for _, r := range reg.Requests() {
		if !r.Auth() {
			out[r.Method+" "+string(r.Kind)]++
		}
	}
	return out
}

// platform is the expected description of one platform, its maps left
// out (compared separately where a test is about them).
type platform struct {
	Platform, Version, Revision, Source, Created string
	Dirty                                        bool
	From                                         map[string]release.Origin
}

func platformsOf(info *release.ImageInfo) []platform {
	var out []platform
	for _, p := range info.Platforms {
		out = append(out, platform{p.Platform, p.Version, p.Revision, p.Source, p.Created, p.Dirty, p.From})
	}
	return out
}

func TestInspect(t *testing.T) {
	reg := registrytest.New(t)
	const created = "2024-01-02T03:04:05Z"

	// Labels as plain `docker build --label` writes them (Docker media types).
	labeledLabels := oci("revision="+revA, "version=1.2.3", "source=https://git.example.com/team/app", "created=2024-03-01T12:00:00Z")
	labeledLabels["maintainer"] = "ops@example.com"
	labeled := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 8, Docker: true, Labels: labeledLabels})
	reg.PushImage(t, "app", "labeled", labeled)

	// Manifest annotations only (buildx --annotation manifest:…).
	annotated := registrytest.NewImage(registrytest.ImageSpec{Seed: 2, Layers: 1, LayerSize: 8,
		Annotations: oci("revision="+revB, "version=2.0.0", "source=https://git.example.com/team/app")})
	reg.PushImage(t, "app", "annotated", annotated)

	// Index annotations only, on a one-platform index.
	plain := registrytest.NewImage(registrytest.ImageSpec{Seed: 3, Layers: 1, LayerSize: 8})
	reg.PushIndex(t, "app", "index-annotated", registrytest.NewIndexOf(registrytest.IndexSpec{
		Images: []*registrytest.Image{plain}, Annotations: oci("revision="+revC, "version=3.0.0")}))

	// Provenance only: BuildKit's attestations, v0.2 for amd64, v1 for arm64.
	pAMD := registrytest.NewImage(registrytest.ImageSpec{Seed: 4, Layers: 1, LayerSize: 8, Platform: "linux/amd64"})
	pARM := registrytest.NewImage(registrytest.ImageSpec{Seed: 5, Layers: 1, LayerSize: 8, Platform: "linux/arm64"})
	reg.PushIndex(t, "app", "provenance", registrytest.NewIndexOf(registrytest.IndexSpec{
		Images: []*registrytest.Image{pAMD, pARM},
		Provenance: map[string][]byte{
			pAMD.Digest: provenanceV02(pAMD.Digest, revA, "https://git.example.com/team/app.git"),
			pARM.Digest: provenanceV1(pARM.Digest, revA, "https://git.example.com/team/app.git"),
		},
	}))

	// Two platforms from two commits.
	mAMD := registrytest.NewImage(registrytest.ImageSpec{Seed: 6, Layers: 1, LayerSize: 8, Platform: "linux/amd64",
		Labels: oci("revision="+revA, "version=1.0.0", "vendor=acme")})
	mARM := registrytest.NewImage(registrytest.ImageSpec{Seed: 7, Layers: 1, LayerSize: 8, Platform: "linux/arm64",
		Labels: oci("revision="+revC, "version=1.0.0", "vendor=acme")})
	mixed := registrytest.NewIndexOf(registrytest.IndexSpec{Images: []*registrytest.Image{mAMD, mARM}})
	reg.PushIndex(t, "app", "mixed", mixed)

	// Precedence: the label beats the annotation, which beats provenance;
	// provenance still answers what neither has.
	pr := registrytest.NewImage(registrytest.ImageSpec{Seed: 8, Layers: 1, LayerSize: 8,
		Labels: oci("revision=" + revA), Annotations: oci("revision="+revB, "version=9.9.9")})
	reg.PushIndex(t, "app", "precedence", registrytest.NewIndexOf(registrytest.IndexSpec{
		Images:      []*registrytest.Image{pr},
		Annotations: oci("revision="+revC, "version=0.0.1", "created=2020-01-01T00:00:00Z"),
		Provenance:  map[string][]byte{pr.Digest: provenanceV02(pr.Digest, revC, "https://user:secret@git.example.com/team/app")},
	}))

	// A dirty worktree, as buildx records it.
	dirty := registrytest.NewImage(registrytest.ImageSpec{Seed: 9, Layers: 1, LayerSize: 8})
	reg.PushIndex(t, "app", "dirty", registrytest.NewIndexOf(registrytest.IndexSpec{
		Images:     []*registrytest.Image{dirty},
		Provenance: map[string][]byte{dirty.Digest: provenanceV02(dirty.Digest, strings.ToUpper(revA)+"-dirty", "")},
	}))

	label, mAnn, iAnn, prov, conf := release.OriginLabel, release.OriginManifestAnnotation, release.OriginIndexAnnotation, release.OriginProvenance, release.OriginConfig
	tests := []struct {
		name      string
		ref       string
		platform  string
		want      []platform
		top       platform // Platform unused: the top-level values
		differs   []string
		requests  map[string]int
		labels    map[string]string
		wantError error
	}{
		{
			name: "labels of docker build", ref: "app:labeled",
			want: []platform{{"linux/amd64", "1.2.3", revA, "https://git.example.com/team/app", "2024-03-01T12:00:00Z", false,
				map[string]release.Origin{"version": label, "revision": label, "source": label, "created": label}}},
			top: platform{"", "1.2.3", revA, "https://git.example.com/team/app", "2024-03-01T12:00:00Z", false,
				map[string]release.Origin{"version": label, "revision": label, "source": label, "created": label}},
			differs:  []string{},
			requests: map[string]int{"GET manifest": 1, "GET blob": 1},
			labels:   labeledLabels,
		},
		{
			name: "manifest annotations only", ref: "app:annotated",
			want: []platform{{"linux/amd64", "2.0.0", revB, "https://git.example.com/team/app", created, false,
				map[string]release.Origin{"version": mAnn, "revision": mAnn, "source": mAnn, "created": conf}}},
			top: platform{"", "2.0.0", revB, "https://git.example.com/team/app", created, false,
				map[string]release.Origin{"version": mAnn, "revision": mAnn, "source": mAnn, "created": conf}},
			differs:  []string{},
			requests: map[string]int{"GET manifest": 1, "GET blob": 1},
			labels:   map[string]string{},
		},
		{
			name: "index annotations only", ref: "app:index-annotated",
			want: []platform{{"linux/amd64", "3.0.0", revC, "", created, false,
				map[string]release.Origin{"version": iAnn, "revision": iAnn, "created": conf}}},
			top: platform{"", "3.0.0", revC, "", created, false,
				map[string]release.Origin{"version": iAnn, "revision": iAnn, "created": conf}},
			differs:  []string{},
			requests: map[string]int{"GET manifest": 2, "GET blob": 1},
			labels:   map[string]string{},
		},
		{
			name: "provenance only, SLSA v0.2 and v1", ref: "app:provenance",
			want: []platform{
				{"linux/amd64", "", revA, "https://git.example.com/team/app.git", created, false,
					map[string]release.Origin{"revision": prov, "source": prov, "created": conf}},
				{"linux/arm64", "", revA, "https://git.example.com/team/app.git", created, false,
					map[string]release.Origin{"revision": prov, "source": prov, "created": conf}},
			},
			top: platform{"", "", revA, "https://git.example.com/team/app.git", created, false,
				map[string]release.Origin{"revision": prov, "source": prov, "created": conf}},
			differs: []string{},
			// index; per platform: manifest, config, attestation manifest, statement
			requests: map[string]int{"GET manifest": 1 + 2*2, "GET blob": 2 * 2},
			labels:   map[string]string{},
		},
		{
			name: "platforms from two commits", ref: "app:mixed",
			want: []platform{
				{"linux/amd64", "1.0.0", revA, "", created, false, map[string]release.Origin{"version": label, "revision": label, "created": conf}},
				{"linux/arm64", "1.0.0", revC, "", created, false, map[string]release.Origin{"version": label, "revision": label, "created": conf}},
			},
			top: platform{"", "1.0.0", "", "", created, false,
				map[string]release.Origin{"version": label, "created": conf}},
			differs:  []string{"revision"},
			requests: map[string]int{"GET manifest": 3, "GET blob": 2},
			labels:   oci("version=1.0.0", "vendor=acme"),
		},
		{
			name: "one platform of two", ref: "app:mixed", platform: "linux/arm64",
			want: []platform{
				{"linux/arm64", "1.0.0", revC, "", created, false, map[string]release.Origin{"version": label, "revision": label, "created": conf}},
			},
			top: platform{"", "1.0.0", revC, "", created, false,
				map[string]release.Origin{"version": label, "revision": label, "created": conf}},
			differs:  []string{},
			requests: map[string]int{"GET manifest": 2, "GET blob": 1},
			labels:   oci("revision="+revC, "version=1.0.0", "vendor=acme"),
		},
		{
			name: "label, then annotation, then provenance", ref: "app:precedence",
			want: []platform{{"linux/amd64", "9.9.9", revA, "https://git.example.com/team/app", "2020-01-01T00:00:00Z", false,
				map[string]release.Origin{"version": mAnn, "revision": label, "source": prov, "created": iAnn}}},
			top: platform{"", "9.9.9", revA, "https://git.example.com/team/app", "2020-01-01T00:00:00Z", false,
				map[string]release.Origin{"version": mAnn, "revision": label, "source": prov, "created": iAnn}},
			differs:  []string{},
			requests: map[string]int{"GET manifest": 3, "GET blob": 2},
			labels:   oci("revision=" + revA),
		},
		{
			name: "dirty provenance", ref: "app:dirty",
			want: []platform{{"linux/amd64", "", revA, "", created, true,
				map[string]release.Origin{"revision": prov, "created": conf}}},
			top: platform{"", "", revA, "", created, false,
				map[string]release.Origin{"revision": prov, "created": conf}},
			differs:  []string{},
			requests: map[string]int{"GET manifest": 3, "GET blob": 2},
			labels:   map[string]string{},
		},
	}
	c := newImages(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg.Reset()
			info, err := release.Inspect(t.Context(), c, reg.Host+"/"+tt.ref, release.InspectOptions{Platform: tt.platform})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, platformsOf(info)); diff != "" {
				t.Errorf("platforms (-want +got):\n%s", diff)
			}
			top := platform{"", info.Version, info.Revision, info.Source, info.Created, false, info.From}
			if diff := cmp.Diff(tt.top, top); diff != "" {
				t.Errorf("top-level values (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.differs, info.Differs); diff != "" {
				t.Errorf("differs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.labels, info.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.requests, requests(reg)); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if strings.Contains(fmt.Sprintf("%+v", info), "secret") {
				t.Errorf("a password from a source URL reached the result: %+v", info)
			}
		})
	}
}

func TestInspectDescribesTheManifest(t *testing.T) {
	reg := registrytest.New(t)
	a := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Platform: "linux/amd64", Labels: oci("revision=" + revA)})
	b := registrytest.NewImage(registrytest.ImageSpec{Seed: 2, Platform: "linux/arm64", Labels: oci("revision=" + revA)})
	idx := registrytest.NewIndexOf(registrytest.IndexSpec{Images: []*registrytest.Image{a, b}, Annotations: map[string]string{"com.example.team": "payments"}})
	reg.PushIndex(t, "team/app", "1.0.0", idx)
	info, err := release.Inspect(t.Context(), newImages(t), reg.Host+"/team/app:1.0.0", release.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type top struct {
		Reference, Repository, Digest, MediaType string
		Annotations                              map[string]string
		Digests                                  []string
	}
	got := top{info.Reference, info.Repository, info.Digest, info.MediaType, info.Annotations, nil}
	for _, p := range info.Platforms {
		got.Digests = append(got.Digests, p.Digest)
	}
	want := top{reg.Host + "/team/app:1.0.0", reg.Host + "/team/app", idx.Digest, registrytest.MediaOCIIndex,
		map[string]string{"com.example.team": "payments"}, []string{a.Digest, b.Digest}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestInspectErrors(t *testing.T) {
	reg := registrytest.New(t)
	bare := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Labels: map[string]string{"maintainer": "ops"}})
	reg.PushImage(t, "app", "bare", bare)
	a := registrytest.NewImage(registrytest.ImageSpec{Seed: 2, Platform: "linux/amd64", Labels: oci("revision=" + revA)})
	b := registrytest.NewImage(registrytest.ImageSpec{Seed: 3, Platform: "linux/arm64"})
	reg.PushIndex(t, "app", "half", registrytest.NewIndexOf(registrytest.IndexSpec{Images: []*registrytest.Image{a, b}}))
	tests := []struct {
		name     string
		ref      string
		platform string
		want     error
		text     string
		info     bool // the info comes back with the error
	}{
		{name: "no revision anywhere", ref: "app:bare", want: release.ErrNoRevision, text: "app:bare has no org.opencontainers.image.revision", info: true},
		{name: "one platform without revision", ref: "app:half", want: release.ErrNoRevision, text: "linux/arm64 has no", info: true},
		{name: "the platform with it", ref: "app:half", platform: "linux/amd64"},
		{name: "unknown tag", ref: "app:nope", want: registry.ErrNotFound},
		{name: "unknown repository", ref: "other:1", want: registry.ErrNotFound},
		{name: "bad reference", ref: "App:1", want: registry.ErrInvalidReference},
		{name: "platform the index lacks", ref: "app:half", platform: "linux/s390x", want: release.ErrInvalid, text: "has no linux/s390x platform (it has linux/amd64, linux/arm64)"},
		{name: "platform the image is not", ref: "app:bare", platform: "linux/arm64", want: release.ErrInvalid, text: "the image is linux/amd64, not linux/arm64"},
	}
	c := newImages(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := release.Inspect(t.Context(), c, reg.Host+"/"+tt.ref, release.InspectOptions{Platform: tt.platform})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %q, want it to say %q", err, tt.text)
			}
			if (info != nil) != (tt.info || err == nil) {
				t.Errorf("info = %v, want it returned: %t", info, tt.info || err == nil)
			}
			if errors.Is(err, release.ErrNoRevision) && !strings.Contains(release.Hint(err), "release build") {
				t.Errorf("hint = %q, want it to name release build", release.Hint(err))
			}
		})
	}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
