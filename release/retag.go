package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/releasetool/release/registry"
)

// RetagOptions are the arguments and flags of `release retag`.
type RetagOptions struct {
	// Image is a tag or digest reference.
	Image string
	// Tags are the tags to point at it, inside its repository, written in
	// this order.
	Tags []string
	// Force moves a version tag that names another image.
	Force bool
	// DryRun reads everything and writes nothing.
	DryRun bool
	// Jobs bounds the checks and reads in flight. Default 8.
	Jobs int
}

// RetagResult is the report of a retag; its JSON form is the contract of
// `release retag --json`.
type RetagResult struct {
	// Image is IMAGE as given; Digest what it resolved to; Repository its
	// repository, where the tags are.
	Image      string `json:"image"`
	Digest     string `json:"digest"`
	Repository string `json:"repository"`
	// Version and Revision describe the image, as `release inspect` reads
	// them (empty when it does not say).
	Version  string `json:"version"`
	Revision string `json:"revision"`
	// Tags in the order they were written.
	Tags []TagAction `json:"tags"`
	// Previous lists what the moved tags named before.
	Previous []PreviousImage `json:"previous"`

	// DryRun is set when nothing was written.
	DryRun bool `json:"-"`
}

// Retag points tags at the image Image names, inside its repository, by
// manifest writes only (the image keeps its digest; its blobs and
// attachments are already there). The immutability rule of the tag
// policy holds: a tag that reads as a version (VersionOfTag) is an exact
// tag, and naming another image makes it ErrConflict with nothing
// written, unless Force; any other tag (latest, 1.2, stable, sha-…) moves,
// which is how a rollback is done. What the moved tags named before is
// inspected before anything is written (Previous).
func Retag(ctx context.Context, deps PromoteDeps, opts RetagOptions) (*RetagResult, error) {
	if deps.Registry == nil {
		return nil, errors.New("retag: no registry client")
	}
	ref, err := parseImageRef(opts.Image)
	if err != nil {
		return nil, err
	}
	if len(opts.Tags) == 0 {
		return nil, fmt.Errorf("retag: no tag to add: %w", ErrInvalid)
	}
	var plan []plannedTag
	for _, t := range opts.Tags {
		if err := ValidTag(t); err != nil {
			return nil, WithHint(err, "a tag is a name inside the image's repository (latest, 1.2, stable), not a reference")
		}
		if slices.ContainsFunc(plan, func(p plannedTag) bool { return p.Name == t }) {
			continue
		}
		_, version := VersionOfTag(t)
		plan = append(plan, plannedTag{Name: t, Immutable: version})
	}
	jobs := orDefault(opts.Jobs, defaultPromoteJobs)
	reg := deps.Registry
	if err := reg.Announce([]string{ref.repo}, writes(ref.repo, opts.DryRun)); err != nil {
		return nil, err
	}

	// The image and the tags at once: one GET of the image's manifest
	// (its digest is the hash of the bytes, and Inspect reads it from
	// there), then its config, beside one HEAD per tag. The image is
	// described for the report only, so an image inspect cannot read (an
	// artifact without a config) can still be tagged. No tag list: a
	// retag names its few tags, and a HEAD answers for each as cheaply as
	// the list would (a re-run with every tag in place costs the manifest,
	// the config and a HEAD per tag; a list would add a request, or one
	// per page of a large repository).
	var (
		desc   registry.Descriptor
		states []tagState
	)
	res := &RetagResult{Image: opts.Image, Repository: ref.repo, DryRun: opts.DryRun}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		raw, d, err := reg.Manifest(gctx, opts.Image)
		if err != nil {
			return err
		}
		desc = d
		byDigest := ref.repo + "@" + d.Digest
		images := &knownManifest{Images: reg, ref: byDigest, raw: raw, desc: d, reading: make(chan struct{})}
		info, err := Inspect(gctx, images, byDigest, InspectOptions{Jobs: jobs})
		switch {
		case info != nil && (err == nil || errors.Is(err, ErrNoRevision)):
			res.Version, res.Revision = info.Version, info.Revision
		case gctx.Err() == nil:
			deps.warnf("describing %s: %v", opts.Image, err)
		}
		return nil
	})
	g.Go(func() error {
		// Every planned tag counts as listed: each gets its HEAD.
		var err error
		states, err = checkTags(gctx, reg, ref.repo, plan, tagNames(plan), nil, jobs)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res.Digest = desc.Digest
	if err := conflicts(ref.repo, states, desc.Digest, opts.Force); err != nil {
		return nil, err
	}
	res.Previous = previousImages(ctx, reg, ref.repo, states, desc.Digest, jobs, deps)

	var moving []string
	known := map[string]registry.Descriptor{}
	for _, s := range states {
		known[s.Name] = s.Desc
		if !s.unchanged(desc.Digest) {
			moving = append(moving, s.Name)
		}
	}
	var cres *registry.CopyResult
	if len(moving) > 0 {
		deps.logf("tagging %s (%s) as %s", opts.Image, desc.Digest, strings.Join(moving, " "))
		// No tag on either side: Copy writes no exact tag and checks
		// nothing as immutable (done above, for every version tag); the
		// manifest is already in the repository, so only tags are written.
		// The tags were just read: the copy does not read them again.
		cres, err = reg.Copy(ctx, ref.repo+"@"+desc.Digest, ref.repo, registry.CopyOptions{
			Tags: moving, DryRun: opts.DryRun, NoAttachments: true, Known: known,
		})
		if err != nil {
			return nil, err
		}
	}
	res.Tags, res.Previous = tagActions(ctx, reg, ref.repo, states, cres, res.Previous, desc.Digest, jobs, deps)
	return res, nil
}
