package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// CopyOptions says what a Copy writes besides the image.
type CopyOptions struct {
	// Tags are written after the exact tag, in this order, and may move
	// (they are the floating tags: "1.2", "1", "latest"; pass them last
	// in the order you want them to change).
	Tags []string
	// Force lets the exact tag move when it names another digest; without
	// it that is a *TagConflictError and nothing is written.
	Force bool
	// DryRun reads everything a copy would read and returns the plan, with
	// the actions that would be taken; it writes nothing.
	DryRun bool
	// NoAttachments skips the cosign tags (sha256-<hex>.sig|.att|.sbom) and
	// OCI referrers of the digest and of its child manifests.
	NoAttachments bool
	// Known are destination tags (the exact tag, Tags) the caller has just
	// read, and what they name: a zero Descriptor for a tag that is
	// absent. Copy takes them as they are instead of checking them again.
	// Default: every tag is checked.
	Known map[string]Descriptor
}

// Action is what a copy did (or, in a dry run, would do) to a tag or an
// attachment.
type Action string

// Actions of a Copy.
const (
	// ActionCreated means the tag (or attachment) did not exist.
	ActionCreated Action = "created"
	// ActionUnchanged means it already named the digest: nothing written.
	ActionUnchanged Action = "unchanged"
	// ActionMoved means it named another digest (its Previous) and now
	// names the copied one.
	ActionMoved Action = "moved"
)

// TagResult is what happened to one destination tag.
type TagResult struct {
	Tag    string `json:"tag"`
	Action Action `json:"action"`
	// Previous is the digest the tag named before a move.
	Previous string `json:"previous,omitempty"`
}

// AttachmentResult is what happened to one attachment at the destination.
type AttachmentResult struct {
	Attachment
	Action Action `json:"action"`
}

// CopyResult reports a Copy: the digest, what each tag and attachment
// became, and what moved over the wire.
type CopyResult struct {
	// Source is the source repository and digest ("host/repo@sha256:…").
	Source string `json:"source"`
	// Destination is the destination repository ("host/repo").
	Destination string `json:"destination"`
	// Digest and MediaType describe the copied manifest.
	Digest    string `json:"digest"`
	MediaType string `json:"media_type"`
	// Tags in write order: the exact tag first, then CopyOptions.Tags.
	Tags []TagResult `json:"tags"`
	// Attachments are the signatures, attestations, SBOMs and referrers
	// found at the source, and what became of them.
	Attachments []AttachmentResult `json:"attachments,omitempty"`
	// ManifestsWritten counts the manifests written besides the image's
	// tags: child manifests, the manifest by digest, attachments.
	ManifestsWritten int `json:"manifests_written"`
	// BlobsCopied were streamed from the source, BlobsMounted were mounted
	// from the source repository inside one registry, BlobsSkipped were
	// already at the destination.
	BlobsCopied  int   `json:"blobs_copied"`
	BlobsMounted int   `json:"blobs_mounted"`
	BlobsSkipped int   `json:"blobs_skipped"`
	BytesCopied  int64 `json:"bytes_copied"`
	// DryRun is set when nothing was written: the counts and actions are
	// what a copy would do.
	DryRun bool `json:"dry_run,omitempty"`
}

// Copy copies the image src names (a tag, a digest, or "repo:tag@digest")
// to dst (a repository, or "repository:tag"), by digest and byte for byte:
// manifests keep their bytes and media types, an index keeps every
// platform and attestation manifest.
//
// The exact tag is dst's tag, else src's tag; it is checked first (unless
// opts.Known says what it names): absent means copy, the same digest means
// nothing to copy (one HEAD at the destination, and no source read at all
// when src carries the digest), another digest is a *TagConflictError with
// nothing written, unless opts.Force. Writes go blobs (only the missing ones; mounted inside one
// registry) → child manifests by digest → attachments → the manifest under
// the exact tag → opts.Tags in order, so a tag never names a manifest whose
// content is not all there, and a copy that stops half-way is finished by
// running it again, without sending again what arrived.
func (c *Client) Copy(ctx context.Context, src, dst string, opts CopyOptions) (*CopyResult, error) {
	res, err := c.copy(ctx, src, dst, opts)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("copying %s: %w (%v)", src, ctx.Err(), err)
	}
	return res, c.clean(err)
}

// Tag points tags at the manifest ref names inside its own repository:
// tag is the exact tag (immutable, as in Copy) and opts.Tags the floating
// ones. Only manifests are written; attachments are not touched (they key
// off the digest, which does not change).
func (c *Client) Tag(ctx context.Context, ref, tag string, opts CopyOptions) (*CopyResult, error) {
	r, err := parseReference(ref, "latest")
	if err != nil {
		return nil, err
	}
	opts.NoAttachments = true
	return c.Copy(ctx, ref, r.repository()+":"+tag, opts)
}

// copier is the state of one Copy.
type copier struct {
	c        *Client
	src, dst reference
	sh, dh   *host
	sameHost bool
	sameRepo bool
	opts     CopyOptions
	jobs     int

	// mountRefused is set once the destination answered a mount with an
	// error: the blobs left are uploaded without asking.
	mountRefused atomic.Bool

	mu       sync.Mutex
	res      *CopyResult
	blobs    map[string]*blobTask
	progress Update
}

func (c *Client) copy(ctx context.Context, src, dst string, opts CopyOptions) (*CopyResult, error) {
	sr, err := parseReference(src, "latest")
	if err != nil {
		return nil, err
	}
	dr, err := parseReference(dst, "")
	if err != nil {
		return nil, err
	}
	if dr.digest != "" {
		return nil, fmt.Errorf("copy destination %q: name a repository or a tag, not a digest: %w", dst, ErrInvalidReference)
	}
	if dr.tag == "" {
		dr.tag = sr.tag
	}
	var floating []string
	for _, t := range opts.Tags {
		if err := validTag(t); err != nil {
			return nil, err
		}
		if t != dr.tag && !slices.Contains(floating, t) {
			floating = append(floating, t)
		}
	}
	if dr.tag != "" {
		if err := validTag(dr.tag); err != nil {
			return nil, err
		}
	}
	cp := &copier{
		c: c, src: sr, dst: dr,
		sh: c.host(sr.registry), dh: c.host(dr.registry),
		sameHost: sr.registry == dr.registry,
		opts:     opts,
		jobs:     c.opts.jobs,
		blobs:    map[string]*blobTask{},
		res:      &CopyResult{Destination: dr.repository(), DryRun: opts.DryRun},
	}
	cp.sameRepo = cp.sameHost && sr.repo == dr.repo
	cp.opts.Tags = floating
	if err := cp.run(ctx); err != nil {
		return nil, err
	}
	return cp.res, nil
}

// authorize gets every scope the destination needs in one token: pull and
// push (pull only in a dry run), plus pull on the source repository when
// it is in the same registry (mounts). The source registry is prepared
// when first needed (see source).
func (cp *copier) authorize(ctx context.Context) error {
	dstScope := pushScope(cp.dst.repo)
	if cp.opts.DryRun {
		dstScope = pullScope(cp.dst.repo)
	}
	if cp.sameHost && !cp.sameRepo {
		return cp.dh.prepare(ctx, dstScope, pullScope(cp.src.repo))
	}
	return cp.dh.prepare(ctx, dstScope)
}

// source prepares the source registry, on first use only: a copy whose
// exact tag already names the given digest never contacts the source.
// Inside one registry the destination's token covers it already.
func (cp *copier) source(ctx context.Context) error {
	if cp.sameHost {
		return nil
	}
	if err := cp.sh.prepare(ctx, pullScope(cp.src.repo)); err != nil {
		return fmt.Errorf("reading %s: %w", cp.src.repository(), err)
	}
	return nil
}

func (cp *copier) run(ctx context.Context) error {
	top, exact, err := cp.check(ctx)
	if err != nil {
		return err
	}
	if exact != nil && exact.Action == ActionUnchanged {
		return cp.finishUnchanged(ctx, top, exact)
	}
	return cp.copyGraph(ctx, top, exact)
}

// check learns the source digest (given, or one HEAD at the source) and
// what the exact tag names at the destination (one HEAD). Across two
// registries both chains (ping, token, HEAD) run at once, so a promotion
// that has already happened costs the latency of one registry, not two.
func (cp *copier) check(ctx context.Context) (Descriptor, *TagResult, error) {
	top := Descriptor{Digest: cp.src.digest}
	var have Descriptor
	var found bool
	checkSource := func(ctx context.Context) error {
		if top.Digest != "" {
			return nil
		}
		if err := cp.source(ctx); err != nil {
			return err
		}
		var err error
		top, err = cp.sh.resolve(ctx, cp.src)
		return err
	}
	authorize := func(ctx context.Context) error {
		if err := cp.authorize(ctx); err != nil {
			return fmt.Errorf("copying %s to %s: %w", cp.src, cp.dst.repository(), err)
		}
		return nil
	}
	checkDestination := func(ctx context.Context) error {
		if !cp.sameHost {
			if err := authorize(ctx); err != nil {
				return err
			}
		}
		if cp.dst.tag == "" {
			return nil
		}
		var err error
		have, found, err = cp.destinationTag(ctx, cp.dst.tag)
		return err
	}
	if cp.sameHost {
		// One registry, one token: it must cover the source repository
		// before the source is read.
		if err := authorize(ctx); err != nil {
			return Descriptor{}, nil, err
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return checkSource(gctx) })
	g.Go(func() error { return checkDestination(gctx) })
	if err := g.Wait(); err != nil {
		return Descriptor{}, nil, err
	}
	cp.res.Source = cp.src.repository() + "@" + top.Digest
	cp.res.Digest = top.Digest

	// The exact tag decides everything else.
	if cp.dst.tag == "" {
		return top, nil, nil
	}
	exact := &TagResult{Tag: cp.dst.tag, Action: ActionCreated}
	if found {
		switch {
		case have.Digest == top.Digest:
			exact.Action = ActionUnchanged
			top.MediaType, top.Size = have.MediaType, have.Size
		case !cp.opts.Force:
			return Descriptor{}, nil, &TagConflictError{Repository: cp.dst.repository(), Tag: cp.dst.tag, Have: have.Digest, Want: top.Digest}
		default:
			exact.Action, exact.Previous = ActionMoved, have.Digest
		}
	}
	return top, exact, nil
}

// finishUnchanged is the cheap path: the exact tag already names the
// digest, so the image and its content are there (tags are only ever
// written after their content). What is left: attachments of the digest
// that arrived at the source since, and the floating tags.
func (cp *copier) finishUnchanged(ctx context.Context, top Descriptor, exact *TagResult) error {
	cp.res.MediaType = top.MediaType
	cp.res.Tags = append(cp.res.Tags, *exact)
	if !cp.opts.NoAttachments && !cp.sameRepo {
		if err := cp.attachAll(ctx, []string{top.Digest}); err != nil {
			return err
		}
	}
	var raw []byte
	rawOf := func() ([]byte, error) {
		if raw != nil {
			return raw, nil
		}
		if err := cp.source(ctx); err != nil {
			return nil, err
		}
		b, d, err := cp.sh.getManifest(ctx, cp.src.repo, top.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", cp.res.Source, err)
		}
		raw, cp.res.MediaType = b, d.MediaType
		return raw, nil
	}
	return cp.writeFloating(ctx, top.Digest, rawOf)
}

// copyGraph is the full path: read the source graph, send what the
// destination lacks, then write the tags.
func (cp *copier) copyGraph(ctx context.Context, top Descriptor, exact *TagResult) error {
	if err := cp.source(ctx); err != nil {
		return err
	}
	raw, d, err := cp.sh.getManifest(ctx, cp.src.repo, top.Digest)
	if err != nil {
		return fmt.Errorf("reading %s: %w", cp.res.Source, err)
	}
	if err := supported(d.MediaType); err != nil {
		return fmt.Errorf("copying %s: %w", cp.res.Source, err)
	}
	cp.res.MediaType = d.MediaType

	// Is the manifest itself already at the destination (an earlier run
	// that stopped before its tags, a retag)? Then its content is too.
	present := cp.sameRepo
	if !present {
		_, found, err := cp.dh.headManifest(ctx, cp.dst.repo, d.Digest, true)
		if err != nil {
			return fmt.Errorf("checking %s@%s: %w", cp.dst.repository(), d.Digest, err)
		}
		present = found
	}
	root := &node{desc: d, raw: raw}
	if !present {
		if err := cp.plan(ctx, cp.src.repo, root); err != nil {
			return err
		}
	}

	// Attachments of the digest and of every child image.
	var atts []*attachmentPlan
	if !cp.opts.NoAttachments && !cp.sameRepo {
		subjects := []string{d.Digest}
		if isIndex(d.MediaType) {
			m, err := parseManifest(d.MediaType, raw)
			if err != nil {
				return err
			}
			for _, e := range m.Manifests {
				if isImage(e.MediaType) && !attestationEntry(e) {
					subjects = append(subjects, e.Digest)
				}
			}
		}
		if atts, err = cp.planAttachments(ctx, subjects); err != nil {
			return err
		}
	}

	// Blobs first (image and attachments), then manifests bottom-up.
	var nodes []*node
	if !present {
		nodes = append(nodes, root)
	}
	for _, a := range atts {
		if a.node != nil {
			nodes = append(nodes, a.node)
		}
	}
	if err := cp.sendBlobs(ctx, nodes); err != nil {
		return err
	}
	if !present {
		if err := cp.writeChildren(ctx, root); err != nil {
			return err
		}
	}

	// The manifest itself: by digest when attachments must follow it (a
	// referrer's subject must exist first) or when there is no exact tag;
	// else straight under the exact tag, which writes both at once.
	byTag := exact != nil && len(atts) == 0
	if !present && !byTag {
		if _, err := cp.putManifest(ctx, d.Digest, d, raw); err != nil {
			return err
		}
	}
	if err := cp.writeAttachments(ctx, atts); err != nil {
		return err
	}
	if exact != nil {
		if !cp.opts.DryRun {
			if _, err := cp.dh.putManifest(ctx, cp.dst.repo, exact.Tag, d.MediaType, raw); err != nil {
				return err
			}
		}
		cp.res.Tags = append(cp.res.Tags, *exact)
	}
	return cp.writeFloating(ctx, d.Digest, func() ([]byte, error) { return raw, nil })
}

// writeFloating checks each floating tag and points the ones that name
// something else at the digest, in order.
func (cp *copier) writeFloating(ctx context.Context, dgst string, raw func() ([]byte, error)) error {
	if len(cp.opts.Tags) == 0 {
		return nil
	}
	results := make([]TagResult, len(cp.opts.Tags))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cp.jobs)
	for i, t := range cp.opts.Tags {
		g.Go(func() error {
			have, found, err := cp.destinationTag(gctx, t)
			if err != nil {
				return err
			}
			results[i] = TagResult{Tag: t, Action: ActionCreated}
			if found && have.Digest == dgst {
				results[i].Action = ActionUnchanged
			} else if found {
				results[i] = TagResult{Tag: t, Action: ActionMoved, Previous: have.Digest}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, r := range results {
		if r.Action != ActionUnchanged && !cp.opts.DryRun {
			b, err := raw()
			if err != nil {
				return err
			}
			if _, err := cp.dh.putManifest(ctx, cp.dst.repo, r.Tag, cp.res.MediaType, b); err != nil {
				return err
			}
		}
		cp.res.Tags = append(cp.res.Tags, r)
	}
	return nil
}

// destinationTag is what tag names at the destination: what opts.Known
// says, else one HEAD.
func (cp *copier) destinationTag(ctx context.Context, tag string) (Descriptor, bool, error) {
	if d, ok := cp.opts.Known[tag]; ok {
		return d, d.Digest != "", nil
	}
	d, found, err := cp.dh.headManifest(ctx, cp.dst.repo, tag, true)
	if err != nil {
		return Descriptor{}, false, fmt.Errorf("checking %s:%s: %w", cp.dst.repository(), tag, err)
	}
	return d, found, nil
}

// node is a manifest to send: its bytes, and the child manifests the
// destination lacks.
type node struct {
	desc     Descriptor
	raw      []byte
	m        *manifest
	children []*node
}

// plan reads the manifest graph under n at the source (repo), keeping only
// the child manifests the destination does not have: a child that is
// there is complete, so its whole subtree is skipped. (Inside one
// repository everything is there: plan is not called.)
func (cp *copier) plan(ctx context.Context, repo string, n *node) error {
	if err := supported(n.desc.MediaType); err != nil {
		return fmt.Errorf("copying %s@%s: %w", repo, n.desc.Digest, err)
	}
	m, err := parseManifest(n.desc.MediaType, n.raw)
	if err != nil {
		return err
	}
	n.m = m
	if !isIndex(n.desc.MediaType) {
		return nil
	}
	children := make([]*node, len(m.Manifests))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cp.jobs)
	for i, e := range m.Manifests {
		g.Go(func() error {
			_, found, err := cp.dh.headManifest(gctx, cp.dst.repo, e.Digest, true)
			if err != nil {
				return fmt.Errorf("checking %s@%s: %w", cp.dst.repository(), e.Digest, err)
			}
			if found {
				return nil
			}
			raw, d, err := cp.sh.getManifest(gctx, repo, e.Digest)
			if err != nil {
				return fmt.Errorf("reading %s@%s: %w", repo, e.Digest, err)
			}
			if e.MediaType != "" && d.MediaType != e.MediaType {
				// The index's descriptor is authoritative for the type the
				// child is written with; the bytes are the same.
				d.MediaType = e.MediaType
			}
			child := &node{desc: d, raw: raw}
			if err := cp.plan(gctx, repo, child); err != nil {
				return err
			}
			children[i] = child
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, ch := range children {
		if ch != nil {
			n.children = append(n.children, ch)
		}
	}
	return nil
}

// blobsOf lists the distributable blobs of the image manifests under n.
func blobsOf(n *node, out []Descriptor) []Descriptor {
	if n.m == nil {
		return out
	}
	if n.m.Config != nil {
		out = append(out, *n.m.Config)
	}
	for _, l := range n.m.Layers {
		if !foreignLayer(l.MediaType) {
			out = append(out, l)
		}
	}
	for _, ch := range n.children {
		out = blobsOf(ch, out)
	}
	return out
}

// foreignLayer reports layers that are not distributed through registries
// (Windows base layers): they are referenced, never copied.
func foreignLayer(mt string) bool {
	switch mt {
	case "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd":
		return true
	}
	return false
}

// writeChildren writes the child manifests under n, deepest first, each
// level in parallel.
func (cp *copier) writeChildren(ctx context.Context, n *node) error {
	if len(n.children) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cp.jobs)
	for _, ch := range n.children {
		g.Go(func() error {
			if err := cp.writeChildren(gctx, ch); err != nil {
				return err
			}
			_, err := cp.putManifest(gctx, ch.desc.Digest, ch.desc, ch.raw)
			return err
		})
	}
	return g.Wait()
}

// putManifest writes a manifest other than the image's tags at the
// destination, by digest (or under a cosign tag), and counts it; in a dry
// run it only counts. It reports whether the registry acknowledged a
// subject (see host.putManifest).
func (cp *copier) putManifest(ctx context.Context, ident string, d Descriptor, raw []byte) (bool, error) {
	acked := false
	if !cp.opts.DryRun {
		var err error
		if acked, err = cp.dh.putManifest(ctx, cp.dst.repo, ident, d.MediaType, raw); err != nil {
			return false, err
		}
	}
	cp.mu.Lock()
	cp.res.ManifestsWritten++
	cp.mu.Unlock()
	return acked, nil
}
