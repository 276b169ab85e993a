package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Media types the client copies. Anything else is refused rather than
// guessed at.
const (
	mediaOCIIndex      = "application/vnd.oci.image.index.v1+json"
	mediaOCIManifest   = "application/vnd.oci.image.manifest.v1+json"
	mediaDockerList    = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaDockerV2      = "application/vnd.docker.distribution.manifest.v2+json"
	mediaSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	mediaSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// acceptManifests is sent on every manifest HEAD and GET so registries
// return what they store instead of converting it. Schema 1 is listed last
// so that it is recognised and refused, not converted.
var acceptManifests = strings.Join([]string{
	mediaOCIIndex, mediaOCIManifest, mediaDockerList, mediaDockerV2,
	mediaSchema1Signed, mediaSchema1,
}, ", ")

// Size caps of what is read into memory.
const (
	manifestLimit = 4 << 20
	configLimit   = 8 << 20
	tagPageLimit  = 4 << 20
)

func isIndex(mt string) bool { return mt == mediaOCIIndex || mt == mediaDockerList }
func isImage(mt string) bool { return mt == mediaOCIManifest || mt == mediaDockerV2 }

// supported refuses manifests that cannot be copied byte for byte.
func supported(mt string) error {
	switch {
	case isIndex(mt) || isImage(mt):
		return nil
	case mt == mediaSchema1 || mt == mediaSchema1Signed:
		return fmt.Errorf("Docker schema 1 manifest (%s): rebuild or convert the image with a current Docker: %w", mt, ErrUnsupported)
	default:
		return fmt.Errorf("media type %q: %w", mt, ErrUnsupported)
	}
}

// manifest is what the client reads from a manifest: enough to walk the
// graph, never to rewrite it.
type manifest struct {
	MediaType    string       `json:"mediaType"`
	ArtifactType string       `json:"artifactType"`
	Config       *Descriptor  `json:"config"`
	Layers       []Descriptor `json:"layers"`
	Manifests    []indexEntry `json:"manifests"`
	Subject      *Descriptor  `json:"subject"`
}

// indexEntry is a descriptor in an index, with its platform.
type indexEntry struct {
	Descriptor
	Platform *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant,omitempty"`
	} `json:"platform,omitempty"`
}

func parseManifest(mt string, raw []byte) (*manifest, error) {
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("parsing %s manifest: %w", mt, err)
	}
	return &m, nil
}

// attestationEntry reports a BuildKit attestation manifest in an index.
func attestationEntry(e indexEntry) bool {
	return e.Annotations["vnd.docker.reference.type"] == "attestation-manifest" ||
		(e.Platform != nil && e.Platform.OS == "unknown" && e.Platform.Architecture == "unknown")
}

// pickImage chooses the image of an index whose config stands for it.
func pickImage(raw []byte) (Descriptor, error) {
	m, err := parseManifest(mediaOCIIndex, raw)
	if err != nil {
		return Descriptor{}, err
	}
	var first *indexEntry
	for i, e := range m.Manifests {
		if !isImage(e.MediaType) || attestationEntry(e) {
			continue
		}
		if e.Platform != nil && e.Platform.OS == "linux" && e.Platform.Architecture == "amd64" {
			return e.Descriptor, nil
		}
		if first == nil {
			first = &m.Manifests[i]
		}
	}
	if first == nil {
		return Descriptor{}, fmt.Errorf("index has no image manifest: %w", ErrUnsupported)
	}
	return first.Descriptor, nil
}

// digestOf is the sha256 digest of b.
func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// contentType is the media type of a response, without parameters.
func contentType(h http.Header) string {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

func manifestPath(repo, ident string) string { return "/v2/" + repo + "/manifests/" + ident }
func blobPath(repo, dgst string) string      { return "/v2/" + repo + "/blobs/" + dgst }

// headManifest asks whether repo has the manifest ident (a tag or digest).
// With existence set, a 403 also means absent: some registries
// (Artifactory) answer 403 rather than 404 for what a client may not see.
// When a tag's answer lacks Docker-Content-Digest, the manifest is fetched
// and hashed instead.
func (h *host) headManifest(ctx context.Context, repo, ident string, existence bool) (Descriptor, bool, error) {
	ok := []int{http.StatusOK, http.StatusNotFound}
	if existence {
		ok = append(ok, http.StatusForbidden)
	}
	resp, err := h.do(ctx, call{
		method: http.MethodHead,
		url:    h.url(manifestPath(repo, ident)),
		header: http.Header{"Accept": {acceptManifests}},
		ok:     ok,
	})
	if err != nil {
		return Descriptor{}, false, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Descriptor{}, false, nil
	}
	d := Descriptor{
		Digest:    resp.Header.Get("Docker-Content-Digest"),
		MediaType: contentType(resp.Header),
		Size:      resp.ContentLength,
	}
	if digestPattern.MatchString(ident) {
		if d.Digest != "" && d.Digest != ident {
			return Descriptor{}, false, fmt.Errorf("HEAD %s: registry answered with %s", manifestPath(repo, ident), d.Digest)
		}
		d.Digest = ident
	}
	if !digestPattern.MatchString(d.Digest) || !manifestType(d.MediaType) || d.Size < 0 {
		_, d, err = h.getManifest(ctx, repo, ident)
		if err != nil {
			return Descriptor{}, false, err
		}
	}
	return d, true, nil
}

// resolve is the descriptor of the manifest r names (see headManifest); a
// manifest the registry does not have is ErrNotFound.
func (h *host) resolve(ctx context.Context, r reference) (Descriptor, error) {
	d, found, err := h.headManifest(ctx, r.repo, r.identifier(), false)
	if err != nil {
		return Descriptor{}, fmt.Errorf("resolving %s: %w", r, err)
	}
	if !found {
		return Descriptor{}, fmt.Errorf("resolving %s: manifest unknown: %w", r, ErrNotFound)
	}
	return d, nil
}

// manifestType reports whether a Content-Type is a manifest media type
// (and not a generic one some registries send on HEAD).
func manifestType(mt string) bool {
	return isIndex(mt) || isImage(mt) || mt == mediaSchema1 || mt == mediaSchema1Signed
}

// getManifest reads a manifest (capped), hashes it and checks the digest
// against what was asked for and what the registry said.
func (h *host) getManifest(ctx context.Context, repo, ident string) ([]byte, Descriptor, error) {
	var raw []byte
	var d Descriptor
	err := h.fetch(ctx, call{
		method: http.MethodGet,
		url:    h.url(manifestPath(repo, ident)),
		header: http.Header{"Accept": {acceptManifests}},
		ok:     []int{http.StatusOK},
	}, func(resp *http.Response) error {
		b, err := readLimited(resp.Body, manifestLimit)
		if err != nil {
			return fmt.Errorf("reading manifest body: %w", err)
		}
		raw = b
		d = Descriptor{Digest: digestOf(b), MediaType: contentType(resp.Header), Size: int64(len(b))}
		if sent := resp.Header.Get("Docker-Content-Digest"); sent != "" && sent != d.Digest {
			return fmt.Errorf("GET %s: registry says %s but the bytes hash to %s", manifestPath(repo, ident), sent, d.Digest)
		}
		return nil
	})
	if err != nil {
		return nil, Descriptor{}, err
	}
	if digestPattern.MatchString(ident) && d.Digest != ident {
		return nil, Descriptor{}, fmt.Errorf("GET %s: bytes hash to %s", manifestPath(repo, ident), d.Digest)
	}
	if !manifestType(d.MediaType) {
		// Some registries send a generic type; the manifest says its own.
		// OCI manifests may even omit the field; their shape tells.
		var probe struct {
			MediaType     string          `json:"mediaType"`
			SchemaVersion int             `json:"schemaVersion"`
			Manifests     json.RawMessage `json:"manifests"`
			Config        json.RawMessage `json:"config"`
		}
		if json.Unmarshal(raw, &probe) == nil {
			switch {
			case probe.SchemaVersion == 1:
				d.MediaType = mediaSchema1
			case probe.MediaType != "":
				d.MediaType = probe.MediaType
			case probe.Manifests != nil:
				d.MediaType = mediaOCIIndex
			case probe.Config != nil:
				d.MediaType = mediaOCIManifest
			}
		}
	}
	return raw, d, nil
}

// putManifest writes raw under ident (a tag or its digest) with its own
// media type. It reports whether the registry acknowledged a subject
// (OCI-Subject), which means it keeps the referrers list itself.
func (h *host) putManifest(ctx context.Context, repo, ident, mediaType string, raw []byte) (bool, error) {
	resp, err := h.do(ctx, call{
		method: http.MethodPut,
		url:    h.url(manifestPath(repo, ident)),
		header: http.Header{"Content-Type": {mediaType}},
		body: func(context.Context) (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(raw)), int64(len(raw)), nil
		},
		ok: []int{http.StatusOK, http.StatusCreated, http.StatusAccepted},
	})
	if err != nil {
		return false, fmt.Errorf("writing manifest %s:%s: %w", repo, ident, err)
	}
	drain(resp)
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != digestOf(raw) {
		return false, fmt.Errorf("writing manifest %s:%s: registry stored %s, not %s", repo, ident, got, digestOf(raw))
	}
	return resp.Header.Get("OCI-Subject") != "", nil
}

// getBlob reads a small blob (a config) and checks its digest.
func (h *host) getBlob(ctx context.Context, repo string, d Descriptor, limit int64) ([]byte, error) {
	var b []byte
	err := h.fetch(ctx, call{
		method: http.MethodGet,
		url:    h.url(blobPath(repo, d.Digest)),
		ok:     []int{http.StatusOK},
	}, func(resp *http.Response) error {
		var err error
		b, err = readLimited(resp.Body, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	if got := digestOf(b); got != d.Digest {
		return nil, fmt.Errorf("blob %s hashes to %s", d.Digest, got)
	}
	return b, nil
}

// listTags reads every page of a repository's tag list.
func (h *host) listTags(ctx context.Context, repo string) ([]string, error) {
	next := h.url("/v2/" + repo + "/tags/list?n=1000")
	seen := map[string]bool{}
	var tags []string
	for next != "" {
		if seen[next] {
			return nil, fmt.Errorf("tag list pages loop at %s", next)
		}
		seen[next] = true
		var page struct {
			Tags []string `json:"tags"`
		}
		var link string
		notFound := false
		current := next
		err := h.fetch(ctx, call{method: http.MethodGet, url: next, ok: []int{http.StatusOK, http.StatusNotFound}}, func(resp *http.Response) error {
			// The page as it was asked for: its scheme is the host's,
			// known only once the first request was answered.
			current = resp.Request.URL.String()
			if resp.StatusCode == http.StatusNotFound {
				notFound = true
				return nil
			}
			b, err := readLimited(resp.Body, tagPageLimit)
			if err != nil {
				return fmt.Errorf("reading tag list: %w", err)
			}
			if err := json.Unmarshal(b, &page); err != nil {
				return fmt.Errorf("parsing tag list: %w", err)
			}
			link = resp.Header.Get("Link")
			return nil
		})
		if err != nil {
			return nil, err
		}
		if notFound {
			if len(seen) == 1 {
				return nil, nil // the repository does not exist: no tags
			}
			return nil, fmt.Errorf("tag list page %s: %w", next, ErrNotFound)
		}
		tags = append(tags, page.Tags...)
		next, err = nextPage(current, link)
		if err != nil {
			return nil, err
		}
	}
	return tags, nil
}

// nextPage reads the rel="next" target of a Link header, resolved against
// the current page; it must stay on the same host and scheme.
func nextPage(current, link string) (string, error) {
	for _, part := range strings.Split(link, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
			continue
		}
		target = strings.Trim(strings.TrimSpace(target), "<>")
		u, err := resolveLocation(current, target)
		if err != nil {
			return "", err
		}
		cur, _ := url.Parse(current)
		if u.Host != cur.Host || u.Scheme != cur.Scheme {
			return "", fmt.Errorf("tag list Link points away from the registry (%s)", u.Host)
		}
		return u.String(), nil
	}
	return "", nil
}
