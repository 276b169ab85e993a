package registry_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

// sleeps records the waits a client asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

// newClient is a client whose retries never really sleep.
func newClient(t *testing.T, opts ...registry.Option) *registry.Client {
	t.Helper()
	s := &sleeps{}
	opts = append([]registry.Option{registry.WithRetry(registry.RetryPolicy{Sleep: s.sleep})}, opts...)
	c, err := registry.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sameManifest checks that dst holds exactly src's bytes and media type
// under ref.
func sameManifest(t *testing.T, src, dst *registrytest.Server, srcRepo, dstRepo, ref string) {
	t.Helper()
	a, at, ok := src.Manifest(srcRepo, ref)
	if !ok {
		t.Fatalf("source has no %s:%s", srcRepo, ref)
	}
	b, bt, ok := dst.Manifest(dstRepo, ref)
	if !ok {
		t.Fatalf("destination has no %s:%s", dstRepo, ref)
	}
	if !bytes.Equal(a, b) || at != bt {
		t.Errorf("%s: destination manifest differs (type %s vs %s):\n%s\n%s", ref, at, bt, a, b)
	}
}

func TestCopyBetweenRegistries(t *testing.T) {
	idx := registrytest.NewIndex(7, []string{"linux/amd64", "linux/arm64"}, 3, 512, true)
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 3, Layers: 2, LayerSize: 1000, Docker: true})
	tests := []struct {
		name      string
		push      func(t *testing.T, s *registrytest.Server)
		digest    string
		manifests []string // digests that must arrive byte for byte
		blobs     int
	}{
		{
			name:      "single Docker v2 image",
			push:      func(t *testing.T, s *registrytest.Server) { s.PushImage(t, "app", "1.0.0", img) },
			digest:    img.Digest,
			manifests: []string{img.Digest},
			blobs:     3,
		},
		{
			name:   "index with attestations",
			push:   func(t *testing.T, s *registrytest.Server) { s.PushIndex(t, "app", "1.0.0", idx) },
			digest: idx.Digest,
			manifests: []string{idx.Digest, idx.Images[0].Digest, idx.Images[1].Digest,
				idx.Images[2].Digest, idx.Images[3].Digest},
			blobs: 2*4 + 2*2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := registrytest.New(t), registrytest.New(t)
			tt.push(t, src)
			c := newClient(t)
			res, err := c.Copy(t.Context(), src.Host+"/app:1.0.0", dst.Host+"/prod/app", registry.CopyOptions{Tags: []string{"1.0", "latest"}})
			if err != nil {
				t.Fatal(err)
			}
			want := []registry.TagResult{
				{Tag: "1.0.0", Action: registry.ActionCreated},
				{Tag: "1.0", Action: registry.ActionCreated},
				{Tag: "latest", Action: registry.ActionCreated},
			}
			if diff := cmp.Diff(want, res.Tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if res.Digest != tt.digest || res.BlobsCopied != tt.blobs || res.BlobsSkipped != 0 || res.BlobsMounted != 0 {
				t.Errorf("result = %+v, want digest %s and %d blobs copied", res, tt.digest, tt.blobs)
			}
			for _, d := range tt.manifests {
				sameManifest(t, src, dst, "app", "prod/app", d)
			}
			for _, tag := range []string{"1.0.0", "1.0", "latest"} {
				raw, _, _ := dst.Manifest("prod/app", tag)
				if got := digestOf(raw); got != tt.digest {
					t.Errorf("tag %s names %s, want %s", tag, got, tt.digest)
				}
			}
			if v := append(dst.Violations(), dst.CheckTags()...); len(v) > 0 {
				t.Errorf("incomplete tags: %v", v)
			}
		})
	}
}

func TestCopyRerunIsCheap(t *testing.T) {
	idx := registrytest.NewIndex(11, []string{"linux/amd64", "linux/arm64"}, 3, 256, true)
	src, dst := registrytest.New(t), registrytest.New(t)
	src.PushIndex(t, "app", "1.2.3", idx)
	src.PushSignature(t, "app", idx.Digest, "sig", 1)
	src.PushReferrer(t, "app", idx.Descriptor(), "application/vnd.example.sbom", 2)
	tags := []string{"1.2", "1", "latest"}
	srcRef := src.Host + "/app:1.2.3@" + idx.Digest

	if _, err := newClient(t).Copy(t.Context(), srcRef, dst.Host+"/app", registry.CopyOptions{Tags: tags}); err != nil {
		t.Fatal(err)
	}
	dst.Reset()
	src.Reset()
	// A fresh client, as a second pipeline run would be.
	res, err := newClient(t).Copy(t.Context(), srcRef, dst.Host+"/app", registry.CopyOptions{Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("re-run at the destination:\n%s", dst.Summary())
	if res.BlobsCopied+res.BlobsMounted+res.BlobsSkipped != 0 || res.ManifestsWritten != 0 {
		t.Errorf("re-run copied something: %+v", res)
	}
	for _, tr := range res.Tags {
		if tr.Action != registry.ActionUnchanged {
			t.Errorf("tag %s: %s, want unchanged", tr.Tag, tr.Action)
		}
	}
	for _, a := range res.Attachments {
		if a.Action != registry.ActionUnchanged {
			t.Errorf("attachment %s %s: %s, want unchanged", a.Kind, a.Digest, a.Action)
		}
	}
	if got := dst.Count(registrytest.Request.Write); got != 0 {
		t.Errorf("re-run wrote %d times:\n%s", got, dst.Summary())
	}
	// Tags at the destination: 1.2.3, three floating, the .sig tag, the
	// referrers (API) listing.
	nTags := 1 + len(tags) + 2
	if got := dst.Count(registrytest.NotAuth); got > 2*nTags {
		t.Errorf("re-run made %d requests at the destination, want ≤ %d:\n%s", got, 2*nTags, dst.Summary())
	}
	// (The referrers fallback tag, sha256-<hex>, may be read while the
	// host's referrers support is unknown: not the image's manifest.)
	if got := src.Count(registrytest.NotAuth, func(r registrytest.Request) bool {
		return r.Kind == registrytest.KindManifest && r.Method == "GET" && !strings.HasPrefix(r.Ref, "sha256-")
	}); got != 0 {
		t.Errorf("re-run read %d manifests at the source although the digest was given:\n%s", got, src.Summary())
	}
}

func TestCopyNoOpWithoutAttachmentsIsOneRequestPerTag(t *testing.T) {
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 5, Layers: 2, LayerSize: 100})
	src, dst := registrytest.New(t), registrytest.New(t)
	src.PushImage(t, "app", "2.0.0", img)
	dst.PushImage(t, "app", "2.0.0", img)
	dst.PushImage(t, "app", "2.0", img)
	dst.Reset()
	res, err := newClient(t).Copy(t.Context(), src.Host+"/app@"+img.Digest, dst.Host+"/app:2.0.0",
		registry.CopyOptions{Tags: []string{"2.0"}, NoAttachments: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := dst.Count(registrytest.NotAuth); got != 2 {
		t.Errorf("no-op made %d requests at the destination, want 2 (one HEAD per tag):\n%s", got, dst.Summary())
	}
	if got := src.Count(); got != 0 {
		t.Errorf("no-op made %d requests at the source (ping included), want 0:\n%s", got, src.Summary())
	}
	if res.Tags[0].Action != registry.ActionUnchanged || res.Tags[1].Action != registry.ActionUnchanged {
		t.Errorf("tags = %+v", res.Tags)
	}
}

// TestCopyTakesKnownTagsAsTheyAre: tags the caller has just read
// (CopyOptions.Known) are not read again; the others are.
func TestCopyTakesKnownTagsAsTheyAre(t *testing.T) {
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 5, Layers: 2, LayerSize: 100})
	old := registrytest.NewImage(registrytest.ImageSpec{Seed: 6, Layers: 1, LayerSize: 100})
	src, dst := registrytest.New(t), registrytest.New(t)
	src.PushImage(t, "app", "2.0.0", img)
	dst.PushImage(t, "app", "2.0.0", img)
	dst.PushImage(t, "app", "2", old)
	dst.Reset()
	known := map[string]registry.Descriptor{
		"2.0.0": {Digest: img.Digest, MediaType: img.MediaType, Size: int64(len(img.Manifest))},
		"2":     {Digest: old.Digest, MediaType: old.MediaType, Size: int64(len(old.Manifest))},
		"2.0":   {},
	}
	res, err := newClient(t).Copy(t.Context(), src.Host+"/app@"+img.Digest, dst.Host+"/app:2.0.0",
		registry.CopyOptions{Tags: []string{"2.0", "2", "latest"}, NoAttachments: true, Known: known})
	if err != nil {
		t.Fatal(err)
	}
	want := []registry.TagResult{
		{Tag: "2.0.0", Action: registry.ActionUnchanged},
		{Tag: "2.0", Action: registry.ActionCreated},
		{Tag: "2", Action: registry.ActionMoved, Previous: old.Digest},
		{Tag: "latest", Action: registry.ActionCreated},
	}
	if diff := cmp.Diff(want, res.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	var heads []string
	for _, r := range dst.Requests() {
		if r.Method == http.MethodHead {
			heads = append(heads, r.Ref)
		}
	}
	if diff := cmp.Diff([]string{"latest"}, heads); diff != "" {
		t.Errorf("tags read at the destination (-want +got):\n%s", diff)
	}
	for _, tag := range []string{"2.0", "2", "latest"} {
		if raw, _, ok := dst.Manifest("app", tag); !ok || string(raw) != string(img.Manifest) {
			t.Errorf("app:%s does not name the image", tag)
		}
	}
}

func TestCopyInsideOneRegistryMounts(t *testing.T) {
	idx := registrytest.NewIndex(13, []string{"linux/amd64", "linux/arm64"}, 4, 300, true)
	reg := registrytest.New(t, registrytest.WithTokenAuth("ci", "s3cret"))
	reg.PushIndex(t, "staging/app", "1.0.0", idx)
	keychain := registry.DockerConfigKeychain(dockerConfig(t, reg.Host, "ci", "s3cret"))
	res, err := newClient(t, registry.WithKeychain(keychain)).Copy(t.Context(), reg.Host+"/staging/app:1.0.0", reg.Host+"/prod/app", registry.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blobs := 2*5 + 2*2
	if res.BlobsMounted != blobs || res.BlobsCopied != 0 || res.BytesCopied != 0 {
		t.Errorf("result = %+v, want %d blobs mounted and none copied", res, blobs)
	}
	if got := reg.Uploads(); len(got) != 0 {
		t.Errorf("uploads = %v, want none", got)
	}
	mounts := reg.Count(func(r registrytest.Request) bool { return r.From == "staging/app" && r.Status == 201 })
	if mounts != blobs {
		t.Errorf("%d mounts answered 201, want %d:\n%s", mounts, blobs, reg.Summary())
	}
	if got := reg.Count(func(r registrytest.Request) bool { return r.Kind == registrytest.KindToken }); got != 1 {
		t.Errorf("%d token requests, want 1 (one token for both repositories)", got)
	}
	sameManifest(t, reg, reg, "staging/app", "prod/app", idx.Digest)
	if v := append(reg.Violations(), reg.CheckTags()...); len(v) > 0 {
		t.Errorf("incomplete tags: %v", v)
	}
}

func TestCopyTagConflict(t *testing.T) {
	a := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	b := registrytest.NewImage(registrytest.ImageSpec{Seed: 2, Layers: 1, LayerSize: 10})
	src, dst := registrytest.New(t), registrytest.New(t)
	src.PushImage(t, "app", "1.0.0", a)
	dst.PushImage(t, "app", "1.0.0", b)
	dst.Reset()

	c := newClient(t)
	_, err := c.Copy(t.Context(), src.Host+"/app:1.0.0", dst.Host+"/app", registry.CopyOptions{Tags: []string{"latest"}})
	var conflict *registry.TagConflictError
	if !errors.Is(err, registry.ErrTagConflict) || !errors.As(err, &conflict) {
		t.Fatalf("err = %v, want a tag conflict", err)
	}
	want := &registry.TagConflictError{Repository: dst.Host + "/app", Tag: "1.0.0", Have: b.Digest, Want: a.Digest}
	if diff := cmp.Diff(want, conflict); diff != "" {
		t.Errorf("conflict (-want +got):\n%s", diff)
	}
	if got := dst.Count(registrytest.Request.Write); got != 0 {
		t.Errorf("%d writes at the destination, want 0:\n%s", got, dst.Summary())
	}

	// Force moves it, and says from where.
	res, err := c.Copy(t.Context(), src.Host+"/app:1.0.0", dst.Host+"/app", registry.CopyOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]registry.TagResult{{Tag: "1.0.0", Action: registry.ActionMoved, Previous: b.Digest}}, res.Tags); diff != "" {
		t.Errorf("forced tags (-want +got):\n%s", diff)
	}
}

func TestCopyAttachments(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src, dst bool // referrers API on
	}{
		{"referrers API", true, true},
		{"fallback tag", false, false},
		{"API to fallback tag", true, false},
		{"fallback tag to API", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := registrytest.NewIndex(17, []string{"linux/amd64", "linux/arm64"}, 1, 64, true)
			src := registrytest.New(t, registrytest.WithReferrersAPI(tc.src))
			dst := registrytest.New(t, registrytest.WithReferrersAPI(tc.dst))
			src.PushIndex(t, "app", "1.0.0", idx)
			sig := src.PushSignature(t, "app", idx.Digest, "sig", 1)
			att := src.PushSignature(t, "app", idx.Digest, "att", 2)
			childSig := src.PushSignature(t, "app", idx.Images[0].Digest, "sig", 3)
			sbom := src.PushReferrer(t, "app", idx.Descriptor(), "application/spdx+json", 4)
			childRef := src.PushReferrer(t, "app", idx.Images[1].Descriptor(), "application/vnd.example.scan", 5)

			res, err := newClient(t).Copy(t.Context(), src.Host+"/app:1.0.0", dst.Host+"/app", registry.CopyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			type got struct {
				Kind, Subject, Digest string
				Action                registry.Action
			}
			var have []got
			for _, a := range res.Attachments {
				have = append(have, got{a.Kind, a.Subject, a.Digest, a.Action})
			}
			want := []got{
				{"sig", idx.Digest, sig.Digest, registry.ActionCreated},
				{"att", idx.Digest, att.Digest, registry.ActionCreated},
				{"referrer", idx.Digest, sbom.Digest, registry.ActionCreated},
				{"sig", idx.Images[0].Digest, childSig.Digest, registry.ActionCreated},
				{"referrer", idx.Images[1].Digest, childRef.Digest, registry.ActionCreated},
			}
			sortGot := cmpopts.SortSlices(func(a, b got) bool { return a.Digest < b.Digest })
			if diff := cmp.Diff(want, have, sortGot); diff != "" {
				t.Errorf("attachments (-want +got):\n%s", diff)
			}
			// The 2 images and 2 attestation manifests, the index by digest
			// (its attachments follow it), the 5 attachments; not the tag,
			// nor the fallback tag indexes.
			if res.ManifestsWritten != 4+1+5 {
				t.Errorf("ManifestsWritten = %d, want 10", res.ManifestsWritten)
			}
			for _, tag := range []string{cosign(idx.Digest, "sig"), cosign(idx.Digest, "att"), cosign(idx.Images[0].Digest, "sig")} {
				sameManifest(t, src, dst, "app", "app", tag)
			}
			sameManifest(t, src, dst, "app", "app", sbom.Digest)
			sameManifest(t, src, dst, "app", "app", childRef.Digest)

			// The destination lists the referrers the way the source does.
			c := newClient(t)
			for _, subject := range []struct{ digest, ref string }{{idx.Digest, sbom.Digest}, {idx.Images[1].Digest, childRef.Digest}} {
				refs, err := c.Referrers(t.Context(), dst.Host+"/app@"+subject.digest)
				if err != nil {
					t.Fatal(err)
				}
				if len(refs) != 1 || refs[0].Digest != subject.ref {
					t.Errorf("referrers of %s at the destination = %+v, want %s", subject.digest, refs, subject.ref)
				}
			}
			if v := append(dst.Violations(), dst.CheckTags()...); len(v) > 0 {
				t.Errorf("incomplete tags: %v", v)
			}
		})
	}
}

// TestCopyAddsToTheFallbackTag: at a destination without the referrers
// API, a referrer that arrives later is added to the subject's fallback
// tag index, after what it listed (the earlier copy's and the
// destination's own).
func TestCopyAddsToTheFallbackTag(t *testing.T) {
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 21, Layers: 1, LayerSize: 64})
	src := registrytest.New(t, registrytest.WithReferrersAPI(false))
	dst := registrytest.New(t, registrytest.WithReferrersAPI(false))
	src.PushImage(t, "app", "1.0.0", img)
	first := src.PushReferrer(t, "app", img.Descriptor(), "application/spdx+json", 1)
	if _, err := newClient(t).Copy(t.Context(), src.Host+"/app:1.0.0", dst.Host+"/app", registry.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	own := dst.PushReferrer(t, "app", img.Descriptor(), "application/vnd.example.scan", 2)
	later := src.PushReferrer(t, "app", img.Descriptor(), "application/vnd.example.vex", 3)

	res, err := newClient(t).Copy(t.Context(), src.Host+"/app:1.0.0", dst.Host+"/app", registry.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]registry.Action{}
	for _, a := range res.Attachments {
		actions[a.Digest] = a.Action
	}
	wantActions := map[string]registry.Action{first.Digest: registry.ActionUnchanged, later.Digest: registry.ActionCreated}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("attachment actions (-want +got):\n%s", diff)
	}
	refs, err := newClient(t).Referrers(t.Context(), dst.Host+"/app@"+img.Digest)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range refs {
		got = append(got, r.Digest)
	}
	if diff := cmp.Diff([]string{first.Digest, own.Digest, later.Digest}, got); diff != "" {
		t.Errorf("referrers at the destination (-want +got):\n%s", diff)
	}
}

func TestCopyDryRunWritesNothing(t *testing.T) {
	idx := registrytest.NewIndex(19, []string{"linux/amd64"}, 2, 100, true)
	src, dst := registrytest.New(t), registrytest.New(t)
	src.PushIndex(t, "app", "1.0.0", idx)
	src.PushSignature(t, "app", idx.Digest, "sig", 1)
	other := registrytest.NewImage(registrytest.ImageSpec{Seed: 99, Layers: 1, LayerSize: 10})
	dst.PushImage(t, "app", "latest", other)
	dst.Reset()
	res, err := newClient(t).Copy(t.Context(), src.Host+"/app:1.0.0", dst.Host+"/app", registry.CopyOptions{Tags: []string{"latest"}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := dst.Count(registrytest.Request.Write); got != 0 {
		t.Errorf("dry run wrote %d times:\n%s", got, dst.Summary())
	}
	want := []registry.TagResult{
		{Tag: "1.0.0", Action: registry.ActionCreated},
		{Tag: "latest", Action: registry.ActionMoved, Previous: other.Digest},
	}
	if diff := cmp.Diff(want, res.Tags); diff != "" {
		t.Errorf("planned tags (-want +got):\n%s", diff)
	}
	// Blobs: the image's config and 2 layers, the attestation's config and
	// statement, the signature's config and payload.
	if !res.DryRun || res.BlobsCopied != 3+2+2 || len(res.Attachments) != 1 {
		t.Errorf("plan = %+v", res)
	}
	// The image and its attestation manifest, the index by digest (the
	// signature follows it), the signature.
	if res.ManifestsWritten != 2+1+1 {
		t.Errorf("ManifestsWritten = %d, want 4", res.ManifestsWritten)
	}
	if _, _, ok := dst.Manifest("app", "1.0.0"); ok {
		t.Error("dry run created the tag")
	}
}

func TestTagRetagsInsideRepository(t *testing.T) {
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 23, Layers: 2, LayerSize: 100})
	reg := registrytest.New(t)
	reg.PushImage(t, "app", "1.0.0", img)
	reg.Reset()
	res, err := newClient(t).Tag(t.Context(), reg.Host+"/app@"+img.Digest, "1.0.0", registry.CopyOptions{Tags: []string{"1.0", "1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []registry.TagResult{
		{Tag: "1.0.0", Action: registry.ActionUnchanged},
		{Tag: "1.0", Action: registry.ActionCreated},
		{Tag: "1", Action: registry.ActionCreated},
	}
	if diff := cmp.Diff(want, res.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	blobRequests := reg.Count(func(r registrytest.Request) bool {
		return r.Kind == registrytest.KindBlob || r.Kind == registrytest.KindUpload
	})
	if blobRequests != 0 {
		t.Errorf("retag touched blobs %d times:\n%s", blobRequests, reg.Summary())
	}
}

func cosign(d, kind string) string { return "sha256-" + d[len("sha256:"):] + "." + kind }

// TestCopyFallsBackToUploadWhenMountRefused: inside one registry blobs are
// mounted; a registry that refuses the mount gets them uploaded instead,
// through the upload session a 202 opened (no second POST), or a new one
// after an error answer.
func TestCopyFallsBackToUploadWhenMountRefused(t *testing.T) {
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 21, Layers: 3, LayerSize: 200})
	var blobs []string
	for _, b := range img.Blobs() {
		blobs = append(blobs, digestOf(b))
	}
	slices.Sort(blobs)
	tests := []struct {
		name   string
		status int
	}{
		{"202 opens an upload session", http.StatusAccepted},
		{"401, as Harbor answers for a project it hides", http.StatusUnauthorized},
		{"400", http.StatusBadRequest},
		{"404", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := registrytest.New(t, registrytest.WithTokenAuth("ci", "s3cret"), registrytest.WithMountRefusal(tt.status))
			reg.PushImage(t, "staging/app", "1.0.0", img)
			reg.Reset()
			keychain := registry.DockerConfigKeychain(dockerConfig(t, reg.Host, "ci", "s3cret"))
			// One blob at a time, so that what the first refusal
			// teaches the copy shows in the counts.
			res, err := newClient(t, registry.WithKeychain(keychain), registry.WithJobs(1)).Copy(t.Context(), reg.Host+"/staging/app:1.0.0", reg.Host+"/prod/app", registry.CopyOptions{})
			if err != nil {
				t.Fatalf("copy: %v\n%s", err, reg.Summary())
			}
			if res.BlobsCopied != len(blobs) || res.BlobsMounted != 0 {
				t.Errorf("result = %+v, want %d blobs copied and none mounted", res, len(blobs))
			}
			got := reg.Uploads()
			slices.Sort(got)
			if diff := cmp.Diff(blobs, got); diff != "" {
				t.Errorf("uploads (-want +got):\n%s", diff)
			}
			isMount := func(r registrytest.Request) bool {
				return r.Kind == registrytest.KindUpload && r.Method == http.MethodPost && r.From == "staging/app"
			}
			isPlainPost := func(r registrytest.Request) bool {
				return r.Kind == registrytest.KindUpload && r.Method == http.MethodPost && r.From == ""
			}
			// After a 202 every blob is offered, its session used for the
			// upload (no second POST); after an error answer no other
			// blob is offered, and each gets a session of its own. A 401
			// is answered once more with a renewed token.
			wantMounts, wantPosts := len(blobs), 0
			switch tt.status {
			case http.StatusUnauthorized:
				wantMounts, wantPosts = 2, len(blobs)
			case http.StatusBadRequest, http.StatusNotFound:
				wantMounts, wantPosts = 1, len(blobs)
			}
			if n := reg.Count(isMount); n != wantMounts {
				t.Errorf("%d mount requests, want %d:\n%s", n, wantMounts, reg.Summary())
			}
			if n := reg.Count(isPlainPost); n != wantPosts {
				t.Errorf("%d upload POSTs without a mount, want %d:\n%s", n, wantPosts, reg.Summary())
			}
			sameManifest(t, reg, reg, "staging/app", "prod/app", img.Digest)
			if v := append(reg.Violations(), reg.CheckTags()...); len(v) > 0 {
				t.Errorf("incomplete tags: %v", v)
			}
		})
	}
}
