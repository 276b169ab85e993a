package release

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
	"golang.org/x/sync/errgroup"

	"github.com/releasetool/release/registry"
)

// PromoteRegistry is what Promote and Retag need of registries: the reads
// of Inspect (the same code `release inspect` runs, so promote tells what
// an image is exactly as inspect does), the attachments of a digest, and
// the digest-preserving Copy. *registry.Client has it.
type PromoteRegistry interface {
	Images
	Attachments(ctx context.Context, ref string) ([]registry.Attachment, error)
	Referrers(ctx context.Context, ref string) ([]registry.Descriptor, error)
	Copy(ctx context.Context, src, dst string, opts registry.CopyOptions) (*registry.CopyResult, error)
	// Announce says which repositories will be read and written, before
	// the first request (one token exchange per registry).
	Announce(read, write []string) error
}

var _ PromoteRegistry = (*registry.Client)(nil)

// PromoteDeps are the outside world Promote and Retag work with.
type PromoteDeps struct {
	Registry PromoteRegistry
	// Warnf and Logf reach a person (stderr); nil drops the message.
	Warnf func(format string, args ...any)
	Logf  func(format string, args ...any)
}

func (d PromoteDeps) warnf(format string, args ...any) {
	if d.Warnf != nil {
		d.Warnf(format, args...)
	}
}

func (d PromoteDeps) logf(format string, args ...any) {
	if d.Logf != nil {
		d.Logf(format, args...)
	}
}

// PromoteOptions are the arguments and flags of `release promote` (SPEC §5).
type PromoteOptions struct {
	// Source is SRC: a tag or digest reference (host/repo:tag,
	// host/repo@sha256:…, host/repo:tag@sha256:…).
	Source string
	// Destination is DST: a repository, or repository:tag to write that
	// one tag instead of the tag policy's (docs/promote.md).
	Destination string
	// AllowUnlabeled promotes an image that names no revision.
	AllowUnlabeled bool
	// Force moves an exact tag that names another image.
	Force bool
	// DryRun reads everything and writes nothing.
	DryRun bool
	// NoSignatures leaves cosign tags and OCI referrers behind.
	NoSignatures bool
	// Tags are the tag policy's knobs; Commit is ignored (the sha tag
	// names the image's own revision).
	Tags TagOptions
	// Jobs bounds the tag checks and image reads in flight. Default 8.
	Jobs int
}

// TagAction is what a promotion or a retag did (or, in a dry run, would
// do) to one tag: created, unchanged or moved.
type TagAction struct {
	Tag    string          `json:"tag"`
	Action registry.Action `json:"action"`
}

// PreviousImage is an image the destination's tags named before they
// moved: what the destination ran before, under those tags.
type PreviousImage struct {
	// Tags are the tags that named it and now name the promoted image.
	Tags   []string `json:"tags"`
	Digest string   `json:"digest"`
	// Version and Revision are read as `release inspect` reads them; empty
	// when the image does not say (or could not be read: see Warnings).
	Version  string `json:"version"`
	Revision string `json:"revision"`
}

// PromoteResult is the report of a promotion. Its JSON form is the
// contract of `release promote --json` (SPEC §5 plus previous); the other
// fields are for the person reading the command's output.
type PromoteResult struct {
	// Source is SRC as given; Digest what it resolved to.
	Source string `json:"source"`
	Digest string `json:"digest"`
	// Destination is the destination repository (host/path).
	Destination string `json:"destination"`
	// Version is the version promoted ("" when SRC had none and DST named
	// the tag).
	Version string `json:"version"`
	// Tags in the order they were written: exact, sha, then the floating
	// tags of SPEC §3.
	Tags []TagAction `json:"tags"`
	// BlobsCopied counts the blobs the destination repository received,
	// uploaded or mounted from another repository of its registry;
	// BlobsSkipped those it had; BytesCopied the bytes uploaded.
	BlobsCopied  int   `json:"blobs_copied"`
	BlobsSkipped int   `json:"blobs_skipped"`
	BytesCopied  int64 `json:"bytes_copied"`
	// Previous lists what the moved tags named before.
	Previous []PreviousImage `json:"previous"`

	// Revision is the commit the image was built from ("" for an
	// unlabeled image, or one whose platforms disagree).
	Revision string `json:"-"`
	// MediaType is the promoted manifest's.
	MediaType string `json:"-"`
	// BlobsMounted is the part of BlobsCopied that was mounted.
	BlobsMounted int `json:"-"`
	// Attachments are the signatures and referrers found, and what became
	// of them (none with NoSignatures).
	Attachments []registry.AttachmentResult `json:"-"`
	// DryRun is set when nothing was written.
	DryRun bool `json:"-"`
}

// defaultPromoteJobs bounds the checks in flight, as the registry client's
// own default does.
const defaultPromoteJobs = 8

// Promote copies the image Source names to Destination by digest, byte for
// byte, and points the tags of the tag policy at it (SPEC §5):
//
//  1. it reads the source (Inspect: digest, version and revision per
//     platform; its attachments) and the destination (its tags, what the
//     tags the version may get name, its copies of the attachments) at
//     once, each read starting as soon as what it needs is known
//     (readPromotion);
//  2. it refuses an image without a revision unless AllowUnlabeled;
//  3. the version is the source tag when it is one (VersionOfTag), else the
//     version every platform's label agrees on;
//  4. the tags are PlanTags of that version against the versions the
//     destination's own tags name, with the sha tag of the revision;
//  5. every tag's state at the destination is known by then: an exact tag
//     naming another image is ErrConflict (exit 3) with nothing written,
//     unless Force; the images the moving tags name are inspected
//     (Previous) before anything is written;
//  6. Copy writes blobs, manifests, attachments, the exact tag, then the
//     other tags in policy order, skipping tags that already name the
//     digest; it is told what each tag names (it does not read them
//     again), and it is not called at all when every tag names the digest
//     and the destination has every attachment.
//
// A promotion that has already happened writes nothing and costs, at the
// destination, the tag list and one HEAD per tag, plus a HEAD per cosign
// tag the source has and the referrers lookup when it has referrers
// (unless NoSignatures); its longest chain of sequential round trips is
// the source's manifest and config reads followed by the sha tag's HEAD
// (docs/promote.md).
func Promote(ctx context.Context, deps PromoteDeps, opts PromoteOptions) (*PromoteResult, error) {
	if deps.Registry == nil {
		return nil, errors.New("promote: no registry client")
	}
	src, err := parseImageRef(opts.Source)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	dst, err := parseImageRef(opts.Destination)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	if dst.digest != "" {
		return nil, WithHint(fmt.Errorf("destination %q names a digest: name a repository or repository:tag: %w", opts.Destination, ErrInvalid),
			"the image keeps its digest; DST says where it goes and under which tag")
	}
	if dst.tag != "" {
		if err := ValidTag(dst.tag); err != nil {
			return nil, fmt.Errorf("destination: %w", err)
		}
	}
	jobs := orDefault(opts.Jobs, defaultPromoteJobs)
	reg := deps.Registry
	// The destination may be written (whether a re-run has anything to
	// write is not known yet): its token asks for push from the first
	// exchange instead of a second exchange for the copy; a dry run reads
	// only (docs/registry.md).
	if err := reg.Announce([]string{src.repo, dst.repo}, writes(dst.repo, opts.DryRun)); err != nil {
		return nil, err
	}

	r, err := readPromotion(ctx, reg, opts, src, dst, jobs)
	if err != nil {
		return nil, err
	}
	info, noRev, listed := r.info, r.noRev, r.listed
	if noRev != nil {
		if !opts.AllowUnlabeled {
			return nil, WithHint(fmt.Errorf("refusing to promote an image that cannot be traced to a commit: %w", noRev),
				"label it with org.opencontainers.image.revision (release build does), or pass --allow-unlabeled")
		}
		deps.warnf("%s names no revision; promoting it anyway (--allow-unlabeled)", opts.Source)
	}

	res := &PromoteResult{
		Source:      opts.Source,
		Digest:      info.Digest,
		Destination: dst.repo,
		MediaType:   info.MediaType,
		DryRun:      opts.DryRun,
		Previous:    []PreviousImage{},
	}
	v, err := promotedVersion(src.tag, info, deps)
	if err != nil {
		return nil, err
	}
	if v != nil {
		res.Version = v.String()
	}
	revision, revWarning := shaTagRevision(info, noRev != nil)
	res.Revision = info.Revision

	plan, err := promotePlan(v, versionsOf(listed), dst.tag, revision, revWarning, opts.Tags, deps)
	if err != nil {
		return nil, err
	}
	deps.logf("promoting %s (%s, version %s) to %s: %s", opts.Source, info.Digest, orNone(res.Version), dst.repo, strings.Join(tagNames(plan), " "))

	states, err := checkTags(ctx, reg, dst.repo, plan, listed, r.states, jobs)
	if err != nil {
		return nil, err
	}
	if err := conflicts(dst.repo, states, info.Digest, opts.Force); err != nil {
		return nil, err
	}
	res.Previous = previousImages(ctx, reg, dst.repo, states, info.Digest, jobs, deps)

	// Copy, unless everything is there already: every tag names the
	// digest and the destination has every attachment. The copy is told
	// what the tags name (it does not read them again) and gets only the
	// tags that do not name the digest yet, besides the exact tag.
	exact := plan[0].Name
	var moving []string
	known := map[string]registry.Descriptor{}
	for i, s := range states {
		known[s.Name] = s.Desc
		if i > 0 && !s.unchanged(info.Digest) {
			moving = append(moving, s.Name)
		}
	}
	attached := opts.NoSignatures || r.attachmentsThere
	var cres *registry.CopyResult
	if !states[0].unchanged(info.Digest) || len(moving) > 0 || !attached {
		cres, err = reg.Copy(ctx, src.repo+"@"+info.Digest, dst.repo+":"+exact, registry.CopyOptions{
			Tags:          moving,
			Force:         opts.Force,
			DryRun:        opts.DryRun,
			NoAttachments: opts.NoSignatures,
			Known:         known,
		})
		if err != nil {
			return nil, err
		}
		if cres.Digest != info.Digest {
			return nil, fmt.Errorf("copying %s: copied %s, expected %s", opts.Source, cres.Digest, info.Digest)
		}
		res.BlobsCopied = cres.BlobsCopied + cres.BlobsMounted
		res.BlobsMounted = cres.BlobsMounted
		res.BlobsSkipped = cres.BlobsSkipped
		res.BytesCopied = cres.BytesCopied
		res.Attachments = cres.Attachments
	} else if !opts.NoSignatures {
		for _, a := range r.attachments {
			res.Attachments = append(res.Attachments, registry.AttachmentResult{Attachment: a, Action: registry.ActionUnchanged})
		}
	}
	res.Tags, res.Previous = tagActions(ctx, reg, dst.repo, states, cres, res.Previous, info.Digest, jobs, deps)
	return res, nil
}

// writes is the repository an operation may write, for Announce: none in
// a dry run.
func writes(repo string, dryRun bool) []string {
	if dryRun {
		return nil
	}
	return []string{repo}
}

// promoteReads is what a promotion reads before it decides anything.
type promoteReads struct {
	// info is the source image, as Inspect reads it; noRev is set when it
	// names no revision (info is still there).
	info  *ImageInfo
	noRev error
	// listed are the destination's tags.
	listed []string
	// states are the destination tags read so far (what they name).
	states map[string]tagState
	// attachments are the source's attachments of the digest;
	// attachmentsThere says the destination has every one of them.
	attachments      []registry.Attachment
	attachmentsThere bool
}

// readPromotion reads the source and the destination at once, each read
// starting as soon as what it needs is known, so that a promotion that has
// already happened costs the longest chain of round trips it must make,
// not their sum:
//
//   - at once: the source manifest, the destination's tag list, and, when
//     the source tag is a version, the destination tags that version may
//     get (the plan against an empty K: exact, X.Y, X, latest, channel;
//     a superset of the plan against any K), or the tag DST names;
//   - with the source digest: the source's configs (Inspect) and, unless
//     NoSignatures, the source's attachments of the digest, then the
//     destination's copies of those;
//   - with the configs: the sha tag of the revision (no request when the
//     tag list, already there, lacks it) and, when the version comes from
//     the label, the tags it may get.
func readPromotion(ctx context.Context, reg PromoteRegistry, opts PromoteOptions, src, dst imageRef, jobs int) (*promoteReads, error) {
	r := &promoteReads{states: map[string]tagState{}}
	var (
		mu     sync.Mutex
		asked  = map[string]bool{}   // tags being read or read
		listed = make(chan struct{}) // closed once r.listed is read
	)
	g, gctx := errgroup.WithContext(ctx)

	// resolve reads the tags not asked for yet; a tag the destination's
	// list (when it is there already) lacks is absent without a request.
	resolve := func(names []string) error {
		var todo []string
		mu.Lock()
		var list []string
		select {
		case <-listed:
			list = r.listed
		default:
		}
		for _, n := range names {
			if asked[n] {
				continue
			}
			asked[n] = true
			if list != nil && !slices.Contains(list, n) {
				r.states[n] = tagState{}
				continue
			}
			todo = append(todo, n)
		}
		mu.Unlock()
		got, err := resolveTags(gctx, reg, dst.repo, todo, jobs)
		if err != nil {
			return err
		}
		mu.Lock()
		maps.Copy(r.states, got)
		mu.Unlock()
		return nil
	}

	g.Go(func() error {
		tags, err := reg.Tags(gctx, dst.repo)
		if err != nil {
			return err
		}
		mu.Lock()
		r.listed = tags
		if r.listed == nil {
			r.listed = []string{}
		}
		close(listed)
		mu.Unlock()
		return nil
	})
	fromTag, versionTag := VersionOfTag(src.tag)
	switch {
	case versionTag:
		g.Go(func() error { return resolve(candidateTags(fromTag, dst.tag, opts.Tags)) })
	case dst.tag != "":
		g.Go(func() error { return resolve([]string{dst.tag}) })
	}
	g.Go(func() error {
		raw, d, err := reg.Manifest(gctx, opts.Source)
		if errors.Is(err, registry.ErrNotFound) {
			err = WithHint(err, "check the source reference; `release find REPO --commit SHA` lists the tags of a commit")
		}
		if err != nil {
			return err
		}
		images := &knownManifest{Images: reg, ref: opts.Source, raw: raw, desc: d, reading: make(chan struct{})}
		if !opts.NoSignatures {
			g.Go(func() error {
				// Once the configs' first request is started: on an
				// HTTP/1.1 registry, the lookups would otherwise be likelier
				// to take the connection the config read (the longer
				// chain) reuses, and it would pay for a new one.
				select {
				case <-images.reading:
				case <-gctx.Done():
					return gctx.Err()
				}
				return r.readAttachments(gctx, reg, src, dst, d.Digest, jobs)
			})
		}
		info, err := Inspect(gctx, images, opts.Source, InspectOptions{Jobs: jobs})
		images.read()
		if errors.Is(err, ErrNoRevision) && info != nil {
			r.noRev, err = err, nil
		}
		if err != nil {
			return err
		}
		r.info = info
		// What the configs make known: the sha tag, and the tags of a
		// version that only the label names.
		var names []string
		if !versionTag && !slices.Contains(info.Differs, KeyVersion) {
			if v, ok := versionOfLabel(info.Version); ok {
				names = candidateTags(v, dst.tag, opts.Tags)
			}
		}
		if rev, _ := shaTagRevision(info, r.noRev != nil); rev != "" && !opts.Tags.NoSHATag && dst.tag == "" {
			names = append(names, shaTag(rev))
		}
		return resolve(names)
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return r, nil
}

// readAttachments reads the source's attachments of digest and whether the
// destination has each of them: the same cosign tag naming the same
// manifest, the same referrer.
func (r *promoteReads) readAttachments(ctx context.Context, reg PromoteRegistry, src, dst imageRef, digest string, jobs int) error {
	atts, err := reg.Attachments(ctx, src.repo+"@"+digest)
	if err != nil {
		return err
	}
	there := make([]bool, len(atts))
	var refs []registry.Descriptor
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	if slices.ContainsFunc(atts, func(a registry.Attachment) bool { return a.Kind == "referrer" }) {
		g.Go(func() error {
			var err error
			refs, err = reg.Referrers(gctx, dst.repo+"@"+digest)
			return err
		})
	}
	for i, a := range atts {
		if a.Kind == "referrer" {
			continue
		}
		g.Go(func() error {
			d, err := reg.Resolve(gctx, dst.repo+":"+a.Tag)
			var ae *registry.AuthError
			switch {
			case errors.Is(err, registry.ErrNotFound) || (errors.As(err, &ae) && ae.Status == http.StatusForbidden):
				// Not there as far as this client can see: the copy
				// decides (it takes 403 for absent, docs/registry.md).
				return nil
			case err != nil:
				return fmt.Errorf("checking %s:%s: %w", dst.repo, a.Tag, err)
			}
			there[i] = d.Digest == a.Digest
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	r.attachments = atts
	r.attachmentsThere = true
	for i, a := range atts {
		if a.Kind == "referrer" {
			there[i] = slices.ContainsFunc(refs, func(d registry.Descriptor) bool { return d.Digest == a.Digest })
		}
		r.attachmentsThere = r.attachmentsThere && there[i]
	}
	return nil
}

// knownManifest is Images with one manifest already read, so that Inspect
// does not read it again. reading is closed when Inspect starts its first
// request (or is done).
type knownManifest struct {
	Images
	ref     string
	raw     []byte
	desc    registry.Descriptor
	reading chan struct{}
	once    sync.Once
}

func (k *knownManifest) read() { k.once.Do(func() { close(k.reading) }) }

func (k *knownManifest) Manifest(ctx context.Context, ref string) ([]byte, registry.Descriptor, error) {
	if ref == k.ref {
		return k.raw, k.desc, nil
	}
	k.read()
	return k.Images.Manifest(ctx, ref)
}

func (k *knownManifest) Blob(ctx context.Context, ref string) ([]byte, error) {
	k.read()
	return k.Images.Blob(ctx, ref)
}

// promotedVersion is the version of SPEC §5.1: the source tag when it is a
// version, else the org.opencontainers.image.version every platform agrees
// on. nil (no error) when neither says: the caller decides whether a
// destination tag makes up for it.
func promotedVersion(srcTag string, info *ImageInfo, deps PromoteDeps) (*semver.Version, error) {
	if v, ok := VersionOfTag(srcTag); ok {
		// The tag wins; a label that says otherwise is worth a warning.
		for _, p := range info.Platforms {
			if lv, ok := versionOfLabel(p.Version); ok && !sameVersion(lv, v) {
				deps.warnf("the source tag says %s but %s's version label says %s; promoting as %s", v, platformName(p), p.Version, v)
				break
			}
		}
		return v, nil
	}
	if slices.Contains(info.Differs, KeyVersion) {
		var each []string
		for _, p := range info.Platforms {
			each = append(each, platformName(p)+" "+orNone(p.Version))
		}
		return nil, WithHint(fmt.Errorf("the platforms of %s disagree on their version (%s): %w", info.Reference, strings.Join(each, ", "), ErrInvalid),
			"promote a tag that names the version (SRC:1.2.3), or rebuild the index from one version")
	}
	if info.Version == "" {
		return nil, nil
	}
	v, ok := versionOfLabel(info.Version)
	if !ok {
		return nil, WithHint(fmt.Errorf("the version label of %s, %q, is not a semantic version: %w", info.Reference, info.Version, ErrInvalid),
			"promote a tag that names the version (SRC:1.2.3)")
	}
	return v, nil
}

// shaTagRevision is the commit for the sha tag, or "" and why there is
// none.
func shaTagRevision(info *ImageInfo, unlabeled bool) (string, string) {
	switch {
	case slices.Contains(info.Differs, KeyRevision):
		var each []string
		for _, p := range info.Platforms {
			each = append(each, platformName(p)+" "+orNone(short12(p.Revision)))
		}
		return "", fmt.Sprintf("the platforms were built from different commits (%s): no sha tag", strings.Join(each, ", "))
	case unlabeled || info.Revision == "":
		return "", "the image names no revision: no sha tag"
	case len(info.Revision) < shaTagLen || !isHex(info.Revision):
		return "", fmt.Sprintf("the revision %q is not a commit hash of %d or more hex digits: no sha tag", info.Revision, shaTagLen)
	}
	return info.Revision, ""
}

// shaTag is the sha tag of a revision, as PlanTags spells it.
func shaTag(revision string) string {
	return "sha-" + strings.ToLower(revision[:shaTagLen])
}

// plannedTag is a tag to write and whether it is immutable.
type plannedTag struct {
	Name      string
	Immutable bool
}

// promotePlan lists the tags of a promotion, exact tag first. A
// destination tag other than the version's own spelling is written alone:
// the destination then follows a naming of its own, so its semver tags are
// no measure of which version is the highest (docs/promote.md).
func promotePlan(v *semver.Version, known []*semver.Version, dstTag, revision, revWarning string, topts TagOptions, deps PromoteDeps) ([]plannedTag, error) {
	if v == nil {
		if dstTag == "" {
			return nil, WithHint(fmt.Errorf("no version to promote: the source tag is not a version and the image has no org.opencontainers.image.version label: %w", ErrInvalid),
				"promote a version tag (SRC:1.2.3), or name the destination tag (DST:TAG)")
		}
		deps.logf("the image has no version: writing %s only", dstTag)
		return []plannedTag{{Name: dstTag, Immutable: true}}, nil
	}
	topts.Commit = revision
	if revision == "" {
		if !topts.NoSHATag && revWarning != "" {
			deps.warnf("%s", revWarning)
		}
		topts.NoSHATag = true
	}
	tp, err := PlanTags(v, known, topts)
	if err != nil {
		return nil, err
	}
	if dstTag != "" && dstTag != tp.Exact() {
		deps.logf("the destination names its tag %s: writing it alone (no sha or floating tags)", dstTag)
		return []plannedTag{{Name: dstTag, Immutable: true}}, nil
	}
	for _, w := range tp.Warnings {
		deps.warnf("%s", w)
	}
	out := make([]plannedTag, 0, len(tp.Tags))
	for _, t := range tp.Tags {
		out = append(out, plannedTag{Name: t.Name, Immutable: t.Kind == TagExact})
	}
	return out, nil
}

// tagState is what a tag names at the destination before anything is
// written.
type tagState struct {
	plannedTag
	// Desc is what the tag names: zero when absent, as CopyOptions.Known
	// takes it.
	Desc registry.Descriptor
}

func (s tagState) found() bool { return s.Desc.Digest != "" }

func (s tagState) unchanged(digest string) bool { return s.found() && s.Desc.Digest == digest }

// checkTags reads what each planned tag names in repo, concurrently,
// unless known already holds it. A tag missing from listed (the
// repository's tag list, read just before) is absent without a request:
// the copy checks the exact tag again before it writes, and reports a
// floating tag that appeared meanwhile as moved.
func checkTags(ctx context.Context, reg PromoteRegistry, repo string, plan []plannedTag, listed []string, known map[string]tagState, jobs int) ([]tagState, error) {
	present := make(map[string]bool, len(listed))
	for _, t := range listed {
		present[t] = true
	}
	var names []string
	for _, p := range plan {
		if _, ok := known[p.Name]; !ok && present[p.Name] {
			names = append(names, p.Name)
		}
	}
	read, err := resolveTags(ctx, reg, repo, names, jobs)
	if err != nil {
		return nil, err
	}
	states := make([]tagState, len(plan))
	for i, p := range plan {
		s, ok := known[p.Name]
		if !ok {
			s = read[p.Name]
		}
		s.plannedTag = p
		states[i] = s
	}
	return states, nil
}

// resolveTags reads what each tag names in repo, jobs at a time; an absent
// tag is a zero state.
func resolveTags(ctx context.Context, reg PromoteRegistry, repo string, names []string, jobs int) (map[string]tagState, error) {
	states := make([]tagState, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for i, name := range names {
		g.Go(func() error {
			d, err := reg.Resolve(gctx, repo+":"+name)
			switch {
			case errors.Is(err, registry.ErrNotFound):
				return nil
			case err != nil:
				return fmt.Errorf("checking %s:%s: %w", repo, name, err)
			}
			states[i].Desc = d
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make(map[string]tagState, len(names))
	for i, name := range names {
		out[name] = states[i]
	}
	return out, nil
}

// candidateTags are the tags version v can get at a destination, whatever
// the destination holds: the plan against an empty K, where v is the
// highest of everything (the sha tag aside: it needs the revision), and
// the tag DST names.
func candidateTags(v *semver.Version, dstTag string, topts TagOptions) []string {
	topts.NoSHATag = true
	tp, err := PlanTags(v, []*semver.Version{}, topts)
	if err != nil {
		return nil
	}
	names := tp.Names()
	if dstTag != "" && !slices.Contains(names, dstTag) {
		names = append(names, dstTag)
	}
	return names
}

// conflicts is ErrConflict for immutable tags naming another image,
// unless force.
func conflicts(repo string, states []tagState, digest string, force bool) error {
	if force {
		return nil
	}
	var taken []string
	for _, s := range states {
		if s.Immutable && s.found() && s.Desc.Digest != digest {
			taken = append(taken, fmt.Sprintf("%s:%s names %s", repo, s.Name, s.Desc.Digest))
		}
	}
	if len(taken) == 0 {
		return nil
	}
	return WithHint(fmt.Errorf("%s, not %s: a version tag is immutable: %w", strings.Join(taken, "; "), digest, ErrConflict),
		"release a new version, or pass --force to move the tag")
}

// previousImages inspects, before anything is written, the images the
// moving tags name (each digest once, concurrently). An image that cannot
// be read is reported by digest alone, with a warning: it is what the
// destination ran, not what is being promoted.
func previousImages(ctx context.Context, reg PromoteRegistry, repo string, states []tagState, digest string, jobs int, deps PromoteDeps) []PreviousImage {
	var prev []PreviousImage
	for _, s := range states {
		if s.found() && s.Desc.Digest != digest {
			prev = addPrevious(prev, s.Desc.Digest, s.Name)
		}
	}
	describePrevious(ctx, reg, repo, prev, jobs, deps)
	if prev == nil {
		prev = []PreviousImage{}
	}
	return prev
}

// addPrevious records that tag named the image digest before, on the
// entry of that image (a new one at the end when it has none yet).
func addPrevious(prev []PreviousImage, digest, tag string) []PreviousImage {
	i := slices.IndexFunc(prev, func(p PreviousImage) bool { return p.Digest == digest })
	if i < 0 {
		prev = append(prev, PreviousImage{Digest: digest})
		i = len(prev) - 1
	}
	prev[i].Tags = append(prev[i].Tags, tag)
	return prev
}

// describePrevious fills the version and revision of each previous image.
func describePrevious(ctx context.Context, reg PromoteRegistry, repo string, prev []PreviousImage, jobs int, deps PromoteDeps) {
	var g errgroup.Group
	g.SetLimit(jobs)
	for i := range prev {
		if prev[i].Version != "" || prev[i].Revision != "" {
			continue
		}
		g.Go(func() error {
			ref := repo + "@" + prev[i].Digest
			info, err := Inspect(ctx, reg, ref, InspectOptions{Jobs: jobs})
			if info != nil && (err == nil || errors.Is(err, ErrNoRevision)) {
				prev[i].Version, prev[i].Revision = info.Version, info.Revision
				return nil
			}
			if ctx.Err() == nil {
				deps.warnf("reading what %s named before: %v", strings.Join(prev[i].Tags, ", "), err)
			}
			return nil
		})
	}
	g.Wait()
}

// tagActions merges what the checks found with what the copy did, in plan
// order. A tag the copy found moved although the check saw it absent
// (written meanwhile by someone else) joins Previous.
func tagActions(ctx context.Context, reg PromoteRegistry, repo string, states []tagState, cres *registry.CopyResult, prev []PreviousImage, digest string, jobs int, deps PromoteDeps) ([]TagAction, []PreviousImage) {
	copied := map[string]registry.TagResult{}
	if cres != nil {
		for _, t := range cres.Tags {
			copied[t.Tag] = t
		}
	}
	out := make([]TagAction, 0, len(states))
	first := len(prev)
	for _, s := range states {
		action := registry.ActionCreated
		switch {
		case s.unchanged(digest):
			action = registry.ActionUnchanged
		case s.found():
			action = registry.ActionMoved
		}
		if t, ok := copied[s.Name]; ok {
			action = t.Action
			if t.Action == registry.ActionMoved && t.Previous != "" && !s.found() {
				prev = addPrevious(prev, t.Previous, s.Name)
			}
		}
		out = append(out, TagAction{Tag: s.Name, Action: action})
	}
	if len(prev) > first {
		describePrevious(ctx, reg, repo, prev, jobs, deps)
	}
	return out, prev
}

// imageRef is a reference split the way the registry package reads it: a
// tag is what follows the last ':' after the last '/'.
type imageRef struct {
	repo   string // host/path, as the registry client spells it
	tag    string
	digest string
}

func parseImageRef(ref string) (imageRef, error) {
	repo, err := registry.Repository(ref)
	if err != nil {
		return imageRef{}, err
	}
	left, dgst, _ := strings.Cut(ref, "@")
	r := imageRef{repo: repo, digest: dgst}
	if i := strings.LastIndexByte(left, ':'); i > strings.LastIndexByte(left, '/') {
		r.tag = left[i+1:]
	}
	return r, nil
}

// versionsOf reads the destination's tags as versions (K of the tag
// policy); tags that are not versions are not releases.
func versionsOf(tags []string) []*semver.Version {
	known := []*semver.Version{}
	for _, t := range tags {
		if v, ok := VersionOfTag(t); ok {
			known = append(known, v)
		}
	}
	return known
}

func sameVersion(a, b *semver.Version) bool {
	a2, _ := a.SetMetadata("")
	b2, _ := b.SetMetadata("")
	return a2.Equal(&b2)
}

func tagNames(plan []plannedTag) []string {
	out := make([]string, len(plan))
	for i, p := range plan {
		out[i] = p.Name
	}
	return out
}

func platformName(p PlatformInfo) string {
	if p.Platform == "" {
		return "the image"
	}
	return p.Platform
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
