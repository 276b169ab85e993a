package release_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
	"github.com/releasetool/release/release"
)

func TestVersionOfTag(t *testing.T) {
	tests := []struct {
		tag  string
		want string // "" = not a version
	}{
		{"1.2.3", "1.2.3"},
		{"v1.2.3", "1.2.3"},
		{"1.2.0-rc.1", "1.2.0-rc.1"},
		{"v2.0.0-beta.2", "2.0.0-beta.2"},
		{"1.2.0rc1", "1.2.0-rc.1"},
		{"1.2.0a3", "1.2.0-alpha.3"},
		{"1.2.0b2", "1.2.0-beta.2"},
		{"1.2.4.dev5", "1.2.4-dev.5"},
		{"0.1.0", "0.1.0"},
		{"1.2", ""},
		{"1", ""},
		{"latest", ""},
		{"sha-0123456789ab", ""},
		{"01.2.3", ""},
		{"1.2.3.4", ""},
		{"V1.2.3", ""},
		{"vv1.2.3", ""},
		{"1.2.0rc01", ""},
		{"1.2.0rc", ""},
		{"1.2.0c1", ""},
		{"1.2.0.dev", ""},
		{"rc", ""},
		{"2.1-rc", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			v, ok := release.VersionOfTag(tt.tag)
			got := ""
			if ok {
				got = v.String()
			}
			if got != tt.want {
				t.Errorf("VersionOfTag(%q) = %q, want %q", tt.tag, got, tt.want)
			}
		})
	}
}

// labeled is a small image with the version and revision labels
// (either may be empty to leave it out).
func labeled(seed uint64, version, revision string) *registrytest.Image {
	labels := map[string]string{}
	if version != "" {
		labels["org.opencontainers.image.version"] = version
	}
	if revision != "" {
		labels["org.opencontainers.image.revision"] = revision
	}
	return registrytest.NewImage(registrytest.ImageSpec{Seed: seed, Layers: 2, LayerSize: 300, Labels: labels})
}

// labeledIndex is a two-platform index of labeled images, each with a
// BuildKit provenance attestation, like a `docker buildx build --push
// --provenance` of two platforms.
func labeledIndex(seed uint64, version, revision string) *registrytest.Index {
	spec := registrytest.IndexSpec{Provenance: map[string][]byte{}}
	for i, p := range []string{"linux/amd64", "linux/arm64"} {
		img := registrytest.NewImage(registrytest.ImageSpec{
			Seed: seed*10 + uint64(i), Layers: 2, LayerSize: 300, Platform: p,
			Labels: oci("version="+version, "revision="+revision),
		})
		spec.Images = append(spec.Images, img)
		spec.Provenance[img.Digest] = provenanceV02(img.Digest, revision, "https://git.example.com/team/app")
	}
	return registrytest.NewIndexOf(spec)
}

// promote runs Promote with the warnings collected.
func promote(t *testing.T, c *registry.Client, opts release.PromoteOptions) (*release.PromoteResult, []string, error) {
	t.Helper()
	var warnings []string
	res, err := release.Promote(t.Context(), release.PromoteDeps{
		Registry: c,
		Warnf:    func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) },
	}, opts)
	return res, warnings, err
}

// actions renders result tags as "tag=action".
func actions(tags []release.TagAction) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.Tag + "=" + string(t.Action)
	}
	return out
}

// sameManifestIn checks that dst stores exactly the bytes src stores under
// digest.
func sameManifestIn(t *testing.T, src *registrytest.Server, srcRepo string, dst *registrytest.Server, dstRepo, digest string) {
	t.Helper()
	want, wantType, ok := src.Manifest(srcRepo, digest)
	if !ok {
		t.Fatalf("source lacks %s", digest)
	}
	got, gotType, ok := dst.Manifest(dstRepo, digest)
	if !ok {
		t.Errorf("destination lacks %s", digest)
		return
	}
	if string(got) != string(want) || gotType != wantType {
		t.Errorf("manifest %s differs at the destination (%s, want %s)", digest, gotType, wantType)
	}
}

func TestPromoteSingleImage(t *testing.T) {
	staging, prod := registrytest.New(t), registrytest.New(t, registrytest.WithReferrersAPI(false))
	img := labeled(1, "1.5.0", revA)
	staging.PushImage(t, "app", "1.5.0", img)
	sig := staging.PushSignature(t, "app", img.Digest, "sig", 7)
	c := newImages(t)
	opts := release.PromoteOptions{Source: staging.Host + "/app:1.5.0", Destination: prod.Host + "/app"}

	res, warnings, err := promote(t, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := &release.PromoteResult{
		Source: opts.Source, Digest: img.Digest, Destination: prod.Host + "/app", Version: "1.5.0",
		Tags: []release.TagAction{
			{Tag: "1.5.0", Action: "created"}, {Tag: "sha-aaaaaaa11111", Action: "created"},
			{Tag: "1.5", Action: "created"}, {Tag: "1", Action: "created"}, {Tag: "latest", Action: "created"},
		},
		// The image's config and two layers, the signature's config and payload.
		BlobsCopied: 5, BytesCopied: res.BytesCopied, Previous: []release.PreviousImage{},
		Revision: revA, MediaType: img.MediaType, Attachments: res.Attachments,
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
	for _, tag := range []string{"1.5.0", "sha-aaaaaaa11111", "1.5", "1", "latest"} {
		raw, _, ok := prod.Manifest("app", tag)
		if !ok || string(raw) != string(img.Manifest) {
			t.Errorf("prod app:%s does not name the image", tag)
		}
	}
	sameManifestIn(t, staging, "app", prod, "app", sig.Digest)
	if v := append(prod.Violations(), prod.CheckTags()...); len(v) > 0 {
		t.Errorf("incomplete tags: %v", v)
	}

	// A re-run writes nothing and costs at most two requests per tag at
	// the destination (the signature's tag included), auth apart.
	prod.Reset()
	res, _, err = promote(t, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range res.Tags {
		if a.Action != "unchanged" {
			t.Errorf("re-run: %s %s", a.Tag, a.Action)
		}
	}
	if res.BlobsCopied != 0 || res.BytesCopied != 0 {
		t.Errorf("re-run copied %d blobs, %d bytes", res.BlobsCopied, res.BytesCopied)
	}
	if n := prod.Count(func(r registrytest.Request) bool { return r.Write() }); n != 0 {
		t.Errorf("re-run made %d writes:\n%s", n, prod.Summary())
	}
	tags := len(res.Tags) + len(res.Attachments)
	if n := prod.Count(registrytest.NotAuth); n > 2*tags {
		t.Errorf("re-run made %d requests at the destination for %d tags:\n%s", n, tags, prod.Summary())
	}
}

func TestPromoteIndexWithAttestationsAndReferrers(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(fmt.Sprintf("referrers API %v", api), func(t *testing.T) {
			staging := registrytest.New(t, registrytest.WithReferrersAPI(api))
			prod := registrytest.New(t, registrytest.WithReferrersAPI(api))
			idx := labeledIndex(2, "2.0.0", revB)
			staging.PushIndex(t, "team/app", "2.0.0", idx)
			sig := staging.PushSignature(t, "team/app", idx.Digest, "sig", 1)
			sbom := staging.PushReferrer(t, "team/app", idx.Descriptor(), "application/spdx+json", 2)
			platformSig := staging.PushSignature(t, "team/app", idx.Images[0].Digest, "sig", 3)
			c := newImages(t)

			res, _, err := promote(t, c, release.PromoteOptions{
				Source: staging.Host + "/team/app:2.0.0", Destination: prod.Host + "/prod/app",
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Digest != idx.Digest || res.Version != "2.0.0" || res.Revision != revB {
				t.Errorf("digest %s version %s revision %s", res.Digest, res.Version, res.Revision)
			}
			// Every platform and attestation manifest, byte for byte.
			sameManifestIn(t, staging, "team/app", prod, "prod/app", idx.Digest)
			for _, im := range idx.Images {
				sameManifestIn(t, staging, "team/app", prod, "prod/app", im.Digest)
			}
			for _, a := range []*registrytest.Image{sig, sbom, platformSig} {
				sameManifestIn(t, staging, "team/app", prod, "prod/app", a.Digest)
			}
			got, err := c.Referrers(t.Context(), prod.Host+"/prod/app@"+idx.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Digest != sbom.Digest {
				t.Errorf("referrers at the destination: %+v, want the SBOM", got)
			}
			if v := append(prod.Violations(), prod.CheckTags()...); len(v) > 0 {
				t.Errorf("incomplete tags: %v", v)
			}

			prod.Reset()
			res, _, err = promote(t, c, release.PromoteOptions{
				Source: staging.Host + "/team/app:2.0.0", Destination: prod.Host + "/prod/app",
			})
			if err != nil {
				t.Fatal(err)
			}
			tags := len(res.Tags) + len(res.Attachments)
			if n := prod.Count(registrytest.NotAuth); n > 2*tags || prod.Count(func(r registrytest.Request) bool { return r.Write() }) > 0 {
				t.Errorf("re-run: %d requests for %d tags:\n%s", n, tags, prod.Summary())
			}
		})
	}
}

func TestPromoteFloatingTags(t *testing.T) {
	staging, prod := registrytest.New(t), registrytest.New(t)
	c := newImages(t)
	revs := map[string]string{
		"1.4.0":      "1400000000000000000000000000000000000000",
		"1.5.0":      "1500000000000000000000000000000000000000",
		"1.4.1":      "1410000000000000000000000000000000000000",
		"2.0.0-rc.1": "2000000000000000000000000000000000000000",
	}
	digests := map[string]string{}
	for i, v := range []string{"1.4.0", "1.5.0", "1.4.1", "2.0.0-rc.1"} {
		img := labeled(uint64(100+i), v, revs[v])
		staging.PushImage(t, "app", v, img)
		digests[v] = img.Digest
	}
	steps := []struct {
		version  string
		tags     []string
		previous []release.PreviousImage
	}{
		{
			version: "1.4.0",
			tags:    []string{"1.4.0=created", "sha-140000000000=created", "1.4=created", "1=created", "latest=created"},
		},
		{
			version: "1.5.0",
			tags:    []string{"1.5.0=created", "sha-150000000000=created", "1.5=created", "1=moved", "latest=moved"},
			previous: []release.PreviousImage{
				{Tags: []string{"1", "latest"}, Digest: digests["1.4.0"], Version: "1.4.0", Revision: revs["1.4.0"]},
			},
		},
		{
			version: "1.4.1",
			tags:    []string{"1.4.1=created", "sha-141000000000=created", "1.4=moved"},
			previous: []release.PreviousImage{
				{Tags: []string{"1.4"}, Digest: digests["1.4.0"], Version: "1.4.0", Revision: revs["1.4.0"]},
			},
		},
		{
			version: "2.0.0-rc.1",
			tags:    []string{"2.0.0-rc.1=created", "sha-200000000000=created"},
		},
	}
	for _, s := range steps {
		t.Run(s.version, func(t *testing.T) {
			res, _, err := promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:" + s.version, Destination: prod.Host + "/app"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s.tags, actions(res.Tags)); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if s.previous == nil {
				s.previous = []release.PreviousImage{}
			}
			if diff := cmp.Diff(s.previous, res.Previous); diff != "" {
				t.Errorf("previous (-want +got):\n%s", diff)
			}
		})
	}
	want := map[string]string{"1": "1.5.0", "latest": "1.5.0", "1.4": "1.4.1", "1.5": "1.5.0"}
	for tag, v := range want {
		raw, _, _ := prod.Manifest("app", tag)
		if got := digestOf(raw); got != digests[v] {
			t.Errorf("prod app:%s names %s, want %s's %s", tag, got, v, digests[v])
		}
	}
}

// TestPromoteWritesFloatingTagsLast: the exact tag is written after
// everything under it (blobs, the manifest by digest, attachments) and
// before the sha tag and the floating tags; when it cannot be written, no
// other tag moves.
func TestPromoteWritesFloatingTagsLast(t *testing.T) {
	const rev10, rev11 = "1000000000000000000000000000000000000000", "1100000000000000000000000000000000000000"
	v10, v11 := labeled(110, "1.0.0", rev10), labeled(111, "1.1.0", rev11)
	newStaging := func(t *testing.T) *registrytest.Server {
		staging := registrytest.New(t)
		staging.PushImage(t, "app", "1.0.0", v10)
		staging.PushImage(t, "app", "1.1.0", v11)
		staging.PushSignature(t, "app", v11.Digest, "sig", 1)
		return staging
	}
	// tagWrites are the manifest PUTs under a tag other than a cosign
	// one, in the order the registry got them.
	tagWrites := func(prod *registrytest.Server) []string {
		var out []string
		for _, r := range prod.Requests() {
			if r.Kind == registrytest.KindManifest && r.Method == "PUT" && !strings.Contains(r.Ref, ":") && !strings.HasPrefix(r.Ref, "sha256-") {
				out = append(out, r.Ref)
			}
		}
		return out
	}

	t.Run("order", func(t *testing.T) {
		staging, prod := newStaging(t), registrytest.New(t)
		c := newImages(t)
		if _, _, err := promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:1.0.0", Destination: prod.Host + "/app"}); err != nil {
			t.Fatal(err)
		}
		prod.Reset()
		res, _, err := promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:1.1.0", Destination: prod.Host + "/app"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"1.1.0=created", "sha-110000000000=created", "1.1=created", "1=moved", "latest=moved"}, actions(res.Tags)); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"1.1.0", "sha-110000000000", "1.1", "1", "latest"}, tagWrites(prod)); diff != "" {
			t.Errorf("tag writes in order (-want +got):\n%s\n%v", diff, prod.Requests())
		}
		// Everything else came before the exact tag.
		exact := false
		for _, r := range prod.Requests() {
			if r.Kind == registrytest.KindManifest && r.Method == "PUT" && r.Ref == "1.1.0" {
				exact = true
			} else if exact && r.Write() && !slices.Contains([]string{"sha-110000000000", "1.1", "1", "latest"}, r.Ref) {
				t.Errorf("%v after the exact tag", r)
			}
		}
		if v := append(prod.Violations(), prod.CheckTags()...); len(v) > 0 {
			t.Errorf("incomplete tags: %v", v)
		}
	})

	t.Run("exact tag refused", func(t *testing.T) {
		staging := newStaging(t)
		prod := registrytest.New(t, registrytest.WithFaults(registrytest.Faults{Rate: 1, Kinds: []string{"500"}, Only: func(r registrytest.Request) bool {
			return r.Kind == registrytest.KindManifest && r.Method == "PUT" && r.Ref == "1.1.0"
		}}))
		c := newImages(t, registry.WithRetry(registry.RetryPolicy{Attempts: 3, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}))
		if _, _, err := promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:1.0.0", Destination: prod.Host + "/app"}); err != nil {
			t.Fatal(err)
		}
		// What the image tags name (attachments, written before the
		// exact tag, may arrive).
		imageTags := func() map[string]string {
			out := map[string]string{}
			for _, tag := range prod.Tags("app") {
				if !strings.HasPrefix(tag, "sha256-") {
					raw, _, _ := prod.Manifest("app", tag)
					out[tag] = digestOf(raw)
				}
			}
			return out
		}
		before := imageTags()
		prod.Reset()
		_, _, err := promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:1.1.0", Destination: prod.Host + "/app"})
		if err == nil || !strings.Contains(err.Error(), "1.1.0") {
			t.Fatalf("err = %v, want the exact tag's write to fail", err)
		}
		if diff := cmp.Diff([]string{"1.1.0", "1.1.0", "1.1.0"}, tagWrites(prod)); diff != "" {
			t.Errorf("tag writes (-want +got): the exact tag, tried 3 times, and nothing else\n%s", diff)
		}
		if diff := cmp.Diff(before, imageTags()); diff != "" {
			t.Errorf("tags at the destination moved (-before +after):\n%s", diff)
		}
	})
}

func TestPromoteRefusals(t *testing.T) {
	staging, prod := registrytest.New(t), registrytest.New(t)
	c := newImages(t)
	released := labeled(1, "1.0.0", revA)
	rebuilt := labeled(2, "1.0.0", revB)
	unlabeled := labeled(3, "1.1.0", "")
	staging.PushImage(t, "app", "1.0.0", rebuilt)
	staging.PushImage(t, "app", "1.1.0", unlabeled)
	prod.PushImage(t, "app", "1.0.0", released)

	t.Run("exact tag holds other bytes", func(t *testing.T) {
		prod.Reset()
		_, _, err := promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:1.0.0", Destination: prod.Host + "/app"})
		if !errors.Is(err, release.ErrConflict) {
			t.Fatalf("err = %v, want a conflict", err)
		}
		if !strings.Contains(err.Error(), released.Digest) || release.Hint(err) == "" {
			t.Errorf("error %q (hint %q) does not name the digest the tag holds, or has no hint", err, release.Hint(err))
		}
		if n := prod.Count(func(r registrytest.Request) bool { return r.Write() }); n != 0 {
			t.Errorf("%d writes at the destination:\n%s", n, prod.Summary())
		}
		if got := prod.Tags("app"); !slices.Equal(got, []string{"1.0.0"}) {
			t.Errorf("destination tags %v", got)
		}
	})
	t.Run("dry run reports the conflict too", func(t *testing.T) {
		_, _, err := promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:1.0.0", Destination: prod.Host + "/app", DryRun: true})
		if !errors.Is(err, release.ErrConflict) {
			t.Fatalf("err = %v, want a conflict", err)
		}
	})
	t.Run("unlabeled", func(t *testing.T) {
		prod.Reset()
		_, _, err := promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:1.1.0", Destination: prod.Host + "/app"})
		if !errors.Is(err, release.ErrNoRevision) || !strings.Contains(release.Hint(err), "--allow-unlabeled") {
			t.Fatalf("err = %v (hint %q), want no revision with the --allow-unlabeled hint", err, release.Hint(err))
		}
		if n := prod.Count(func(r registrytest.Request) bool { return r.Write() }); n != 0 {
			t.Errorf("%d writes at the destination", n)
		}
	})
	t.Run("unlabeled allowed", func(t *testing.T) {
		res, warnings, err := promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:1.1.0", Destination: prod.Host + "/app", AllowUnlabeled: true})
		if err != nil {
			t.Fatal(err)
		}
		// No sha tag without a revision; 1.1 and 1 and latest: 1.1.0 is
		// above the 1.0.0 prod has.
		if diff := cmp.Diff([]string{"1.1.0=created", "1.1=created", "1=created", "latest=created"}, actions(res.Tags)); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, "no revision") }) {
			t.Errorf("warnings %q do not say the image has no revision", warnings)
		}
	})
	t.Run("force moves the exact tag", func(t *testing.T) {
		res, _, err := promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:1.0.0", Destination: prod.Host + "/prod-forced", Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Tags[0].Action != "created" {
			t.Errorf("exact tag %s", res.Tags[0].Action)
		}
		prod.PushImage(t, "forced", "1.0.0", released)
		res, _, err = promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:1.0.0", Destination: prod.Host + "/forced", Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Tags[0] != (release.TagAction{Tag: "1.0.0", Action: "moved"}) {
			t.Errorf("exact tag %+v, want moved", res.Tags[0])
		}
		if len(res.Previous) != 1 || res.Previous[0].Digest != released.Digest || res.Previous[0].Revision != revA {
			t.Errorf("previous %+v, want the released image", res.Previous)
		}
	})
}

func TestPromoteVersion(t *testing.T) {
	staging, prod := registrytest.New(t), registrytest.New(t)
	c := newImages(t)
	img := labeled(1, "3.2.1", revA)
	staging.PushImage(t, "app", "sha-aaaaaaa11111", img)
	staging.PushImage(t, "app", "v3.2.1", img)
	staging.PushImage(t, "app", "3.2.2", img) // a tag that contradicts the label
	nolabel := labeled(2, "", revA)
	staging.PushImage(t, "app", "candidate", nolabel)
	amd := registrytest.NewImage(registrytest.ImageSpec{Seed: 3, Platform: "linux/amd64", Labels: oci("version=1.0.0", "revision="+revA)})
	arm := registrytest.NewImage(registrytest.ImageSpec{Seed: 4, Platform: "linux/arm64", Labels: oci("version=1.0.1", "revision="+revA)})
	mixed := registrytest.NewIndexOf(registrytest.IndexSpec{Images: []*registrytest.Image{amd, arm}})
	staging.PushIndex(t, "app", "mixed", mixed)
	twoCommits := registrytest.NewIndexOf(registrytest.IndexSpec{Images: []*registrytest.Image{
		registrytest.NewImage(registrytest.ImageSpec{Seed: 5, Platform: "linux/amd64", Labels: oci("version=4.0.0", "revision="+revA)}),
		registrytest.NewImage(registrytest.ImageSpec{Seed: 6, Platform: "linux/arm64", Labels: oci("version=4.0.0", "revision="+revC)}),
	}})
	staging.PushIndex(t, "app", "two-commits", twoCommits)

	tests := []struct {
		name, src, dst string
		opts           release.PromoteOptions
		version        string
		tags           string
		warn           string
		err            error
		errText        string
	}{
		{name: "label when the tag is no version", src: "app:sha-aaaaaaa11111", dst: "a", version: "3.2.1", tags: "3.2.1 sha-aaaaaaa11111 3.2 3 latest"},
		{name: "label when the source is a digest", src: "app@" + img.Digest, dst: "b", version: "3.2.1", tags: "3.2.1 sha-aaaaaaa11111 3.2 3 latest"},
		{name: "v-prefixed source tag", src: "app:v3.2.1", dst: "c", version: "3.2.1", tags: "3.2.1 sha-aaaaaaa11111 3.2 3 latest"},
		{name: "the tag wins over the label, with a warning", src: "app:3.2.2", dst: "d", version: "3.2.2", tags: "3.2.2 sha-aaaaaaa11111 3.2 3 latest", warn: "label says 3.2.1"},
		{name: "no version anywhere", src: "app:candidate", dst: "e", err: release.ErrInvalid, errText: "no version"},
		{name: "no version, destination tag named", src: "app:candidate", dst: "e:candidate-7", tags: "candidate-7"},
		{name: "destination tag other than the version: alone", src: "app:v3.2.1", dst: "f:stable-3", version: "3.2.1", tags: "stable-3"},
		{name: "destination tag equal to the version: the policy", src: "app:v3.2.1", dst: "g:3.2.1", version: "3.2.1", tags: "3.2.1 sha-aaaaaaa11111 3.2 3 latest"},
		{name: "platforms disagree on the version", src: "app:mixed", dst: "h", err: release.ErrInvalid, errText: "linux/amd64 1.0.0, linux/arm64 1.0.1"},
		{name: "platforms disagree: a destination tag does not settle it", src: "app:mixed@" + mixed.Digest, dst: "h:1.0.1", version: "", err: release.ErrInvalid, errText: "disagree"},
		{name: "platforms from two commits: no sha tag", src: "app:two-commits", dst: "i", version: "4.0.0", tags: "4.0.0 4.0 4 latest", warn: "different commits"},
		{name: "no sha tag asked", src: "app:v3.2.1", dst: "j", opts: release.PromoteOptions{Tags: release.TagOptions{NoSHATag: true, Latest: release.LatestNever}}, version: "3.2.1", tags: "3.2.1 3.2 3"},
		{name: "pep440 spelling", src: "app:v3.2.1", dst: "k", opts: release.PromoteOptions{Tags: release.TagOptions{Style: release.TagStylePEP440}}, version: "3.2.1", tags: "3.2.1 sha-aaaaaaa11111 3.2 3 latest"},
		{name: "destination digest", src: "app:v3.2.1", dst: "l@" + img.Digest, err: release.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Source, opts.Destination = staging.Host+"/"+tt.src, prod.Host+"/"+tt.dst
			res, warnings, err := promote(t, c, opts)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want %v containing %q", err, tt.err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Version != tt.version {
				t.Errorf("version %q, want %q", res.Version, tt.version)
			}
			var names []string
			for _, a := range res.Tags {
				names = append(names, a.Tag)
			}
			if diff := cmp.Diff(tt.tags, strings.Join(names, " ")); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if tt.warn != "" && !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, tt.warn) }) {
				t.Errorf("warnings %q, want one containing %q", warnings, tt.warn)
			}
		})
	}
}

func TestPromoteK(t *testing.T) {
	// K is the destination's own version tags: v-prefixed and PEP 440
	// spellings count, floating and foreign tags do not.
	staging, prod := registrytest.New(t), registrytest.New(t)
	c := newImages(t)
	old := labeled(1, "", "")
	for _, tag := range []string{"v1.9.0", "2.0.0rc1", "1.8", "stable", "sha-0123456789ab"} {
		prod.PushImage(t, "app", tag, old)
	}
	tests := []struct {
		version string
		opts    release.TagOptions
		want    string
	}{
		{"1.8.5", release.TagOptions{}, "1.8.5 1.8"},
		{"1.9.1", release.TagOptions{}, "1.9.1 1.9 1 latest"},
		{"2.0.0-rc.0", release.TagOptions{ChannelTags: true}, "2.0.0-rc.0"},
		{"2.0.0-rc.2", release.TagOptions{ChannelTags: true}, "2.0.0-rc.2 2.0-rc rc"},
	}
	for i, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			img := labeled(uint64(10+i), tt.version, revA)
			staging.PushImage(t, "app", tt.version, img)
			tt.opts.NoSHATag = true
			res, _, err := promote(t, c, release.PromoteOptions{
				Source: staging.Host + "/app:" + tt.version, Destination: prod.Host + "/app", Tags: tt.opts, DryRun: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, a := range res.Tags {
				names = append(names, a.Tag)
			}
			if got := strings.Join(names, " "); got != tt.want {
				t.Errorf("tags %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPromoteRerunBringsNewAttachments: a re-run that finds every tag in
// place still brings the signatures and referrers added at the source
// since, and only those; with nothing new it copies nothing.
func TestPromoteRerunBringsNewAttachments(t *testing.T) {
	staging, prod := registrytest.New(t), registrytest.New(t, registrytest.WithReferrersAPI(false))
	img := labeled(1, "1.5.0", revA)
	staging.PushImage(t, "app", "1.5.0", img)
	sig := staging.PushSignature(t, "app", img.Digest, "sig", 7)
	c := newImages(t)
	opts := release.PromoteOptions{Source: staging.Host + "/app:1.5.0", Destination: prod.Host + "/app"}
	if _, _, err := promote(t, c, opts); err != nil {
		t.Fatal(err)
	}

	att := staging.PushSignature(t, "app", img.Digest, "att", 8)
	sbom := staging.PushReferrer(t, "app", img.Descriptor(), "application/spdx+json", 9)
	prod.Reset()
	res, _, err := promote(t, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]registry.Action{}
	for _, a := range res.Attachments {
		got[a.Kind+" "+a.Digest] = a.Action
	}
	want := map[string]registry.Action{
		"sig " + sig.Digest:       registry.ActionUnchanged,
		"att " + att.Digest:       registry.ActionCreated,
		"referrer " + sbom.Digest: registry.ActionCreated,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attachments (-want +got):\n%s", diff)
	}
	for _, a := range res.Tags {
		if a.Action != registry.ActionUnchanged {
			t.Errorf("re-run: %s %s", a.Tag, a.Action)
		}
	}
	sameManifestIn(t, staging, "app", prod, "app", att.Digest)
	sameManifestIn(t, staging, "app", prod, "app", sbom.Digest)

	prod.Reset()
	res, _, err = promote(t, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := prod.Count(func(r registrytest.Request) bool { return r.Write() }); n != 0 {
		t.Errorf("third run made %d writes:\n%s", n, prod.Summary())
	}
	for _, a := range res.Attachments {
		if a.Action != registry.ActionUnchanged {
			t.Errorf("third run: attachment %s %s", a.Kind, a.Action)
		}
	}
}

func TestPromoteDryRun(t *testing.T) {
	staging, prod := registrytest.New(t), registrytest.New(t)
	c := newImages(t)
	old := labeled(1, "1.0.0", revA)
	staging.PushImage(t, "app", "1.0.0", old)
	if _, _, err := promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:1.0.0", Destination: prod.Host + "/app"}); err != nil {
		t.Fatal(err)
	}
	img := labeled(2, "1.1.0", revB)
	staging.PushImage(t, "app", "1.1.0", img)
	staging.PushSignature(t, "app", img.Digest, "sig", 1)
	prod.Reset()
	res, _, err := promote(t, c, release.PromoteOptions{Source: staging.Host + "/app:1.1.0", Destination: prod.Host + "/app", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := prod.Count(func(r registrytest.Request) bool { return r.Write() }); n != 0 {
		t.Errorf("dry run made %d writes:\n%s", n, prod.Summary())
	}
	if diff := cmp.Diff([]string{"1.1.0=created", "sha-aaaaaaa22222=created", "1.1=created", "1=moved", "latest=moved"}, actions(res.Tags)); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if !res.DryRun || res.BlobsCopied != 5 || res.BytesCopied == 0 || len(res.Attachments) != 1 {
		t.Errorf("dry run %v, %d blobs (%d bytes) to copy, attachments %+v", res.DryRun, res.BlobsCopied, res.BytesCopied, res.Attachments)
	}
	want := []release.PreviousImage{{Tags: []string{"1", "latest"}, Digest: old.Digest, Version: "1.0.0", Revision: revA}}
	if diff := cmp.Diff(want, res.Previous); diff != "" {
		t.Errorf("previous (-want +got):\n%s", diff)
	}
	if got := prod.Tags("app"); len(got) != 5 {
		t.Errorf("destination tags changed: %v", got)
	}
}

func TestPromoteInsideOneRegistryMounts(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithTokenAuth("ci", "secret"))
	idx := labeledIndex(3, "1.0.0", revA)
	reg.PushIndex(t, "staging/app", "1.0.0", idx)
	c := newImages(t, registry.WithKeychain(registry.DockerConfigKeychain(dockerConfigFor(t, reg.Host, "ci", "secret"))))
	res, _, err := promote(t, c, release.PromoteOptions{Source: reg.Host + "/staging/app:1.0.0", Destination: reg.Host + "/prod/app"})
	if err != nil {
		t.Fatal(err)
	}
	if up := reg.Uploads(); len(up) != 0 {
		t.Errorf("%d blobs uploaded inside one registry, want mounts only", len(up))
	}
	if res.BlobsMounted == 0 || res.BlobsMounted != res.BlobsCopied || res.BytesCopied != 0 {
		t.Errorf("copied %d (mounted %d, %d bytes)", res.BlobsCopied, res.BlobsMounted, res.BytesCopied)
	}
	for _, im := range idx.Images {
		sameManifestIn(t, reg, "staging/app", reg, "prod/app", im.Digest)
	}
	if v := append(reg.Violations(), reg.CheckTags()...); len(v) > 0 {
		t.Errorf("incomplete tags: %v", v)
	}
}

func TestPromoteCancelledThenRerun(t *testing.T) {
	idx := labeledIndex(4, "1.2.0", revA)
	staging := registrytest.New(t)
	staging.PushIndex(t, "app", "1.2.0", idx)
	staging.PushSignature(t, "app", idx.Digest, "sig", 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var uploads atomic.Int32
	var cancelled atomic.Bool
	prod := registrytest.New(t,
		registrytest.WithHook(func(r registrytest.Request) {
			if r.Upload() && r.UserAgent == "first" && uploads.Add(1) == 3 {
				cancelled.Store(true)
				cancel()
			}
		}),
		registrytest.WithFaults(registrytest.Faults{Rate: 1, Kinds: []string{"500"}, Only: func(r registrytest.Request) bool {
			return cancelled.Load() && r.UserAgent == "first"
		}}),
	)
	opts := release.PromoteOptions{Source: staging.Host + "/app:1.2.0", Destination: prod.Host + "/app"}
	_, err := release.Promote(ctx, release.PromoteDeps{Registry: newImages(t, registry.WithUserAgent("first"), registry.WithJobs(1))}, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: err = %v, want cancelled", err)
	}
	prod.WaitIdle()
	if v := append(prod.Violations(), prod.CheckTags()...); len(v) > 0 {
		t.Fatalf("the cancelled run left tags on incomplete images: %v", v)
	}
	var arrived []string
	for _, r := range prod.Requests() {
		if r.Upload() && r.UserAgent == "first" {
			arrived = append(arrived, r.Ref)
		}
	}
	res, _, err := promote(t, newImages(t, registry.WithUserAgent("second")), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range prod.Requests() {
		if r.Upload() && r.UserAgent == "second" && slices.Contains(arrived, r.Ref) {
			t.Errorf("blob %s uploaded again", r.Ref)
		}
	}
	if res.BlobsSkipped < len(arrived) {
		t.Errorf("skipped %d blobs, but %d had arrived", res.BlobsSkipped, len(arrived))
	}
	sameManifestIn(t, staging, "app", prod, "app", idx.Digest)
	if v := append(prod.Violations(), prod.CheckTags()...); len(v) > 0 {
		t.Errorf("incomplete tags: %v", v)
	}
}

func TestRetag(t *testing.T) {
	reg := registrytest.New(t)
	c := newImages(t)
	v1 := labeled(1, "1.0.0", revA)
	v2 := labeled(2, "1.1.0", revB)
	reg.PushImage(t, "app", "1.0.0", v1)
	reg.PushImage(t, "app", "1.1.0", v2)
	reg.PushImage(t, "app", "latest", v2)
	retag := func(opts release.RetagOptions) (*release.RetagResult, error) {
		return release.Retag(t.Context(), release.PromoteDeps{Registry: c}, opts)
	}

	// Rollback: latest moves back to 1.0.0, and says what it named.
	reg.Reset()
	res, err := retag(release.RetagOptions{Image: reg.Host + "/app:1.0.0", Tags: []string{"latest", "stable", "1.0.0"}})
	if err != nil {
		t.Fatal(err)
	}
	want := &release.RetagResult{
		Image: reg.Host + "/app:1.0.0", Digest: v1.Digest, Repository: reg.Host + "/app", Version: "1.0.0", Revision: revA,
		Tags:     []release.TagAction{{Tag: "latest", Action: "moved"}, {Tag: "stable", Action: "created"}, {Tag: "1.0.0", Action: "unchanged"}},
		Previous: []release.PreviousImage{{Tags: []string{"latest"}, Digest: v2.Digest, Version: "1.1.0", Revision: revB}},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if n := reg.Count(func(r registrytest.Request) bool { return r.Write() && r.Kind != registrytest.KindManifest }); n != 0 {
		t.Errorf("retag wrote %d non-manifest requests:\n%s", n, reg.Summary())
	}
	for _, tag := range []string{"latest", "stable"} {
		if raw, _, _ := reg.Manifest("app", tag); string(raw) != string(v1.Manifest) {
			t.Errorf("app:%s does not name 1.0.0", tag)
		}
	}

	// A version tag is immutable.
	reg.Reset()
	_, err = retag(release.RetagOptions{Image: reg.Host + "/app@" + v2.Digest, Tags: []string{"1.0.0", "latest"}})
	if !errors.Is(err, release.ErrConflict) {
		t.Fatalf("err = %v, want a conflict", err)
	}
	if n := reg.Count(func(r registrytest.Request) bool { return r.Write() }); n != 0 {
		t.Errorf("%d writes after a conflict", n)
	}
	res, err = retag(release.RetagOptions{Image: reg.Host + "/app@" + v2.Digest, Tags: []string{"1.0.0"}, Force: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.0.0=moved"}, actions(res.Tags)); diff != "" || !res.DryRun {
		t.Errorf("forced dry run (-want +got):\n%s", diff)
	}
	if raw, _, _ := reg.Manifest("app", "1.0.0"); string(raw) != string(v1.Manifest) {
		t.Error("the dry run moved 1.0.0")
	}

	// Re-running writes nothing and costs the image's manifest and config
	// (read for the report) and one HEAD per tag: at most two requests
	// per tag from two tags on (a rollback of latest alone costs three).
	reg.Reset()
	tags := []string{"latest", "stable"}
	res, err = retag(release.RetagOptions{Image: reg.Host + "/app:1.0.0", Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"latest=unchanged", "stable=unchanged"}, actions(res.Tags)); diff != "" {
		t.Errorf("re-run (-want +got):\n%s", diff)
	}
	if n := reg.Count(registrytest.NotAuth); n > 2*len(tags) || n != 2+len(tags) {
		t.Errorf("re-run: %d requests for %d tags, want the manifest, the config and a HEAD per tag:\n%s", n, len(tags), reg.Summary())
	}
	if n := reg.Count(func(r registrytest.Request) bool { return r.Write() }); n != 0 {
		t.Errorf("re-run: %d writes:\n%s", n, reg.Summary())
	}

	for _, bad := range [][]string{nil, {"app:latest"}, {"-x"}} {
		if _, err := retag(release.RetagOptions{Image: reg.Host + "/app:1.0.0", Tags: bad}); !errors.Is(err, release.ErrInvalid) {
			t.Errorf("tags %q: err = %v, want invalid", bad, err)
		}
	}
}

// dockerConfigFor writes a DOCKER_CONFIG directory with Basic credentials
// for host and returns it.
func dockerConfigFor(t *testing.T, host, user, password string) string {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
