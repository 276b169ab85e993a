package release

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// LatestMode is --latest: when the latest tag moves.
type LatestMode string

// The --latest modes.
const (
	// LatestAuto moves latest only to the highest stable version released.
	LatestAuto LatestMode = "auto"
	// LatestAlways moves latest to every stable version built, even an
	// older line's patch, and even when the released versions are unknown.
	LatestAlways LatestMode = "always"
	// LatestNever leaves latest alone.
	LatestNever LatestMode = "never"
)

// ParseLatestMode reads --latest ("" is auto).
func ParseLatestMode(s string) (LatestMode, error) {
	switch m := LatestMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return LatestAuto, nil
	case LatestAuto, LatestAlways, LatestNever:
		return m, nil
	}
	return "", fmt.Errorf("--latest %q: want auto, always or never: %w", s, ErrInvalid)
}

// TagStyle is --tag-style: how a version is spelled in its exact tag.
type TagStyle string

// The tag styles.
const (
	// TagStyleSemver spells the exact tag as SemVer: 1.2.0-rc.1.
	TagStyleSemver TagStyle = "semver"
	// TagStylePEP440 spells it as PEP 440: 1.2.0rc1.
	TagStylePEP440 TagStyle = "pep440"
)

// ParseTagStyle reads --tag-style ("" is semver).
func ParseTagStyle(s string) (TagStyle, error) {
	switch st := TagStyle(strings.ToLower(strings.TrimSpace(s))); st {
	case "":
		return TagStyleSemver, nil
	case TagStyleSemver, TagStylePEP440:
		return st, nil
	}
	return "", fmt.Errorf("--tag-style %q: want semver or pep440: %w", s, ErrInvalid)
}

// TagOptions are the knobs of the tag policy (SPEC §3).
type TagOptions struct {
	// Latest is --latest; "" means auto.
	Latest LatestMode
	// NoSHATag is --no-sha-tag: no sha-<12 hex> tag.
	NoSHATag bool
	// Style is --tag-style; "" means semver.
	Style TagStyle
	// ChannelTags is --channel-tags: a prerelease also gets <channel> and
	// X.Y-<channel> (rc, 2.1-rc), each moved only to the highest
	// prerelease of its channel.
	ChannelTags bool
	// Commit is the full hash of the commit built, for the sha tag.
	Commit string
}

// TagKind says what a tag is for, and so whether it may move.
type TagKind string

// The kinds of tags, in the order they are written.
const (
	// TagExact is the version itself; immutable.
	TagExact TagKind = "exact"
	// TagSHA is sha-<12 hex> of the commit; never floating.
	TagSHA TagKind = "sha"
	// TagChannel is <channel> or X.Y-<channel> of a prerelease.
	TagChannel TagKind = "channel"
	// TagMinor is X.Y.
	TagMinor TagKind = "minor"
	// TagMajor is X.
	TagMajor TagKind = "major"
	// TagLatest is latest.
	TagLatest TagKind = "latest"
)

// Floating reports whether tags of this kind move from image to image.
func (k TagKind) Floating() bool {
	return k != TagExact && k != TagSHA
}

// Tag is one tag the policy asks for.
type Tag struct {
	Name string
	Kind TagKind
}

// TagPlan is the policy's answer: the tags in the order they must be
// written (exact, sha, channel, X.Y, X, latest: floating tags last, so a
// run that stops half-way never leaves a floating tag ahead of its exact
// tag), and warnings for a person.
type TagPlan struct {
	Tags     []Tag
	Warnings []string
}

// Names lists the tag names in order.
func (p TagPlan) Names() []string {
	out := make([]string, len(p.Tags))
	for i, t := range p.Tags {
		out[i] = t.Name
	}
	return out
}

// Exact is the exact tag: the one that must not be overwritten with other
// bytes (the caller checks the registry; see SPEC §3.1).
func (p TagPlan) Exact() string {
	for _, t := range p.Tags {
		if t.Kind == TagExact {
			return t.Name
		}
	}
	return ""
}

// shaTagLen is the fixed length of the sha tag: git's --short grows with
// the repository, which would rename the tag of the same commit.
const shaTagLen = 12

// PlanTags is the tag policy of SPEC §3, one pure function: the tags version
// v gets given the versions already released, known (build: the
// repository's release tags; promote: the semver tags of the destination).
// known == nil means the released versions are unknown (Build: any shallow
// clone, whose tags may be a subset): no floating tag moves, with a warning;
// an empty, non-nil known is a first release. Build metadata is
// ignored in every comparison and never reaches a tag. Every tag is
// validated before it is returned; an invalid one is an error wrapping
// ErrInvalid, so nothing is pushed.
func PlanTags(v *semver.Version, known []*semver.Version, opts TagOptions) (TagPlan, error) {
	if v == nil {
		return TagPlan{}, fmt.Errorf("tag policy: no version: %w", ErrInvalid)
	}
	var plan TagPlan
	add := func(name string, kind TagKind) {
		plan.Tags = append(plan.Tags, Tag{Name: name, Kind: kind})
	}

	exact, err := exactTag(v, opts.Style)
	if err != nil {
		return TagPlan{}, err
	}
	add(exact, TagExact)
	if !opts.NoSHATag {
		c := strings.ToLower(opts.Commit)
		if len(c) < shaTagLen || strings.Trim(c, "0123456789abcdef") != "" {
			return TagPlan{}, fmt.Errorf("sha tag: commit %q is not a full hash: %w", opts.Commit, ErrInvalid)
		}
		add("sha-"+c[:shaTagLen], TagSHA)
	}

	latest := opts.Latest
	if latest == "" {
		latest = LatestAuto
	}
	pre := v.Prerelease() != ""
	if known == nil {
		moved := "X.Y, X, latest"
		if latest == LatestAlways && !pre {
			add("latest", TagLatest)
			moved = "X.Y, X" // --latest always asked for latest regardless
		}
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("the released versions are unknown (a shallow clone may lack release tags): no %s or channel tag is moved; git fetch --unshallow --tags to move them", moved))
		return plan, validateTags(plan)
	}

	if pre {
		if opts.ChannelTags {
			channelTags(v, known, &plan)
		}
		if latest == LatestAlways {
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("--latest always: a prerelease (%s) never moves latest", v))
		}
		return plan, validateTags(plan)
	}

	// Stable: X.Y, X and latest, each only if v is the highest stable
	// version of its range among known ∪ {v}.
	highest := func(in func(*semver.Version) bool) bool {
		for _, k := range known {
			if k != nil && k.Prerelease() == "" && in(k) && k.GreaterThan(v) {
				return false
			}
		}
		return true
	}
	x, y := v.Major(), v.Minor()
	if highest(func(k *semver.Version) bool { return k.Major() == x && k.Minor() == y }) {
		add(fmt.Sprintf("%d.%d", x, y), TagMinor)
	}
	if x > 0 && highest(func(k *semver.Version) bool { return k.Major() == x }) {
		add(fmt.Sprintf("%d", x), TagMajor)
	}
	switch latest {
	case LatestAlways:
		add("latest", TagLatest)
	case LatestAuto:
		if highest(func(*semver.Version) bool { return true }) {
			add("latest", TagLatest)
		}
	}
	return plan, validateTags(plan)
}

// exactTag spells v without its build metadata.
func exactTag(v *semver.Version, style TagStyle) (string, error) {
	switch style {
	case "", TagStyleSemver:
		return DockerTag(v), nil
	case TagStylePEP440:
		bare, err := v.SetMetadata("")
		if err != nil {
			return "", fmt.Errorf("tag of %s: %w", v, err)
		}
		s, err := PEP440(&bare)
		if err != nil {
			return "", WithHint(fmt.Errorf("pep440 tag style: %w", err), "use --tag-style semver, or a prerelease of the form alpha.N, beta.N, rc.N or dev.N")
		}
		return s, nil
	}
	return "", fmt.Errorf("tag style %q: %w", style, ErrInvalid)
}

// channelTags adds <channel> and X.Y-<channel> for prerelease v when it is
// the highest prerelease of that channel (overall, and within X.Y).
func channelTags(v *semver.Version, known []*semver.Version, plan *TagPlan) {
	ch := channelOf(v)
	if ch == "" {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("prerelease %s has no channel name (letters before the first dot): no channel tags", v))
		return
	}
	highest := func(in func(*semver.Version) bool) bool {
		for _, k := range known {
			if k != nil && channelOf(k) == ch && in(k) && k.GreaterThan(v) {
				return false
			}
		}
		return true
	}
	x, y := v.Major(), v.Minor()
	if highest(func(k *semver.Version) bool { return k.Major() == x && k.Minor() == y }) {
		plan.Tags = append(plan.Tags, Tag{Name: fmt.Sprintf("%d.%d-%s", x, y, ch), Kind: TagChannel})
	}
	if highest(func(*semver.Version) bool { return true }) {
		plan.Tags = append(plan.Tags, Tag{Name: ch, Kind: TagChannel})
	}
}

// channelOf is the channel of a prerelease: its first identifier when that
// is a word (rc of rc.1). Numeric identifiers would collide with the X tag,
// and "latest" with latest, so they have no channel.
func channelOf(v *semver.Version) string {
	first, _, _ := strings.Cut(v.Prerelease(), ".")
	if first == "" || strings.EqualFold(first, "latest") {
		return ""
	}
	for _, r := range first {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return ""
		}
	}
	return strings.ToLower(first)
}

func validateTags(p TagPlan) error {
	seen := map[string]bool{}
	for _, t := range p.Tags {
		if err := ValidTag(t.Name); err != nil {
			return fmt.Errorf("tag policy: %w", err)
		}
		if seen[t.Name] {
			return fmt.Errorf("tag policy: tag %q planned twice: %w", t.Name, ErrInvalid)
		}
		seen[t.Name] = true
	}
	return nil
}
