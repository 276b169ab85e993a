// Package registry reads and writes OCI registries for `release`: it
// resolves references to digests, reads manifests, configs and tag lists,
// and copies images by digest between repositories and registries, byte
// for byte, with their signatures and referrers.
//
// It is an adapter over go-containerregistry: its reference parsing,
// keychains, token exchange and media types, under a request layer of its
// own so that every request is one the copy needs (a promotion that has
// already happened costs one HEAD per tag at the destination). Methods take
// string references and return plain values; the package never prints and
// never decides policy: which tags to write, and whether a tag is
// immutable, is the caller's (package release) business.
package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Client talks to registries. It keeps one authenticated transport per
// registry host and reuses its token across calls; it is safe for
// concurrent use.
type Client struct {
	opts  options
	plain http.RoundTripper

	mu    sync.Mutex
	hosts map[string]*host
}

// New returns a Client. It fails only when the options do (an unreadable
// CA file, WithCAFile combined with WithTransport).
func New(opts ...Option) (*Client, error) {
	o := options{
		keychain:  authn.DefaultKeychain,
		jobs:      defaultJobs,
		userAgent: "release",
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.jobs < 1 {
		o.jobs = defaultJobs
	}
	o.retry = o.retry.withDefaults()
	base := o.transport
	if base == nil {
		t, err := newBaseTransport(&o)
		if err != nil {
			return nil, err
		}
		base = t
	} else if o.caFile != "" {
		return nil, errors.New("WithCAFile and WithTransport cannot be combined: configure the CA in the transport")
	}
	c := &Client{opts: o, hosts: map[string]*host{}}
	c.plain = &guard{inner: base, plainOK: c.opts.plainAllowed, userAgent: o.userAgent}
	return c, nil
}

// host returns the shared state of a registry host.
func (c *Client) host(name string) *host {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.hosts[name]
	if !ok {
		h = newHost(name, &c.opts, c.plain)
		c.hosts[name] = h
	}
	return h
}

// clean hides every secret the client has seen from err's text, keeping
// its chain for errors.Is and errors.As.
func (c *Client) clean(err error) error {
	if err == nil {
		return nil
	}
	c.mu.Lock()
	hosts := make([]*host, 0, len(c.hosts))
	for _, h := range c.hosts {
		hosts = append(hosts, h)
	}
	c.mu.Unlock()
	var secrets []string
	for _, h := range hosts {
		secrets = append(secrets, h.secretList()...)
	}
	// Longest first, so a secret that contains another is hidden whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	return &redactedError{err: err, secrets: secrets}
}

// Descriptor names a manifest or blob: its digest, media type and size.
type Descriptor struct {
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	// ArtifactType is set for referrers (the artifact's type).
	ArtifactType string `json:"artifactType,omitempty"`
	// Annotations are the descriptor's annotations, when a listing
	// carried them (referrers, index entries).
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Resolve returns the descriptor of the manifest ref names (a tag, a
// digest, or "repo:tag@digest"; no tag means "latest"). It costs one HEAD,
// and a GET when the registry's HEAD answer lacks Docker-Content-Digest.
func (c *Client) Resolve(ctx context.Context, ref string) (Descriptor, error) {
	r, err := parseReference(ref, "latest")
	if err != nil {
		return Descriptor{}, err
	}
	h := c.host(r.registry)
	if err := h.prepare(ctx, pullScope(r.repo)); err != nil {
		return Descriptor{}, c.clean(fmt.Errorf("resolving %s: %w", r, err))
	}
	d, err := h.resolve(ctx, r)
	if err != nil {
		return Descriptor{}, c.clean(err)
	}
	return d, nil
}

// Manifest returns the raw bytes of the manifest ref names, exactly as the
// registry stores them, and its descriptor. Docker schema 1 manifests are
// refused with ErrUnsupported.
func (c *Client) Manifest(ctx context.Context, ref string) ([]byte, Descriptor, error) {
	r, err := parseReference(ref, "latest")
	if err != nil {
		return nil, Descriptor{}, err
	}
	return c.manifest(ctx, r)
}

// manifest is Manifest of a parsed reference.
func (c *Client) manifest(ctx context.Context, r reference) ([]byte, Descriptor, error) {
	h := c.host(r.registry)
	if err := h.prepare(ctx, pullScope(r.repo)); err != nil {
		return nil, Descriptor{}, c.clean(fmt.Errorf("reading manifest %s: %w", r, err))
	}
	raw, d, err := h.getManifest(ctx, r.repo, r.identifier())
	if err != nil {
		return nil, Descriptor{}, c.clean(fmt.Errorf("reading manifest %s: %w", r, err))
	}
	if r.digest != "" && d.Digest != r.digest {
		return nil, Descriptor{}, fmt.Errorf("reading manifest %s: registry sent %s", r, d.Digest)
	}
	if err := supported(d.MediaType); err != nil {
		return nil, Descriptor{}, fmt.Errorf("reading manifest %s: %w", r, err)
	}
	return raw, d, nil
}

// Config returns the raw image config of the image ref names. For an index
// it reads the linux/amd64 image when there is one, else the first entry
// that is not an attestation (platform unknown/unknown).
func (c *Client) Config(ctx context.Context, ref string) ([]byte, error) {
	r, err := parseReference(ref, "latest")
	if err != nil {
		return nil, err
	}
	raw, d, err := c.manifest(ctx, r)
	if err != nil {
		return nil, err
	}
	h := c.host(r.registry)
	if isIndex(d.MediaType) {
		child, err := pickImage(raw)
		if err != nil {
			return nil, fmt.Errorf("reading config of %s: %w", r, err)
		}
		if raw, d, err = h.getManifest(ctx, r.repo, child.Digest); err != nil {
			return nil, c.clean(fmt.Errorf("reading config of %s: %w", r, err))
		}
	}
	m, err := parseManifest(d.MediaType, raw)
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", r, err)
	}
	if m.Config == nil {
		return nil, fmt.Errorf("reading config of %s: manifest %s has no config: %w", r, d.Digest, ErrUnsupported)
	}
	b, err := h.getBlob(ctx, r.repo, *m.Config, configLimit)
	if err != nil {
		return nil, c.clean(fmt.Errorf("reading config of %s: %w", r, err))
	}
	return b, nil
}

// Blob returns the bytes of a small blob (a config, an in-toto statement)
// that ref names by digest ("host/repo@sha256:…"), checked against the
// digest. It costs one GET (and the redirect to storage some registries
// answer with). Blobs over 8 MiB are refused with ErrTooLarge: this is for
// documents, not layers.
func (c *Client) Blob(ctx context.Context, ref string) ([]byte, error) {
	r, err := parseReference(ref, "")
	if err != nil {
		return nil, err
	}
	if r.digest == "" {
		return nil, fmt.Errorf("reading blob %s: a blob is named by digest (repo@sha256:…): %w", ref, ErrInvalidReference)
	}
	h := c.host(r.registry)
	if err := h.prepare(ctx, pullScope(r.repo)); err != nil {
		return nil, c.clean(fmt.Errorf("reading blob %s: %w", r.repository()+"@"+r.digest, err))
	}
	b, err := h.getBlob(ctx, r.repo, Descriptor{Digest: r.digest}, configLimit)
	if err != nil {
		return nil, c.clean(fmt.Errorf("reading blob %s: %w", r.repository()+"@"+r.digest, err))
	}
	return b, nil
}

// Tags returns every tag of the repository, following the Link header
// across pages, in the registry's order. A repository the registry does
// not know has no tags (no error).
func (c *Client) Tags(ctx context.Context, repo string) ([]string, error) {
	r, err := parseReference(repo, "")
	if err != nil {
		return nil, err
	}
	if r.tag != "" || r.digest != "" {
		return nil, fmt.Errorf("listing tags: %q names an image, not a repository: %w", repo, ErrInvalidReference)
	}
	h := c.host(r.registry)
	if err := h.prepare(ctx, pullScope(r.repo)); err != nil {
		return nil, c.clean(fmt.Errorf("listing tags of %s: %w", r.repository(), err))
	}
	tags, err := h.listTags(ctx, r.repo)
	if err != nil {
		return nil, c.clean(fmt.Errorf("listing tags of %s: %w", r.repository(), err))
	}
	return tags, nil
}
