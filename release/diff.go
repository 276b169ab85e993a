package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/releasetool/release/gitinfo"
)

// Kinds of change between two images' revisions.
const (
	// ChangeSame: both images come from the same commit.
	ChangeSame = "same"
	// ChangeForward: NEW contains OLD's commit; Added lists what it adds.
	ChangeForward = "forward"
	// ChangeRollback: NEW is an ancestor of OLD; Removed lists the commits
	// that going from OLD to NEW would take out.
	ChangeRollback = "rollback"
	// ChangeDiverged: neither contains the other; both lists are set.
	ChangeDiverged = "diverged"
)

// DiffOptions are the options of Diff.
type DiffOptions struct {
	// Git is the local clone the commits are read from (required).
	Git History
	// Platform compares one platform of multi-platform images.
	Platform string
	// Rules sort commits into the notes; the zero Rules means the
	// default rules.
	Rules Rules
}

// DiffResult is what `release diff` prints.
type DiffResult struct {
	Old, New *ImageInfo
	// Ranges are the changes, one per distinct pair of revisions: one
	// range for images whose platforms agree (Platforms empty), else one
	// per group of platforms that share their pair.
	Ranges []DiffRange
	// Unpaired are platforms only one image has (or whose revision is
	// missing on one side) when platforms are compared one by one.
	Unpaired []string
}

// DiffRange is the change between two revisions.
type DiffRange struct {
	// Platforms the range applies to; empty means the whole images.
	Platforms []string
	// OldRevision and NewRevision are full commit hashes.
	OldRevision, NewRevision string
	// Kind is ChangeSame, ChangeForward, ChangeRollback or ChangeDiverged.
	Kind string
	// Added are the commits NEW has and OLD does not (git rev-list
	// NEW --not OLD), newest first; Removed the reverse.
	Added, Removed []gitinfo.Commit
	// Notes and RemovedNotes render Added and Removed as `release
	// changelog` does.
	Notes, RemovedNotes Notes
}

// Diff compares the images oldRef and newRef (as deployed in, say, prod
// and staging) through their revisions: it inspects both, pairs their
// revisions (per platform when an index's platforms came from different
// commits) and lists the commits between them from the local clone, as
// release notes. A revision the clone lacks, or a range a shallow clone
// cuts, is ErrHistory with the fetch command; an image without revision is
// ErrNoRevision.
func Diff(ctx context.Context, images Images, oldRef, newRef string, opts DiffOptions) (*DiffResult, error) {
	if opts.Git == nil {
		return nil, errors.New("diff: no local clone")
	}
	res := &DiffResult{}
	g, gctx := errgroup.WithContext(ctx)
	for _, side := range []struct {
		ref  string
		info **ImageInfo
	}{{oldRef, &res.Old}, {newRef, &res.New}} {
		g.Go(func() error {
			info, err := Inspect(gctx, images, side.ref, InspectOptions{Platform: opts.Platform})
			if err != nil {
				return err
			}
			*side.info = info
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	pairs, unpaired := pairRevisions(res.Old, res.New)
	if len(pairs) == 0 {
		return nil, WithHint(fmt.Errorf("%s (%s) and %s (%s) have no platform in common",
			oldRef, strings.Join(platformNames(res.Old), ", "), newRef, strings.Join(platformNames(res.New), ", ")),
			"pass --platform to compare one platform of each")
	}
	res.Unpaired = unpaired
	rules := opts.Rules
	if rules.types == nil {
		rules = DefaultRules()
	}
	for _, p := range pairs {
		rng, err := commitRange(ctx, opts.Git, p.old, p.new, rules)
		if err != nil {
			return nil, err
		}
		rng.Platforms = p.platforms
		res.Ranges = append(res.Ranges, *rng)
	}
	return res, nil
}

type revisionPair struct {
	old, new  string
	platforms []string
}

// pairRevisions pairs the revisions of two images: one pair when each
// image's platforms agree (or one platform was selected), else one per
// distinct pair over the platforms, an image whose platforms agree
// standing for every platform.
func pairRevisions(old, new *ImageInfo) ([]revisionPair, []string) {
	if old.Revision != "" && new.Revision != "" {
		return []revisionPair{{old: old.Revision, new: new.Revision}}, nil
	}
	var plats []string
	for _, info := range []*ImageInfo{new, old} {
		for _, p := range info.Platforms {
			if !slices.Contains(plats, p.Platform) {
				plats = append(plats, p.Platform)
			}
		}
	}
	var pairs []revisionPair
	var unpaired []string
	for _, p := range plats {
		o, n := revisionOn(old, p), revisionOn(new, p)
		if o == "" || n == "" {
			unpaired = append(unpaired, p)
			continue
		}
		i := slices.IndexFunc(pairs, func(rp revisionPair) bool { return rp.old == o && rp.new == n })
		if i < 0 {
			pairs = append(pairs, revisionPair{old: o, new: n})
			i = len(pairs) - 1
		}
		pairs[i].platforms = append(pairs[i].platforms, p)
	}
	return pairs, unpaired
}

// revisionOn is the revision an image runs on platform p: the image's own
// when its platforms agree, else p's.
func revisionOn(info *ImageInfo, p string) string {
	if info.Revision != "" {
		return info.Revision
	}
	for _, pi := range info.Platforms {
		if pi.Platform == p {
			return pi.Revision
		}
	}
	return ""
}

func platformNames(info *ImageInfo) []string {
	var out []string
	for _, p := range info.Platforms {
		out = append(out, p.Platform)
	}
	return out
}

// commitRange reads the commits between two revisions both ways.
func commitRange(ctx context.Context, git History, oldRev, newRev string, rules Rules) (*DiffRange, error) {
	oldC, err := localCommit(ctx, git, oldRev)
	if err != nil {
		return nil, err
	}
	newC, err := localCommit(ctx, git, newRev)
	if err != nil {
		return nil, err
	}
	rng := &DiffRange{OldRevision: oldC.Hash, NewRevision: newC.Hash, Kind: ChangeSame, Added: []gitinfo.Commit{}, Removed: []gitinfo.Commit{}}
	if oldC.Hash == newC.Hash {
		return rng, nil
	}
	for _, dir := range []struct {
		include, exclude string
		out              *[]gitinfo.Commit
	}{
		{newC.Hash, oldC.Hash, &rng.Added},
		{oldC.Hash, newC.Hash, &rng.Removed},
	} {
		log, err := git.Log(ctx, gitinfo.LogQuery{Include: []string{dir.include}, Exclude: []string{dir.exclude}})
		if err != nil {
			return nil, fmt.Errorf("listing the commits between %s and %s: %w", short12(oldC.Hash), short12(newC.Hash), err)
		}
		if log.Shallow {
			return nil, WithHint(fmt.Errorf("shallow clone: the history between %s and %s is cut: %w",
				short12(oldC.Hash), short12(newC.Hash), ErrHistory), fetchHint(ctx, git, "--unshallow", ""))
		}
		*dir.out = append(*dir.out, log.Commits...)
	}
	switch {
	case len(rng.Added) > 0 && len(rng.Removed) > 0:
		rng.Kind = ChangeDiverged
	case len(rng.Removed) > 0:
		rng.Kind = ChangeRollback
	default:
		rng.Kind = ChangeForward
	}
	rng.Notes = BuildNotes(rng.Added, rules)
	rng.RemovedNotes = BuildNotes(rng.Removed, rules)
	return rng, nil
}
