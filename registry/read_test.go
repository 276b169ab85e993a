package registry_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
)

func TestResolve(t *testing.T) {
	idx := registrytest.NewIndex(3, []string{"linux/amd64"}, 1, 10, false)
	tests := []struct {
		name     string
		opts     []registrytest.Option
		ref      string
		want     registry.Descriptor
		requests map[string]int // "METHOD kind" → count, auth excluded
	}{
		{
			name:     "tag",
			ref:      "app:1",
			want:     registry.Descriptor{Digest: idx.Digest, MediaType: registrytest.MediaOCIIndex, Size: int64(len(idx.Manifest))},
			requests: map[string]int{"HEAD manifest": 1},
		},
		{
			name:     "digest",
			ref:      "app@" + idx.Digest,
			want:     registry.Descriptor{Digest: idx.Digest, MediaType: registrytest.MediaOCIIndex, Size: int64(len(idx.Manifest))},
			requests: map[string]int{"HEAD manifest": 1},
		},
		{
			name:     "HEAD without Docker-Content-Digest falls back to GET",
			opts:     []registrytest.Option{registrytest.WithoutHeadDigest()},
			ref:      "app:1",
			want:     registry.Descriptor{Digest: idx.Digest, MediaType: registrytest.MediaOCIIndex, Size: int64(len(idx.Manifest))},
			requests: map[string]int{"HEAD manifest": 1, "GET manifest": 1},
		},
		{
			name:     "HEAD without Docker-Content-Digest, by digest: no GET needed",
			opts:     []registrytest.Option{registrytest.WithoutHeadDigest()},
			ref:      "app@" + idx.Digest,
			want:     registry.Descriptor{Digest: idx.Digest, MediaType: registrytest.MediaOCIIndex, Size: int64(len(idx.Manifest))},
			requests: map[string]int{"HEAD manifest": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := registrytest.New(t, tt.opts...)
			reg.PushIndex(t, "app", "1", idx)
			got, err := newClient(t).Resolve(t.Context(), reg.Host+"/"+tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("descriptor (-want +got):\n%s", diff)
			}
			requests := map[string]int{}
			for _, r := range reg.Requests() {
				if !r.Auth() {
					requests[r.Method+" "+string(r.Kind)]++
				}
			}
			if diff := cmp.Diff(tt.requests, requests); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveNotFound(t *testing.T) {
	reg := registrytest.New(t)
	reg.PushImage(t, "app", "1", registrytest.NewImage(registrytest.ImageSpec{Seed: 1}))
	c := newClient(t)
	for _, ref := range []string{"app:2", "other:1"} {
		if _, err := c.Resolve(t.Context(), reg.Host+"/"+ref); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("Resolve(%s) err = %v, want ErrNotFound", ref, err)
		}
		if _, _, err := c.Manifest(t.Context(), reg.Host+"/"+ref); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("Manifest(%s) err = %v, want ErrNotFound", ref, err)
		}
	}
}

func TestNoHeadDigestNoOpStaysCheap(t *testing.T) {
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 5, Layers: 2, LayerSize: 100})
	src := registrytest.New(t)
	dst := registrytest.New(t, registrytest.WithoutHeadDigest())
	src.PushImage(t, "app", "1.0.0", img)
	dst.PushImage(t, "app", "1.0.0", img)
	dst.PushImage(t, "app", "latest", img)
	dst.Reset()
	_, err := newClient(t).Copy(t.Context(), src.Host+"/app@"+img.Digest, dst.Host+"/app:1.0.0",
		registry.CopyOptions{Tags: []string{"latest"}, NoAttachments: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := dst.Count(registrytest.NotAuth); got > 2*2 {
		t.Errorf("%d requests for 2 tags, want ≤ 4:\n%s", got, dst.Summary())
	}
	if got := dst.Count(registrytest.Request.Write); got != 0 {
		t.Errorf("%d writes, want none:\n%s", got, dst.Summary())
	}
}

func TestTagsFollowsLinkPages(t *testing.T) {
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1})
	tests := []struct {
		name  string
		tags  int
		pages int
	}{
		{"one page", 2, 1},
		{"exact pages", 9, 3}, // the last page is full and says no next
		{"several pages", 10, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := registrytest.New(t, registrytest.WithTagPageSize(3))
			var want []string
			for i := range tt.tags {
				tag := fmt.Sprintf("1.0.%02d", i)
				reg.PushImage(t, "app", tag, img)
				want = append(want, tag)
			}
			reg.Reset()
			got, err := newClient(t).Tags(t.Context(), reg.Host+"/app")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if n := reg.Count(registrytest.NotAuth); n != tt.pages {
				t.Errorf("%d requests, want %d pages", n, tt.pages)
			}
		})
	}
}

func TestTagsOfUnknownRepositoryIsEmpty(t *testing.T) {
	reg := registrytest.New(t)
	got, err := newClient(t).Tags(t.Context(), reg.Host+"/nothing/here")
	if err != nil || len(got) != 0 {
		t.Fatalf("Tags = %v, %v; want none, no error", got, err)
	}
}

func TestConfigPicksTheImageOfAnIndex(t *testing.T) {
	reg := registrytest.New(t)
	idx := registrytest.NewIndex(21, []string{"linux/arm64", "linux/amd64"}, 1, 10, true)
	reg.PushIndex(t, "app", "multi", idx)
	single := registrytest.NewImage(registrytest.ImageSpec{Seed: 2, Labels: map[string]string{"org.opencontainers.image.revision": "abc"}})
	reg.PushImage(t, "app", "single", single)
	tests := []struct {
		ref  string
		want []byte
	}{
		{"app:multi", idx.Images[1].Config}, // linux/amd64 wins
		{"app:single", single.Config},
	}
	c := newClient(t)
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := c.Config(t.Context(), reg.Host+"/"+tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(tt.want) {
				t.Errorf("config = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSchema1Refused(t *testing.T) {
	reg := registrytest.New(t)
	raw, _ := json.Marshal(map[string]any{"schemaVersion": 1, "name": "app", "tag": "old", "fsLayers": []any{}})
	reg.PushImage(t, "app", "old", &registrytest.Image{
		MediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws",
		Manifest:  raw, Digest: digestOf(raw), Config: []byte("{}"),
	})
	dst := registrytest.New(t)
	c := newClient(t)
	_, err := c.Copy(t.Context(), reg.Host+"/app:old", dst.Host+"/app", registry.CopyOptions{})
	if !errors.Is(err, registry.ErrUnsupported) || !strings.Contains(err.Error(), "schema 1") {
		t.Fatalf("err = %v, want schema 1 refused", err)
	}
	if got := dst.Count(registrytest.Request.Write); got != 0 {
		t.Errorf("%d writes at the destination", got)
	}
}

func TestAttachmentsLookup(t *testing.T) {
	reg := registrytest.New(t)
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 1, Layers: 1, LayerSize: 10})
	reg.PushImage(t, "app", "1", img)
	sbom := reg.PushSignature(t, "app", img.Digest, "sbom", 1)
	ref := reg.PushReferrer(t, "app", img.Descriptor(), "application/vnd.example", 2)
	got, err := newClient(t).Attachments(t.Context(), reg.Host+"/app:1")
	if err != nil {
		t.Fatal(err)
	}
	want := []registry.Attachment{
		{Kind: "sbom", Subject: img.Digest, Tag: cosign(img.Digest, "sbom"),
			Descriptor: registry.Descriptor{Digest: sbom.Digest, MediaType: registrytest.MediaOCIManifest, Size: int64(len(sbom.Manifest))}},
		{Kind: "referrer", Subject: img.Digest,
			Descriptor: registry.Descriptor{Digest: ref.Digest, MediaType: registrytest.MediaOCIManifest, Size: int64(len(ref.Manifest)),
				ArtifactType: "application/vnd.example", Annotations: map[string]string{"org.opencontainers.image.created": "2024-01-02T03:04:05Z"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attachments (-want +got):\n%s", diff)
	}
}

func TestInvalidReferences(t *testing.T) {
	c := newClient(t)
	for _, ref := range []string{"UPPER/app:1", "app@sha256:short", "app:bad tag"} {
		if _, err := c.Resolve(t.Context(), ref); !errors.Is(err, registry.ErrInvalidReference) {
			t.Errorf("Resolve(%q) err = %v, want ErrInvalidReference", ref, err)
		}
	}
	if _, err := c.Copy(t.Context(), "127.0.0.1:1/app:1", "127.0.0.1:1/app", registry.CopyOptions{Tags: []string{"-bad"}}); !errors.Is(err, registry.ErrInvalidReference) {
		t.Errorf("Copy with tag -bad: err = %v, want ErrInvalidReference", err)
	}
}
func TestBlob(t *testing.T) {
	reg := registrytest.New(t)
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 4, Layers: 1, LayerSize: 10})
	reg.PushImage(t, "app", "1", img)
	c := newClient(t)
	tests := []struct {
		name    string
		ref     string
		want    []byte
		wantErr error
	}{
		{name: "config", ref: "app@" + digestOf(img.Config), want: img.Config},
		{name: "layer", ref: "app@" + digestOf(img.Layers[0]), want: img.Layers[0]},
		{name: "unknown blob", ref: "app@" + digestOf([]byte("nothing")), wantErr: registry.ErrNotFound},
		{name: "unknown repository", ref: "other@" + digestOf(img.Config), wantErr: registry.ErrNotFound},
		{name: "a tag names no blob", ref: "app:1", wantErr: registry.ErrInvalidReference},
		{name: "bad digest", ref: "app@sha256:12", wantErr: registry.ErrInvalidReference},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg.Reset()
			got, err := c.Blob(t.Context(), reg.Host+"/"+tt.ref)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("blob (-want +got):\n%s", diff)
			}
			if tt.wantErr == nil {
				if n := reg.Count(registrytest.NotAuth); n != 1 {
					t.Errorf("%d requests, want 1:\n%s", n, reg.Summary())
				}
			}
		})
	}
}

func TestRepository(t *testing.T) {
	tests := []struct {
		ref, want string
		wantErr   error
	}{
		{ref: "127.0.0.1:5000/team/app:1.0.0", want: "127.0.0.1:5000/team/app"},
		{ref: "127.0.0.1:5000/app@sha256:" + strings.Repeat("a", 64), want: "127.0.0.1:5000/app"},
		{ref: "127.0.0.1:5000/app:1@sha256:" + strings.Repeat("a", 64), want: "127.0.0.1:5000/app"},
		{ref: "localhost/app", want: "localhost/app"},
		{ref: "UPPER/app", wantErr: registry.ErrInvalidReference},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := registry.Repository(tt.ref)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Repository(%q) = %q, want %q", tt.ref, got, tt.want)
			}
		})
	}
}
