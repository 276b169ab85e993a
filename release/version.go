package release

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/releasetool/release/gitinfo"
)

// unshallowHint is the fix for a history too shallow to derive a version.
const unshallowHint = "git fetch --unshallow --tags"

// Options are the flags of `release version` that shape the policy.
// DefaultOptions gives the documented defaults; the zero value means no tag
// prefix and the default initial version and rules.
type Options struct {
	// TagPrefix is what precedes the SemVer in a release tag: "v" by
	// default (`--tag-prefix`), "api/v" in a monorepo, "" for bare
	// versions. Matched exactly and case-sensitively.
	TagPrefix string
	// Initial is the version when no release tag exists (`--initial`,
	// default 0.1.0). Must be a stable SemVer.
	Initial string
	// Pre, when set, makes a prerelease `-<Pre>.N` (`--pre rc`).
	Pre string
	// Dev makes a development version `X.Y.Z-dev.N+g<hash>` (`--dev`).
	Dev bool
	// ReleaseAs forces the version (`--release-as X.Y.Z`); it must be a
	// stable SemVer greater than the base.
	ReleaseAs string
	// Paths limits the commits of the release to those changing a file
	// under one of these directories (`--path`, repeatable).
	Paths []string
	// Rules map commit types to bumps; the zero value is DefaultRules.
	Rules Rules
}

// DefaultOptions returns the defaults of `release version`: prefix "v",
// initial 0.1.0, the SPEC §2 rules.
func DefaultOptions() Options {
	return Options{TagPrefix: "v", Initial: "0.1.0", Rules: DefaultRules()}
}

// ParseTag parses a release tag: exactly prefix followed by a strict SemVer
// (no `v` or other text after the prefix, no `1.2`, no leading zeros, no
// fourth number). The error wraps ErrInvalid and says why.
func ParseTag(prefix, name string) (*semver.Version, error) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return nil, fmt.Errorf("tag %q does not start with %q: %w", name, prefix, ErrInvalid)
	}
	v, err := semver.StrictNewVersion(rest)
	if err != nil {
		return nil, fmt.Errorf("tag %q: %q is not a strict semantic version (%v): %w", name, rest, err, ErrInvalid)
	}
	return v, nil
}

// ReleaseTag is a tag that names a release: prefix + SemVer.
type ReleaseTag struct {
	Name    string
	Commit  string
	Version *semver.Version
}

// Input is what the version policy looks at, already read from git. Derive
// never does I/O: NextVersion gathers this.
type Input struct {
	// Head is the full hash of the commit being versioned.
	Head string
	// Tags are all tags of the repository, peeled to commits.
	Tags []gitinfo.Tag
	// Commits are the commits of the release: HEAD --not <every stable
	// release tag commit reachable from HEAD other than HEAD's own>,
	// children before parents (as gitinfo.Log returns them), already
	// limited to the paths when there are any.
	Commits []gitinfo.Commit
	// Reached are the stable release tag commits the walk met at its
	// boundary: reachable from HEAD.
	Reached []string
	// Behind are release tag commits that are reachable from HEAD but lie
	// behind the boundary (a higher version tagged on an older commit).
	// Tag commits neither in Reached nor in Behind are not reachable.
	Behind []string
	// Truncated is true when the walk hit the shallow boundary: Commits
	// and Reached are incomplete.
	Truncated bool
	// Shallow and Dirty describe the repository and are reported as is.
	Shallow bool
	Dirty   bool
}

// Result is the version of HEAD and everything `release version --json`
// prints, plus what `--explain` and the other commands need.
type Result struct {
	// Version is the SemVer (empty only alongside an error).
	Version string `json:"version"`
	// Tag is the git tag naming Version: prefix + Version.
	Tag string `json:"tag"`
	// PreviousVersion and PreviousTag are the base: the highest stable
	// release reachable from HEAD (empty when there is none).
	PreviousVersion string `json:"previous_version"`
	PreviousTag     string `json:"previous_tag"`
	// Bump is the highest bump of the release's commits.
	Bump Bump `json:"bump"`
	// Tagged is true when HEAD already carries the release tag.
	Tagged bool `json:"tagged"`
	// Commit is the full hash of HEAD.
	Commit string `json:"commit"`
	// Commits is the number of commits of the release.
	Commits int  `json:"commits"`
	Dirty   bool `json:"dirty"`
	Shallow bool `json:"shallow"`
	// Prerelease is true when Version has a prerelease part.
	Prerelease bool `json:"prerelease"`
	// PEP440 is Version for Python packaging; empty when it has no PEP 440
	// form (a Python build refuses it).
	PEP440 string `json:"pep440"`
	// DockerTag is Version as an image tag.
	DockerTag string `json:"docker_tag"`
	// Reasons list each commit of the release with its bump.
	Reasons []Reason `json:"reasons"`

	// SemVer is Version, parsed.
	SemVer *semver.Version `json:"-"`
	// ReleaseTags are all release tags of the repository (reachable or
	// not), highest first: the released set a tag policy needs.
	ReleaseTags []ReleaseTag `json:"-"`
	// Warnings are for a person, on stderr: higher tags HEAD does not
	// contain, a version whose tag is taken elsewhere, a shallow history.
	Warnings []string `json:"-"`
	// Explanation is the derivation, for `--explain`.
	Explanation Explanation `json:"-"`
}

// NothingToRelease reports whether HEAD makes no new release: it is not
// tagged, a release exists, no commit since it changes the version, and
// Version is that release's. (--dev and --release-as make another version
// of the same commits: that is something to build and to tag.)
func (r *Result) NothingToRelease() bool {
	return r.Bump == BumpNone && !r.Tagged && r.PreviousTag != "" && r.Version == r.PreviousVersion
}

// Why says in a few words where the version comes from, for a log line:
// "HEAD already carries v1.2.0", "no release tag yet", or
// "minor bump over v1.1.0, 3 commits".
func (r *Result) Why() string {
	switch {
	case r.Tagged:
		return "HEAD already carries " + r.Tag
	case r.PreviousTag == "":
		return "no release tag yet"
	default:
		commits := "commits"
		if r.Commits == 1 {
			commits = "commit"
		}
		return fmt.Sprintf("%s bump over %s, %d %s", r.Bump, r.PreviousTag, r.Commits, commits)
	}
}

// Reason is one commit of the release and what it did to the version.
type Reason struct {
	Commit  string `json:"commit"`
	Subject string `json:"subject"`
	Bump    Bump   `json:"bump"`
}

// Explanation is how a version was derived, for a person.
type Explanation struct {
	// TagPrefix is the prefix release tags were matched with.
	TagPrefix string
	// Base is the chosen base tag, nil when none.
	Base *Candidate
	// Candidates are all tags with what the policy made of them, release
	// tags highest first, then the others by name.
	Candidates []Candidate
	// Commits are the release's commits with their bump and rule.
	Commits []CommitExplanation
	// Steps say in order how the version came out.
	Steps []string
}

// CandidateStatus says what the policy made of a tag.
type CandidateStatus string

// The statuses of a tag in an Explanation.
const (
	StatusBase        CandidateStatus = "base"        // the highest stable release reachable from HEAD
	StatusHead        CandidateStatus = "head"        // on HEAD itself
	StatusOlder       CandidateStatus = "older"       // reachable, not higher than the base
	StatusBehind      CandidateStatus = "behind"      // reachable, but behind another release tag in history
	StatusUnreachable CandidateStatus = "unreachable" // not an ancestor of HEAD
	StatusPrerelease  CandidateStatus = "prerelease"  // never a base
	StatusLax         CandidateStatus = "lax"         // has the prefix but is not strict SemVer
	StatusForeign     CandidateStatus = "foreign"     // does not start with the prefix
)

// Candidate is one tag as the policy saw it.
type Candidate struct {
	Tag     string
	Commit  string
	Version string // empty for lax and foreign tags
	Status  CandidateStatus
	Reason  string
}

// CommitExplanation is one commit of the release with its bump.
type CommitExplanation struct {
	Commit  string
	Subject string
	Bump    Bump
	// Rule says which rule decided the bump.
	Rule string
	// Cancels / CancelledBy link a revert and the commit it reverts when
	// both are in the release (both then bump none).
	Cancels     string
	CancelledBy string
}

// Derive is the version policy of SPEC §2 as a pure function: which tag is
// the base, what the commits bump, and the version HEAD gets. Errors wrap
// ErrInvalid (flags) or ErrHistory (a shallow history that cannot answer),
// the latter with a hint.
func Derive(in Input, opts Options) (*Result, error) {
	o, err := checkOptions(opts)
	if err != nil {
		return nil, err
	}
	rel, ex := classifyTags(in.Tags, opts.TagPrefix)
	res := &Result{
		Commit:      in.Head,
		Dirty:       in.Dirty,
		Shallow:     in.Shallow,
		Reasons:     []Reason{},
		ReleaseTags: rel,
		Explanation: Explanation{TagPrefix: opts.TagPrefix},
	}
	exp := &res.Explanation
	if in.Shallow && len(rel) == 0 {
		return nil, WithHint(fmt.Errorf("shallow clone without release tags (prefix %q): the version cannot be derived: %w", opts.TagPrefix, ErrHistory), unshallowHint)
	}

	headTag := taggedHead(rel, in.Head, opts.Pre)
	if in.Truncated && headTag == nil {
		return nil, WithHint(fmt.Errorf("shallow clone: the history ends before a release tag (prefix %q) is reached: %w", opts.TagPrefix, ErrHistory), unshallowHint)
	}
	if headTag != nil && o.releaseAs != nil && headTag.Version.Compare(o.releaseAs) != 0 {
		return nil, fmt.Errorf("--release-as %s: HEAD is already released as %s: %w", o.releaseAs, headTag.Name, ErrInvalid)
	}

	reachable := setOf(in.Reached, in.Behind)
	behind := setOf(in.Behind)
	var base *ReleaseTag
	if !in.Truncated {
		base = highestStable(rel, reachable, in.Head)
	}
	explainTags(res, rel, in, base, reachable, behind)
	exp.Candidates = append(exp.Candidates, ex...)

	ref := o.initial
	if base != nil {
		ref = base.Version
		res.PreviousVersion, res.PreviousTag = base.Version.String(), base.Name
	}
	if in.Truncated {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the clone is shallow: the previous release, commits and bump of %s are unknown (%s)", headTag.Name, unshallowHint))
		exp.Steps = append(exp.Steps, "the walk reached the shallow boundary before a release tag: only HEAD's own tag is known")
	} else {
		bump, commits := bumpCommits(in.Commits, parseCommits(in.Commits), opts.Rules, ref.Major() == 0)
		res.Bump, res.Commits, exp.Commits = bump, len(in.Commits), commits
		for _, c := range commits {
			res.Reasons = append(res.Reasons, Reason{Commit: c.Commit, Subject: c.Subject, Bump: c.Bump})
		}
	}

	var v *semver.Version
	switch {
	case headTag != nil:
		res.Tagged = true
		v = headTag.Version
		exp.Steps = append(exp.Steps, fmt.Sprintf("HEAD carries %s: that is its version, whatever the commits", headTag.Name))
		if base != nil {
			exp.Steps = append(exp.Steps, fmt.Sprintf("previous release %s, %d commit(s) since, bump %s", base.Name, res.Commits, res.Bump))
		}
	default:
		if base == nil {
			exp.Steps = append(exp.Steps, fmt.Sprintf("no stable release tag with prefix %q is reachable from HEAD", opts.TagPrefix))
		} else {
			exp.Steps = append(exp.Steps, fmt.Sprintf("base %s: the highest stable release tag reachable from HEAD", base.Name))
		}
		exp.Steps = append(exp.Steps, fmt.Sprintf("%d commit(s) in the release, bump %s", res.Commits, res.Bump))
		if pre := preTagsOnHead(rel, in.Head); len(pre) > 0 {
			exp.Steps = append(exp.Steps, fmt.Sprintf("HEAD carries the prerelease tag(s) %s, which do not release it without --pre", strings.Join(pre, ", ")))
		}
		v, err = nextVersion(res, base, o, opts, in)
		if err != nil {
			return nil, err
		}
	}

	res.SemVer = v
	res.Version = v.String()
	res.Tag = opts.TagPrefix + res.Version
	if res.Tagged {
		res.Tag = headTag.Name
	} else if base != nil && v == base.Version {
		res.Tag = base.Name
	}
	res.Prerelease = v.Prerelease() != ""
	res.DockerTag = DockerTag(v)
	if p, err := PEP440(v); err == nil {
		res.PEP440 = p
	} else {
		exp.Steps = append(exp.Steps, err.Error())
	}
	if newVersion := !res.Tagged && (base == nil || v != base.Version); newVersion && !opts.Dev {
		res.Warnings = append(res.Warnings, takenWarnings(rel, v, in.Head)...)
	}
	return res, nil
}

// options are Options parsed and checked.
type options struct {
	initial   *semver.Version
	releaseAs *semver.Version
}

func checkOptions(opts Options) (options, error) {
	var o options
	initial := cmp.Or(opts.Initial, "0.1.0")
	v, err := semver.StrictNewVersion(initial)
	if err != nil || v.Prerelease() != "" || v.Metadata() != "" {
		return o, fmt.Errorf("--initial %q: want a stable version X.Y.Z: %w", opts.Initial, ErrInvalid)
	}
	o.initial = v
	if opts.ReleaseAs != "" {
		v, err := semver.StrictNewVersion(strings.TrimPrefix(opts.ReleaseAs, opts.TagPrefix))
		if err != nil || v.Prerelease() != "" || v.Metadata() != "" {
			return o, fmt.Errorf("--release-as %q: want a stable version X.Y.Z (use --pre for a prerelease): %w", opts.ReleaseAs, ErrInvalid)
		}
		o.releaseAs = v
	}
	if opts.Pre != "" {
		if opts.Dev {
			return o, fmt.Errorf("--pre and --dev together: a build is either a prerelease or a dev build: %w", ErrInvalid)
		}
		if !validPreLabel(opts.Pre) {
			return o, fmt.Errorf("--pre %q: want a prerelease label such as rc, beta or alpha (letters, digits, '-', not only digits): %w", opts.Pre, ErrInvalid)
		}
	}
	return o, nil
}

// validPreLabel reports whether s can be the label of `-<label>.N`: one
// non-numeric SemVer identifier.
func validPreLabel(s string) bool {
	digits := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !isDigit(c) && c != '-' {
			return false
		}
		digits = digits && isDigit(c)
	}
	return s != "" && !digits
}

// classifyTags splits tags into release tags (highest first, then by name)
// and the others, explained.
func classifyTags(tags []gitinfo.Tag, prefix string) ([]ReleaseTag, []Candidate) {
	var rel []ReleaseTag
	var other []Candidate
	for _, t := range tags {
		v, err := ParseTag(prefix, t.Name)
		switch {
		case err == nil:
			rel = append(rel, ReleaseTag{Name: t.Name, Commit: t.Commit, Version: v})
		case strings.HasPrefix(t.Name, prefix):
			other = append(other, Candidate{Tag: t.Name, Commit: t.Commit, Status: StatusLax,
				Reason: fmt.Sprintf("%q after the prefix is not a strict semantic version", strings.TrimPrefix(t.Name, prefix))})
		default:
			other = append(other, Candidate{Tag: t.Name, Commit: t.Commit, Status: StatusForeign,
				Reason: fmt.Sprintf("does not start with the prefix %q", prefix)})
		}
	}
	// A total order (name breaks ties), so an unstable sort is deterministic.
	slices.SortFunc(rel, func(a, b ReleaseTag) int {
		return cmp.Or(b.Version.Compare(a.Version), cmp.Compare(a.Name, b.Name))
	})
	slices.SortFunc(other, func(a, b Candidate) int { return cmp.Compare(a.Tag, b.Tag) })
	return rel, other
}

// highestStable returns the highest stable tag of rel (sorted highest
// first) whose commit is in commits and is not head: the base of a release
// among the tag commits known to be reachable from it.
func highestStable(rel []ReleaseTag, commits map[string]bool, head string) *ReleaseTag {
	for i, t := range rel {
		if t.Version.Prerelease() == "" && t.Commit != head && commits[t.Commit] {
			return &rel[i]
		}
	}
	return nil
}

// taggedHead returns the release tag that makes HEAD already released: the
// highest stable tag on HEAD; with --pre, else the highest `-<pre>.N` tag
// on HEAD. A prerelease tag on HEAD does not release it as a stable
// version (promoting an rc to final needs no new commit).
func taggedHead(rel []ReleaseTag, head, pre string) *ReleaseTag {
	for i, t := range rel {
		if t.Commit == head && t.Version.Prerelease() == "" {
			return &rel[i]
		}
	}
	if pre == "" {
		return nil
	}
	for i, t := range rel {
		if _, ok := preNumber(t.Version, pre); ok && t.Commit == head {
			return &rel[i]
		}
	}
	return nil
}

func preTagsOnHead(rel []ReleaseTag, head string) []string {
	var out []string
	for _, t := range rel {
		if t.Commit == head && t.Version.Prerelease() != "" {
			out = append(out, t.Name)
		}
	}
	return out
}

// explainTags fills the release tag candidates and the warnings about
// higher tags HEAD does not contain.
func explainTags(res *Result, rel []ReleaseTag, in Input, base *ReleaseTag, reachable, behind map[string]bool) {
	exp := &res.Explanation
	var higher []ReleaseTag
	for i, t := range rel {
		c := Candidate{Tag: t.Name, Commit: t.Commit, Version: t.Version.String()}
		switch {
		case base == &rel[i]:
			c.Status, c.Reason = StatusBase, "the highest stable release tag reachable from HEAD"
			if behind[t.Commit] {
				c.Reason += " (it lies behind a lower release tag in history)"
			}
			cp := c
			exp.Base = &cp
		case t.Commit == in.Head:
			c.Status, c.Reason = StatusHead, "on HEAD"
		case t.Version.Prerelease() != "":
			c.Status, c.Reason = StatusPrerelease, "a prerelease never serves as the base"
		case in.Truncated:
			c.Status, c.Reason = StatusUnreachable, "unknown: the shallow history ends before it"
		case behind[t.Commit]:
			c.Status, c.Reason = StatusBehind, "reachable, behind a lower release tag in history"
		case reachable[t.Commit]:
			c.Status, c.Reason = StatusOlder, "reachable, not higher than the base"
		default:
			c.Status, c.Reason = StatusUnreachable, "not reachable from HEAD (an unmerged or maintenance branch, or a squash-merged commit)"
			if base == nil || t.Version.GreaterThan(base.Version) {
				higher = append(higher, t)
			}
		}
		exp.Candidates = append(exp.Candidates, c)
	}
	if len(higher) > 0 {
		h := higher[0]
		w := fmt.Sprintf("%s (commit %s) is not reachable from HEAD", h.Name, short(h.Commit))
		if base != nil {
			w = fmt.Sprintf("%s (commit %s) is higher than the base %s but not reachable from HEAD; %s stays the base", h.Name, short(h.Commit), base.Name, base.Name)
		}
		if n := len(higher) - 1; n > 0 {
			w += fmt.Sprintf(" (%d more such tag(s), see --explain)", n)
		}
		res.Warnings = append(res.Warnings, w)
	}
	if base != nil && behind[base.Commit] {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s is on a commit behind a lower release tag in history (tagged out of order); it is the base as the highest reachable", base.Name))
	}
}

// nextVersion computes the version of an untagged HEAD.
func nextVersion(res *Result, base *ReleaseTag, o options, opts Options, in Input) (*semver.Version, error) {
	exp := &res.Explanation
	var next *semver.Version
	switch {
	case o.releaseAs != nil:
		if base != nil && !o.releaseAs.GreaterThan(base.Version) {
			return nil, fmt.Errorf("--release-as %s is not greater than the base %s: %w", o.releaseAs, base.Name, ErrInvalid)
		}
		next = o.releaseAs
		exp.Steps = append(exp.Steps, fmt.Sprintf("--release-as %s", next))
	case base == nil:
		next = o.initial
		exp.Steps = append(exp.Steps, fmt.Sprintf("first release: --initial %s", next))
	case res.Bump == BumpNone && !opts.Dev:
		exp.Steps = append(exp.Steps, fmt.Sprintf("nothing to release: the version stays %s", base.Version))
		return base.Version, nil
	case res.Bump == BumpNone:
		n, err := increment(base.Version, BumpPatch)
		if err != nil {
			return nil, err
		}
		next = n
		exp.Steps = append(exp.Steps, fmt.Sprintf("no commit bumps, but a dev build sorts after %s: %s", base.Name, next))
	default:
		n, err := increment(base.Version, res.Bump)
		if err != nil {
			return nil, err
		}
		next = n
		exp.Steps = append(exp.Steps, fmt.Sprintf("%s + %s = %s", base.Version, res.Bump, next))
	}
	switch {
	case opts.Pre != "":
		n := uint64(0)
		for _, t := range res.ReleaseTags {
			if k, ok := preNumber(t.Version, opts.Pre); ok && sameCore(t.Version, next) && k > n {
				n = k
			}
		}
		if n == ^uint64(0) {
			return nil, fmt.Errorf("--pre %s: the prerelease number of %s overflows: %w", opts.Pre, next, ErrInvalid)
		}
		pre := fmt.Sprintf("%s.%d", opts.Pre, n+1)
		exp.Steps = append(exp.Steps, fmt.Sprintf("--pre %s: the highest existing %s-%s.N tag has N = %d: %s", opts.Pre, next, opts.Pre, n, pre))
		next = withParts(next, pre, "")
	case opts.Dev:
		meta := "g" + short(in.Head)
		if in.Dirty {
			meta += ".dirty"
		}
		next = withParts(next, "dev."+strconv.Itoa(len(in.Commits)), meta)
		step := fmt.Sprintf("--dev: %d commit(s) in the release, commit %s", len(in.Commits), short(in.Head))
		if in.Dirty {
			step += ", dirty worktree"
		}
		exp.Steps = append(exp.Steps, step)
	}
	return next, nil
}

// increment bumps a stable version. Masterminds' IncPatch does not
// increment a prerelease (research §7.5) and panics on overflow, so the
// arithmetic is done here.
func increment(v *semver.Version, b Bump) (*semver.Version, error) {
	ma, mi, pa := v.Major(), v.Minor(), v.Patch()
	overflow := func(n uint64) error {
		if n == ^uint64(0) {
			return fmt.Errorf("incrementing %s overflows: %w", v, ErrInvalid)
		}
		return nil
	}
	switch b {
	case BumpMajor:
		if err := overflow(ma); err != nil {
			return nil, err
		}
		ma, mi, pa = ma+1, 0, 0
	case BumpMinor:
		if err := overflow(mi); err != nil {
			return nil, err
		}
		mi, pa = mi+1, 0
	case BumpPatch:
		if err := overflow(pa); err != nil {
			return nil, err
		}
		pa++
	default:
		return v, nil
	}
	return semver.New(ma, mi, pa, "", ""), nil
}

// withParts returns core(v) with a prerelease and metadata (both already
// valid SemVer identifiers).
func withParts(v *semver.Version, pre, meta string) *semver.Version {
	return semver.New(v.Major(), v.Minor(), v.Patch(), pre, meta)
}

func sameCore(a, b *semver.Version) bool {
	return a.Major() == b.Major() && a.Minor() == b.Minor() && a.Patch() == b.Patch()
}

// preNumber returns N when v's prerelease is exactly `<label>.N`.
func preNumber(v *semver.Version, label string) (uint64, bool) {
	num, ok := strings.CutPrefix(v.Prerelease(), label+".")
	if !ok || !isDecimal(num) {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 64)
	return n, err == nil
}

// takenWarnings warns when the version (or its release, for a prerelease)
// already has a tag somewhere HEAD does not contain: `release cut` would
// conflict, or publish a prerelease below its own release.
func takenWarnings(rel []ReleaseTag, v *semver.Version, head string) []string {
	var out []string
	for _, t := range rel {
		if t.Commit == head {
			continue
		}
		switch {
		case t.Version.Compare(v) == 0:
			out = append(out, fmt.Sprintf("%s already exists on commit %s, which is not HEAD: tagging %s would conflict", t.Name, short(t.Commit), v))
		case v.Prerelease() != "" && t.Version.Prerelease() == "" && sameCore(t.Version, v):
			out = append(out, fmt.Sprintf("%s is already released (commit %s): %s sorts below it", t.Name, short(t.Commit), v))
		}
	}
	return out
}

// parseCommits reads each commit's message as a Conventional Commit.
func parseCommits(commits []gitinfo.Commit) []Message {
	msgs := make([]Message, len(commits))
	for i, c := range commits {
		msgs[i] = ParseCommit(c.Message)
	}
	return msgs
}

// bumpCommits applies the rules to each commit of the release (msgs are
// their parsed messages): merges do not bump, a revert and the commit it
// reverts cancel when both are in the release, breaking changes are minor
// while the major version is 0. It returns the release's bump and each
// commit's explanation, in order. The zero Rules are DefaultRules, made
// once here rather than by Rules.Bump for every commit.
func bumpCommits(commits []gitinfo.Commit, msgs []Message, rules Rules, zeroMajor bool) (Bump, []CommitExplanation) {
	if rules.types == nil {
		rules = DefaultRules()
	}
	out := make([]CommitExplanation, len(commits))
	for i, c := range commits {
		out[i] = CommitExplanation{Commit: c.Hash, Subject: c.Subject()}
	}
	cancelReverts(commits, msgs, out)
	bump := BumpNone
	for i, c := range commits {
		e := &out[i]
		switch {
		case e.CancelledBy != "":
			e.Rule = fmt.Sprintf("reverted by %s in this release: cancelled", short(e.CancelledBy))
		case e.Cancels != "":
			e.Rule = fmt.Sprintf("reverts %s of this release: both cancelled", short(e.Cancels))
		case c.IsMerge():
			e.Rule = "merge commit: the commits it brings in count"
		default:
			e.Bump, e.Rule = rules.Bump(msgs[i])
			if e.Bump == BumpMajor && zeroMajor {
				e.Bump, e.Rule = BumpMinor, e.Rule+", minor while the major version is 0"
			}
		}
		bump = max(bump, e.Bump)
	}
	return bump, out
}

// cancelReverts pairs each revert with the commit it names when both are
// in the release. Commits come children first, so a revert is seen before
// what it reverts; a revert already cancelled (reverted itself) cancels
// nothing, which makes chains come out right: revert of a revert of X
// leaves X. A reverted merge cancels the commits it brought in.
func cancelReverts(commits []gitinfo.Commit, msgs []Message, out []CommitExplanation) {
	index := make(map[string]int, len(commits))
	for i, c := range commits {
		index[c.Hash] = i
	}
	find := func(h string) int {
		if i, ok := index[h]; ok {
			return i
		}
		found := -1
		for i, c := range commits {
			if strings.HasPrefix(c.Hash, h) {
				if found >= 0 {
					return -1 // ambiguous
				}
				found = i
			}
		}
		return found
	}
	for i := range commits {
		if out[i].CancelledBy != "" || out[i].Cancels != "" || msgs[i].Revert == nil {
			continue
		}
		for _, h := range msgs[i].Revert.Commits {
			j := find(h)
			if j < 0 || j == i || out[j].CancelledBy != "" || out[j].Cancels != "" {
				continue
			}
			out[i].Cancels, out[j].CancelledBy = commits[j].Hash, commits[i].Hash
			if commits[j].IsMerge() {
				for _, k := range broughtIn(commits, index, j) {
					if out[k].CancelledBy == "" && out[k].Cancels == "" {
						out[k].CancelledBy = commits[i].Hash
					}
				}
			}
			break
		}
	}
}

// broughtIn returns the commits of the list that merge j brought in: those
// reachable from its other parents and not from its first, following
// parent links inside the list only.
func broughtIn(commits []gitinfo.Commit, index map[string]int, j int) []int {
	reach := func(starts []string) map[int]bool {
		seen := map[int]bool{}
		stack := slices.Clone(starts)
		for len(stack) > 0 {
			h := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			k, ok := index[h]
			if !ok || seen[k] {
				continue
			}
			seen[k] = true
			stack = append(stack, commits[k].Parents...)
		}
		return seen
	}
	parents := commits[j].Parents
	first, others := reach(parents[:1]), reach(parents[1:])
	var out []int
	for k := range others {
		if !first[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func setOf(lists ...[]string) map[string]bool {
	m := map[string]bool{}
	for _, l := range lists {
		for _, s := range l {
			m[s] = true
		}
	}
	return m
}

// short abbreviates a commit hash to 7 characters, as changelogs and
// messages show it.
func short(h string) string {
	if len(h) > 7 {
		return h[:7]
	}
	return h
}
