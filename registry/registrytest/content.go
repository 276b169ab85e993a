package registrytest

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Media types the helpers write.
const (
	MediaOCIIndex    = "application/vnd.oci.image.index.v1+json"
	MediaOCIManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaDockerV2    = "application/vnd.docker.distribution.manifest.v2+json"
	MediaDockerList  = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaOCIConfig   = "application/vnd.oci.image.config.v1+json"
	mediaDockerCfg   = "application/vnd.docker.container.image.v1+json"
	mediaOCILayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
	mediaDockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mediaEmptyJSON   = "application/vnd.oci.empty.v1+json"
)

// Descriptor is the part of an OCI descriptor the helpers use.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Platform     *Platform         `json:"platform,omitempty"`
}

// Platform of an index entry.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

// Image is an image (or artifact) manifest with its blobs.
type Image struct {
	MediaType string
	Manifest  []byte
	Digest    string
	Config    []byte
	Layers    [][]byte
}

// Descriptor describes the image's manifest.
func (i *Image) Descriptor() Descriptor {
	return Descriptor{MediaType: i.MediaType, Digest: i.Digest, Size: int64(len(i.Manifest))}
}

// Blobs are the config and layers.
func (i *Image) Blobs() [][]byte { return append([][]byte{i.Config}, i.Layers...) }

// ImageSpec says what NewImage builds.
type ImageSpec struct {
	// Seed makes the content; equal specs give equal digests.
	Seed uint64
	// Layers and LayerSize: how many random layers of how many bytes.
	Layers    int
	LayerSize int
	// Labels go in the config (org.opencontainers.image.revision, ...).
	Labels map[string]string
	// Docker writes Docker v2 media types instead of OCI ones.
	Docker bool
	// Platform is "os/arch" for the config (default linux/amd64).
	Platform string
	// Annotations go on the manifest (buildx --annotation manifest:…).
	Annotations map[string]string
	// Created is the config's creation time (default
	// 2024-01-02T03:04:05Z).
	Created string
}

// NewImage builds a random image.
func NewImage(spec ImageSpec) *Image {
	rng := rand.New(rand.NewPCG(spec.Seed, spec.Seed+1))
	osName, arch := "linux", "amd64"
	if spec.Platform != "" {
		osName, arch, _ = strings.Cut(spec.Platform, "/")
	}
	img := &Image{MediaType: MediaOCIManifest}
	cfgType, layerType := mediaOCIConfig, mediaOCILayer
	if spec.Docker {
		img.MediaType, cfgType, layerType = MediaDockerV2, mediaDockerCfg, mediaDockerLayer
	}
	var diffIDs []string
	var layers []Descriptor
	for range spec.Layers {
		b := make([]byte, spec.LayerSize)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		img.Layers = append(img.Layers, b)
		diffIDs = append(diffIDs, digest(b))
		layers = append(layers, Descriptor{MediaType: layerType, Digest: digest(b), Size: int64(len(b))})
	}
	cfg := map[string]any{
		"architecture": arch,
		"os":           osName,
		"config":       map[string]any{"Labels": spec.Labels},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
		"created":      cmp.Or(spec.Created, "2024-01-02T03:04:05Z"),
		"history":      []map[string]string{{"comment": fmt.Sprintf("registrytest seed %d", spec.Seed)}},
	}
	img.Config = mustJSON(cfg)
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     img.MediaType,
		"config":        Descriptor{MediaType: cfgType, Digest: digest(img.Config), Size: int64(len(img.Config))},
		"layers":        nonNil(layers),
	}
	if len(spec.Annotations) > 0 {
		m["annotations"] = spec.Annotations
	}
	img.Manifest = mustJSON(m)
	img.Digest = digest(img.Manifest)
	return img
}

// Index is a multi-platform index with its images and, like BuildKit
// builds, an attestation manifest per platform.
type Index struct {
	MediaType string
	Manifest  []byte
	Digest    string
	// Images are the platform images, then the attestation manifests.
	Images []*Image
}

// Descriptor describes the index manifest.
func (x *Index) Descriptor() Descriptor {
	return Descriptor{MediaType: x.MediaType, Digest: x.Digest, Size: int64(len(x.Manifest))}
}

// NewIndex builds an OCI index of one random image per platform ("os/arch"),
// each of layers layers of size bytes, plus a BuildKit-style attestation
// manifest (platform unknown/unknown, vnd.docker.reference.type:
// attestation-manifest) per image when attestations is set.
func NewIndex(seed uint64, platforms []string, layers, size int, attestations bool) *Index {
	spec := IndexSpec{Provenance: map[string][]byte{}}
	for i, p := range platforms {
		img := NewImage(ImageSpec{Seed: seed*1000 + uint64(i), Layers: layers, LayerSize: size, Platform: p,
			Labels: map[string]string{"org.opencontainers.image.revision": fmt.Sprintf("%040x", seed)}})
		spec.Images = append(spec.Images, img)
		if attestations {
			spec.Provenance[img.Digest] = Statement(img.Digest, "https://slsa.dev/provenance/v0.2", map[string]any{"seed": seed*1000 + 500 + uint64(i)})
		}
	}
	return NewIndexOf(spec)
}

// Statement is an in-toto statement about subject (a digest) with the
// given predicate, as BuildKit writes its provenance.
func Statement(subject, predicateType string, predicate any) []byte {
	return mustJSON(map[string]any{
		"_type":         "https://in-toto.io/Statement/v0.1",
		"predicateType": predicateType,
		"subject":       []map[string]any{{"digest": map[string]string{"sha256": strings.TrimPrefix(subject, "sha256:")}}},
		"predicate":     predicate,
	})
}

// NewAttestation is a BuildKit attestation manifest holding statement (an
// in-toto statement, see Statement) as its one layer, annotated with the
// statement's predicate type. Its subject is named only by the index
// entry that points at it (vnd.docker.reference.digest), as BuildKit does.
func NewAttestation(subject string, statement []byte) *Image {
	var st struct {
		PredicateType string `json:"predicateType"`
	}
	json.Unmarshal(statement, &st)
	cfg := mustJSON(map[string]any{"architecture": "unknown", "os": "unknown", "config": map[string]any{}, "rootfs": map[string]any{"type": "layers", "diff_ids": []string{digest(statement)}}})
	img := &Image{MediaType: MediaOCIManifest, Config: cfg, Layers: [][]byte{statement}}
	img.Manifest = mustJSON(map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaOCIManifest,
		"config":        Descriptor{MediaType: mediaOCIConfig, Digest: digest(cfg), Size: int64(len(cfg))},
		"layers": []Descriptor{{MediaType: "application/vnd.in-toto+json", Digest: digest(statement), Size: int64(len(statement)),
			Annotations: map[string]string{"in-toto.io/predicate-type": st.PredicateType}}},
	})
	img.Digest = digest(img.Manifest)
	return img
}

// IndexSpec says what NewIndexOf builds.
type IndexSpec struct {
	// Images are the platform images, in order. Each entry's platform is
	// read from the image's config.
	Images []*Image
	// Annotations go on the index (buildx --annotation index:…).
	Annotations map[string]string
	// Provenance maps the digest of one of Images to the in-toto statement
	// of its attestation manifest (see Statement); the attestation
	// entries follow the images, as BuildKit writes them.
	Provenance map[string][]byte
}

// NewIndexOf builds an OCI index of the given images, with BuildKit-style
// attestation manifests for those Provenance names.
func NewIndexOf(spec IndexSpec) *Index {
	x := &Index{MediaType: MediaOCIIndex}
	var entries, attEntries []Descriptor
	var atts []*Image
	for _, img := range spec.Images {
		var cfg struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
			Variant      string `json:"variant"`
		}
		json.Unmarshal(img.Config, &cfg)
		d := img.Descriptor()
		d.Platform = &Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
		entries = append(entries, d)
		x.Images = append(x.Images, img)
		if stmt, ok := spec.Provenance[img.Digest]; ok {
			att := NewAttestation(img.Digest, stmt)
			atts = append(atts, att)
			ad := att.Descriptor()
			ad.Platform = &Platform{OS: "unknown", Architecture: "unknown"}
			ad.Annotations = map[string]string{
				"vnd.docker.reference.type":   "attestation-manifest",
				"vnd.docker.reference.digest": img.Digest,
			}
			attEntries = append(attEntries, ad)
		}
	}
	x.Images = append(x.Images, atts...)
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     x.MediaType,
		"manifests":     nonNil(append(entries, attEntries...)),
	}
	if len(spec.Annotations) > 0 {
		m["annotations"] = spec.Annotations
	}
	x.Manifest = mustJSON(m)
	x.Digest = digest(x.Manifest)
	return x
}

// NewSignature is a cosign-style signature manifest (a simple-signing
// payload layer with a signature annotation) for subject.
func NewSignature(seed uint64, subject string) *Image {
	payload := mustJSON(map[string]any{
		"critical": map[string]any{"image": map[string]string{"docker-manifest-digest": subject}, "type": "cosign container image signature"},
		"optional": map[string]any{"seed": seed},
	})
	cfg := mustJSON(map[string]any{"architecture": "", "os": "", "config": map[string]any{}, "rootfs": map[string]any{"type": "layers", "diff_ids": []string{digest(payload)}}})
	img := &Image{MediaType: MediaOCIManifest, Config: cfg, Layers: [][]byte{payload}}
	img.Manifest = mustJSON(map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaOCIManifest,
		"config":        Descriptor{MediaType: mediaOCIConfig, Digest: digest(cfg), Size: int64(len(cfg))},
		"layers": []Descriptor{{MediaType: "application/vnd.dev.cosign.simplesigning.v1+json", Digest: digest(payload), Size: int64(len(payload)),
			Annotations: map[string]string{"dev.cosignproject.cosign/signature": fmt.Sprintf("MEUCIQ-%d", seed)}}},
	})
	img.Digest = digest(img.Manifest)
	return img
}

// NewReferrer is an OCI 1.1 artifact manifest (an image manifest with an
// artifactType, an empty config and one blob) whose subject is subject.
func NewReferrer(seed uint64, subject Descriptor, artifactType string) *Image {
	blob := mustJSON(map[string]any{"artifact": artifactType, "seed": seed})
	empty := []byte("{}")
	subject.Platform, subject.Annotations = nil, nil
	img := &Image{MediaType: MediaOCIManifest, Config: empty, Layers: [][]byte{blob}}
	img.Manifest = mustJSON(map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaOCIManifest,
		"artifactType":  artifactType,
		"config":        Descriptor{MediaType: mediaEmptyJSON, Digest: digest(empty), Size: 2},
		"layers":        []Descriptor{{MediaType: "application/json", Digest: digest(blob), Size: int64(len(blob))}},
		"subject":       subject,
		"annotations":   map[string]string{"org.opencontainers.image.created": "2024-01-02T03:04:05Z"},
	})
	img.Digest = digest(img.Manifest)
	return img
}

// PushImage stores the image's blobs and manifest in repo, under its digest
// and, when tag is not empty, the tag. It bypasses the log and the faults.
func (s *Server) PushImage(t testing.TB, repo, tag string, img *Image) {
	t.Helper()
	for _, b := range img.Blobs() {
		s.putBlob(t, repo, b)
	}
	s.putManifest(t, repo, img.Digest, img.MediaType, img.Manifest)
	if tag != "" {
		s.putManifest(t, repo, tag, img.MediaType, img.Manifest)
	}
}

// PushIndex stores the index, its images and their blobs in repo.
func (s *Server) PushIndex(t testing.TB, repo, tag string, x *Index) {
	t.Helper()
	for _, img := range x.Images {
		s.PushImage(t, repo, "", img)
	}
	s.putManifest(t, repo, x.Digest, x.MediaType, x.Manifest)
	if tag != "" {
		s.putManifest(t, repo, tag, x.MediaType, x.Manifest)
	}
}

// PushSignature stores a cosign-style attachment of subject under
// "sha256-<hex>.<kind>" (kind: sig, att, sbom) and returns it.
func (s *Server) PushSignature(t testing.TB, repo, subject, kind string, seed uint64) *Image {
	t.Helper()
	sig := NewSignature(seed, subject)
	s.PushImage(t, repo, strings.Replace(subject, ":", "-", 1)+"."+kind, sig)
	return sig
}

// PushReferrer stores an artifact whose subject is subject and returns it.
// Without the referrers API, it also adds the artifact to the subject's
// fallback tag index, as OCI 1.1 clients do.
func (s *Server) PushReferrer(t testing.TB, repo string, subject Descriptor, artifactType string, seed uint64) *Image {
	t.Helper()
	ref := NewReferrer(seed, subject, artifactType)
	s.PushImage(t, repo, "", ref)
	if !s.referrers {
		tag := strings.Replace(subject.Digest, ":", "-", 1)
		var idx struct {
			Manifests []Descriptor `json:"manifests"`
		}
		if raw, _, ok := s.Manifest(repo, tag); ok {
			json.Unmarshal(raw, &idx)
		}
		d := ref.Descriptor()
		d.ArtifactType = artifactType
		idx.Manifests = append(idx.Manifests, d)
		s.putManifest(t, repo, tag, MediaOCIIndex, mustJSON(map[string]any{
			"schemaVersion": 2, "mediaType": MediaOCIIndex, "manifests": idx.Manifests,
		}))
	}
	return ref
}

// Manifest returns the manifest repo stores under ref (tag or digest).
func (s *Server) Manifest(repo, ref string) ([]byte, string, bool) {
	rec := s.internal(http.MethodGet, "/v2/"+repo+"/manifests/"+ref, "", nil)
	if rec.Code != http.StatusOK {
		return nil, "", false
	}
	return rec.Body.Bytes(), rec.Header().Get("Content-Type"), true
}

// HasBlob reports whether the blob is visible in repo.
func (s *Server) HasBlob(repo, dgst string) bool { return s.blobs.has(repo, dgst) }

// Tags lists repo's tags (sorted).
func (s *Server) Tags(repo string) []string {
	rec := s.internal(http.MethodGet, "/v2/"+repo+"/tags/list", "", nil)
	var page struct {
		Tags []string `json:"tags"`
	}
	json.Unmarshal(rec.Body.Bytes(), &page)
	return page.Tags
}

// CheckTags checks every tag of every repository: each must name a
// manifest whose child manifests and blobs are all in the repository.
func (s *Server) CheckTags() []string {
	rec := s.internal(http.MethodGet, "/v2/_catalog", "", nil)
	var cat struct {
		Repositories []string `json:"repositories"`
	}
	json.Unmarshal(rec.Body.Bytes(), &cat)
	var problems []string
	for _, repo := range cat.Repositories {
		for _, tag := range s.Tags(repo) {
			if err := s.complete(repo, tag, 0); err != nil {
				problems = append(problems, fmt.Sprintf("%s:%s: %v", repo, tag, err))
			}
		}
	}
	return problems
}

// complete checks that the manifest repo has under ref is there with its
// whole content.
func (s *Server) complete(repo, ref string, depth int) error {
	if depth > 8 {
		return fmt.Errorf("manifests nested too deep at %s", ref)
	}
	raw, mt, ok := s.Manifest(repo, ref)
	if !ok {
		return fmt.Errorf("manifest %s is missing", ref)
	}
	var m struct {
		Config    *Descriptor  `json:"config"`
		Layers    []Descriptor `json:"layers"`
		Manifests []Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("manifest %s does not parse: %v", ref, err)
	}
	if mt == MediaOCIIndex || mt == MediaDockerList {
		for _, c := range m.Manifests {
			if err := s.complete(repo, c.Digest, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	blobs := m.Layers
	if m.Config != nil {
		blobs = append(blobs, *m.Config)
	}
	for _, b := range blobs {
		if strings.Contains(b.MediaType, "nondistributable") || strings.Contains(b.MediaType, "foreign") {
			continue
		}
		if !s.blobs.has(repo, b.Digest) {
			return fmt.Errorf("blob %s of manifest %s is missing", b.Digest, ref)
		}
	}
	return nil
}

func (s *Server) putBlob(t testing.TB, repo string, b []byte) {
	t.Helper()
	rec := s.internal(http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+digest(b), "application/octet-stream", b)
	if rec.Code != http.StatusCreated {
		t.Fatalf("registrytest: storing blob in %s: %d %s", repo, rec.Code, rec.Body)
	}
}

func (s *Server) putManifest(t testing.TB, repo, ref, mediaType string, raw []byte) {
	t.Helper()
	rec := s.internal(http.MethodPut, "/v2/"+repo+"/manifests/"+ref, mediaType, raw)
	if rec.Code != http.StatusCreated {
		t.Fatalf("registrytest: storing manifest %s:%s: %d %s", repo, ref, rec.Code, rec.Body)
	}
}

// internal sends a request straight to pkg/registry, unlogged.
func (s *Server) internal(method, target, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.URL.Host = ""
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, req)
	return rec
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func nonNil(d []Descriptor) []Descriptor {
	if d == nil {
		return []Descriptor{}
	}
	return d
}
