package release

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
	"golang.org/x/sync/errgroup"

	"github.com/releasetool/release/registry"
)

// ErrAmbiguous means a commit prefix matches images of more than one
// revision. The concrete error is an *AmbiguousError.
var ErrAmbiguous = errors.New("ambiguous commit")

// AmbiguousError lists the revisions a commit prefix matched, each with
// its tags.
type AmbiguousError struct {
	Commit     string
	Repository string
	Candidates []FindCandidate
}

// FindCandidate is one revision an ambiguous prefix matched.
type FindCandidate struct {
	Revision string
	Tags     []string
}

func (e *AmbiguousError) Error() string {
	var parts []string
	for _, c := range e.Candidates {
		parts = append(parts, fmt.Sprintf("%s (%s)", c.Revision, strings.Join(c.Tags, ", ")))
	}
	return fmt.Sprintf("commit %s is ambiguous in %s: images of %d revisions match: %s",
		e.Commit, e.Repository, len(e.Candidates), strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrAmbiguous) true.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguous }

// FindOptions are the options of Find.
type FindOptions struct {
	// Jobs bounds the registry requests in flight: the HEADs that resolve
	// tags, then the reads of images. Default 8.
	Jobs int
	// Progress, when set, is told how far the search is, after each step,
	// one call at a time and in order.
	Progress func(FindProgress)
}

// FindProgress is how far Find is: Phase is "tags" while tags are
// resolved to digests, "images" while images are read.
type FindProgress struct {
	Phase       string
	Done, Total int
}

// defaultFindJobs is the default bound of requests in flight.
const defaultFindJobs = 8

// FindResult is what `release find` prints.
type FindResult struct {
	// Repository is the repository searched; Commit the commit as asked
	// (lower case).
	Repository string `json:"repository"`
	Commit     string `json:"commit"`
	// Revision is the matching revision, in its longest known form (40
	// hex once an image's revision was read; the 12 hex of a sha tag
	// otherwise). Empty when nothing matched.
	Revision string `json:"revision"`
	// Tags are the tags whose image came from the commit, sorted.
	Tags []FoundTag `json:"tags"`
	// TagsScanned, Digests and Lookups say what it cost: the tags listed
	// (attachment tags excluded), the distinct digests they name, and the
	// digests whose images had to be read (the others were answered by
	// their sha tags).
	TagsScanned int `json:"tags_scanned"`
	Digests     int `json:"digests"`
	Lookups     int `json:"lookups"`
}

// FoundTag is a tag whose image came from the commit.
type FoundTag struct {
	Tag    string `json:"tag"`
	Digest string `json:"digest"`
	// Version is the image's version: its exact version tag when it was
	// answered from tags, else its version label or annotation.
	Version string `json:"version"`
	// Revision is the image's revision (12 hex when only a sha tag said).
	Revision string `json:"revision"`
	// From says where the revision was read.
	From Origin `json:"from"`
	// Platforms are the platforms that came from the commit, when the
	// image is an index whose platforms did not all come from it.
	Platforms []string `json:"platforms,omitempty"`
}

// shaTagPattern is the tag `release build` writes for a commit (SPEC §3).
var shaTagPattern = regexp.MustCompile(`^sha-([0-9a-f]{12})$`)

// attachmentTagPattern matches the tags cosign and the OCI referrers
// fallback store signatures, attestations and SBOMs under: not images of
// a commit.
var attachmentTagPattern = regexp.MustCompile(`^sha256-[0-9a-f]{64}(\.[a-z]+)?$`)

// Find lists every tag of repo whose image came from commit (7 to 40 hex
// digits):
//
//  1. list the tags (every page), attachment tags set aside;
//  2. resolve each to its digest, Jobs HEADs at a time;
//  3. for each distinct digest: a sha-<12 hex> tag that matches the
//     commit answers without reading the image, when the digest also has
//     an exact version tag; a sha tag of another commit means the digest
//     did not come from this one; else the image is read once (manifest,
//     config, provenance when needed, as Inspect does), Jobs at a time.
//
// A sha tag only speaks for the digest it names: other digests of the
// same commit (an earlier build whose sha tag moved on) are read. An index
// matches when any of its platforms came from the commit. Matches of more
// than one revision are an *AmbiguousError.
func Find(ctx context.Context, images Images, repo, commit string, opts FindOptions) (*FindResult, error) {
	q := strings.ToLower(strings.TrimSpace(commit))
	if len(q) < 7 || len(q) > 40 || !isHex(q) {
		return nil, WithHint(fmt.Errorf("commit %q is not 7 to 40 hexadecimal digits: %w", commit, ErrInvalid),
			"pass the commit hash or a prefix of it, e.g. --commit $(git rev-parse --short=12 HEAD)")
	}
	repository, err := registry.Repository(repo)
	if err != nil {
		return nil, err
	}
	jobs := orDefault(opts.Jobs, defaultFindJobs)

	all, err := images.Tags(ctx, repo)
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, t := range all {
		if !attachmentTagPattern.MatchString(t) {
			tags = append(tags, t)
		}
	}
	if len(tags) == 0 {
		return nil, fmt.Errorf("repository %s has no image tags (it is unknown or empty): %w", repository, registry.ErrNotFound)
	}
	res := &FindResult{Repository: repository, Commit: q, Tags: []FoundTag{}, TagsScanned: len(tags)}

	// Tags → digests.
	digests := make([]string, len(tags))
	resolved := &progressCounter{phase: "tags", total: len(tags), report: opts.Progress}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for i, t := range tags {
		g.Go(func() error {
			d, err := images.Resolve(gctx, repository+":"+t)
			switch {
			case errors.Is(err, registry.ErrNotFound):
				// Deleted since the listing: skipped, and done.
			case err != nil:
				return err
			default:
				digests[i] = d.Digest
			}
			resolved.add()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	byDigest := map[string][]string{}
	var order []string
	for i, d := range digests {
		if d == "" {
			continue
		}
		if _, ok := byDigest[d]; !ok {
			order = append(order, d)
		}
		byDigest[d] = append(byDigest[d], tags[i])
	}
	res.Digests = len(order)

	// Digests → revisions: sha tags first, reads for the rest.
	answers := map[string]*findAnswer{}
	var toRead []string
	for _, d := range order {
		hex12, other := shaTagOf(byDigest[d], q)
		switch {
		case hex12 != "":
			if v := versionFromTags(byDigest[d]); v != "" {
				answers[d] = &findAnswer{revision: longer(hex12, q), version: v, from: OriginTag}
				continue
			}
			toRead = append(toRead, d) // the version needs the config
		case other:
			// Built from another commit: its sha tag says so.
		default:
			toRead = append(toRead, d)
		}
	}
	res.Lookups = len(toRead)
	r := reader{images: images, repo: repository, jobs: 1}
	read := &progressCounter{phase: "images", total: len(toRead), report: opts.Progress}
	var mu sync.Mutex
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, d := range toRead {
		g.Go(func() error {
			a, err := findRead(gctx, r, d, q)
			if err != nil {
				return fmt.Errorf("reading %s@%s: %w", repository, d, err)
			}
			if a != nil {
				mu.Lock()
				answers[d] = a
				mu.Unlock()
			}
			read.add()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	// Matches, and whether they agree on one commit.
	var revs []string
	revTags := map[string][]string{}
	for _, d := range order {
		a := answers[d]
		if a == nil {
			continue
		}
		key := ""
		for _, rv := range revs {
			if sameCommit(rv, a.revision) {
				key = rv
				break
			}
		}
		if key == "" {
			revs = append(revs, a.revision)
			key = a.revision
		}
		revTags[key] = append(revTags[key], byDigest[d]...)
		for _, t := range byDigest[d] {
			res.Tags = append(res.Tags, FoundTag{Tag: t, Digest: d, Version: a.version, Revision: a.revision, From: a.from, Platforms: a.platforms})
		}
	}
	if len(revs) > 1 {
		e := &AmbiguousError{Commit: q, Repository: repository}
		for _, rv := range revs {
			ts := slices.Clone(revTags[rv])
			slices.Sort(ts)
			e.Candidates = append(e.Candidates, FindCandidate{Revision: longestOf(res.Tags, rv), Tags: ts})
		}
		return nil, WithHint(e, "pass more hex digits of the commit")
	}
	if len(revs) == 1 {
		res.Revision = longestOf(res.Tags, revs[0])
	}
	slices.SortFunc(res.Tags, func(a, b FoundTag) int { return strings.Compare(a.Tag, b.Tag) })
	return res, nil
}

// findAnswer is what reading one image says about the commit.
type findAnswer struct {
	revision, version string
	from              Origin
	platforms         []string
}

// findRead reads the image of digest and answers whether it came from
// commit q (nil when not).
func findRead(ctx context.Context, r reader, digest, q string) (*findAnswer, error) {
	raw, d, err := r.images.Manifest(ctx, r.ref(digest))
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(raw)
	if err != nil {
		return nil, err
	}
	plats, err := r.platforms(ctx, m, d, "", needRevision)
	if err != nil {
		return nil, err
	}
	var a *findAnswer
	var matched []string
	for _, p := range plats {
		if len(p.Revision) < 7 || !isHex(p.Revision) || !sameCommit(p.Revision, q) {
			continue
		}
		if a == nil {
			a = &findAnswer{revision: p.Revision, version: p.Version, from: p.From[KeyRevision]}
		} else if !sameCommit(a.revision, p.Revision) {
			// Two platforms of one index from two commits of the prefix:
			// report the image under the first; the ambiguity shows
			// when the prefix is lengthened.
			continue
		}
		matched = append(matched, p.Platform)
	}
	if a != nil && len(matched) < len(plats) {
		a.platforms = matched
	}
	return a, nil
}

// shaTagOf looks at the sha-<12 hex> tags of one digest: the hex of one
// that matches commit q, or other = true when it has sha tags and none
// matches.
func shaTagOf(tags []string, q string) (hex12 string, other bool) {
	for _, t := range tags {
		m := shaTagPattern.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		if sameCommit(m[1], q) {
			return m[1], false
		}
		other = true
	}
	return "", other
}

// sameCommit reports whether two hex forms of commits can name the same
// commit: one is a prefix of the other.
func sameCommit(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return strings.HasPrefix(b, a)
}

// longer returns the longer of two forms of the same commit.
func longer(a, b string) string {
	if len(b) > len(a) {
		return b
	}
	return a
}

// longestOf is the longest revision among the found tags that names the
// same commit as rev.
func longestOf(found []FoundTag, rev string) string {
	best := rev
	for _, f := range found {
		if sameCommit(f.Revision, rev) {
			best = longer(best, f.Revision)
		}
	}
	return best
}

// versionFromTags is the highest exact semantic version among tags (the
// exact tag `release build` writes; X.Y and X are not exact).
func versionFromTags(tags []string) string {
	var best *semver.Version
	for _, t := range tags {
		if v, err := ParseTag("", t); err == nil && (best == nil || v.GreaterThan(best)) {
			best = v
		}
	}
	if best == nil {
		return ""
	}
	return best.Original()
}

// progressCounter counts the steps of a phase and reports each, in order:
// the count and the report happen under one lock.
type progressCounter struct {
	phase  string
	total  int
	report func(FindProgress)

	mu   sync.Mutex
	done int
}

func (c *progressCounter) add() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done++
	if c.report != nil {
		c.report(FindProgress{Phase: c.phase, Done: c.done, Total: c.total})
	}
}
