package release

import (
	"errors"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-cmp/cmp"
)

const testCommit = "0123456789abcdef0123456789abcdef01234567"

func TestPlanTags(t *testing.T) {
	// known: space-separated versions; "?" = unknown (nil).
	// want: the tag names in order; sha tags only where opts ask for them.
	tests := []struct {
		name  string
		known string
		v     string
		opts  TagOptions
		want  string
		warn  string // substring of a warning, "" = no warning
	}{
		// The spec's worked examples.
		{name: "patch on an old minor", known: "1.2.3 1.3.0 2.0.0", v: "1.2.4", want: "1.2.4 1.2"},
		{name: "patch on an old major line", known: "1.3.0 2.0.0", v: "1.3.1", want: "1.3.1 1.3 1"},
		{name: "prerelease gets its exact tag only", known: "2.0.0", v: "2.1.0-rc.1", want: "2.1.0-rc.1"},
		{name: "0.x without bare 0", known: "0.4.0", v: "0.5.0", want: "0.5.0 0.5 latest"},

		{name: "first release", known: "", v: "1.0.0", want: "1.0.0 1.0 1 latest"},
		{name: "first release 0.1.0", known: "", v: "0.1.0", want: "0.1.0 0.1 latest"},
		{name: "newest", known: "1.2.3 1.3.0 2.0.0", v: "2.0.1", want: "2.0.1 2.0 2 latest"},
		{name: "new minor on old major", known: "1.3.0 2.0.0", v: "1.4.0", want: "1.4.0 1.4 1"},
		{name: "older than an existing patch of its minor", known: "1.2.5", v: "1.2.4", want: "1.2.4"},
		{name: "rebuild of a released version (K holds V)", known: "1.3.0 2.0.0", v: "2.0.0", want: "2.0.0 2.0 2 latest"},
		{name: "rebuild of an old released version", known: "1.3.0 2.0.0", v: "1.3.0", want: "1.3.0 1.3 1"},
		{name: "prereleases in K do not block X.Y", known: "1.3.0 1.4.0-rc.1 2.0.0-rc.1", v: "1.3.1", want: "1.3.1 1.3 1 latest"},
		{name: "prerelease never moves latest, X, X.Y", known: "", v: "1.0.0-rc.1", want: "1.0.0-rc.1"},
		{name: "build metadata never in a tag", known: "1.0.0", v: "1.1.0+build.5", want: "1.1.0 1.1 1 latest"},
		{name: "build metadata ignored in comparisons", known: "1.1.0+a", v: "1.1.0+b", want: "1.1.0 1.1 1 latest"},
		{name: "dev prerelease with metadata", known: "1.2.0", v: "1.3.0-dev.4+g1a2b3c4", want: "1.3.0-dev.4"},

		// sha tag.
		{name: "sha tag after exact", known: "1.0.0", v: "1.1.0", opts: TagOptions{Commit: testCommit}, want: "1.1.0 sha-0123456789ab 1.1 1 latest"},
		{name: "sha tag on a prerelease", known: "", v: "2.0.0-rc.1", opts: TagOptions{Commit: strings.ToUpper(testCommit)}, want: "2.0.0-rc.1 sha-0123456789ab"},

		// --latest.
		{name: "latest never", known: "1.0.0", v: "1.1.0", opts: TagOptions{Latest: LatestNever}, want: "1.1.0 1.1 1"},
		{name: "latest always on an old line", known: "1.3.0 2.0.0", v: "1.3.1", opts: TagOptions{Latest: LatestAlways}, want: "1.3.1 1.3 1 latest"},
		{name: "latest always ignored for a prerelease", known: "1.0.0", v: "2.0.0-rc.1", opts: TagOptions{Latest: LatestAlways}, want: "2.0.0-rc.1", warn: "never moves latest"},

		// Unknown history.
		{name: "K unknown: no floating tags", known: "?", v: "1.2.0", want: "1.2.0", warn: "released versions are unknown"},
		{name: "K unknown: latest always still applies", known: "?", v: "1.2.0", opts: TagOptions{Latest: LatestAlways}, want: "1.2.0 latest", warn: "released versions are unknown"},
		{name: "K unknown: no channel tags", known: "?", v: "1.2.0-rc.1", opts: TagOptions{ChannelTags: true}, want: "1.2.0-rc.1", warn: "released versions are unknown"},
		{name: "K unknown: sha tag kept", known: "?", v: "1.2.0", opts: TagOptions{Commit: testCommit}, want: "1.2.0 sha-0123456789ab", warn: "unknown"},

		// Channel tags.
		{name: "channel tags", known: "2.0.0", v: "2.1.0-rc.1", opts: TagOptions{ChannelTags: true}, want: "2.1.0-rc.1 2.1-rc rc"},
		{name: "channel tags: rc.10 after rc.9", known: "2.1.0-rc.9", v: "2.1.0-rc.10", opts: TagOptions{ChannelTags: true}, want: "2.1.0-rc.10 2.1-rc rc"},
		{name: "channel tags: not the highest of its channel", known: "2.2.0-rc.1", v: "2.1.0-rc.2", opts: TagOptions{ChannelTags: true}, want: "2.1.0-rc.2 2.1-rc"},
		{name: "channel tags: not the highest within X.Y", known: "2.1.0-rc.3", v: "2.1.0-rc.2", opts: TagOptions{ChannelTags: true}, want: "2.1.0-rc.2"},
		{name: "channel tags: other channels do not count", known: "2.1.0-rc.1 3.0.0-beta.1", v: "2.1.0-beta.2", opts: TagOptions{ChannelTags: true}, want: "2.1.0-beta.2 2.1-beta"},
		{name: "channel tags with sha order", known: "", v: "1.0.0-alpha.1", opts: TagOptions{ChannelTags: true, Commit: testCommit}, want: "1.0.0-alpha.1 sha-0123456789ab 1.0-alpha alpha"},
		{name: "channel tags: numeric prerelease has no channel", known: "", v: "1.0.0-1", opts: TagOptions{ChannelTags: true}, want: "1.0.0-1", warn: "no channel name"},
		{name: "channel tags: latest is no channel", known: "", v: "1.0.0-latest.1", opts: TagOptions{ChannelTags: true}, want: "1.0.0-latest.1", warn: "no channel name"},
		{name: "channel tags off for stable", known: "", v: "1.0.0", opts: TagOptions{ChannelTags: true}, want: "1.0.0 1.0 1 latest"},

		// PEP 440 spelling.
		{name: "pep440 rc", known: "2.0.0", v: "2.1.0-rc.1", opts: TagOptions{Style: TagStylePEP440}, want: "2.1.0rc1"},
		{name: "pep440 alpha with channel", known: "", v: "2.1.0-alpha.2", opts: TagOptions{Style: TagStylePEP440, ChannelTags: true}, want: "2.1.0a2 2.1-alpha alpha"},
		{name: "pep440 dev drops local version", known: "", v: "2.1.0-dev.3+g1a2b3c4.dirty", opts: TagOptions{Style: TagStylePEP440}, want: "2.1.0.dev3"},
		{name: "pep440 stable", known: "1.0.0", v: "1.0.1", opts: TagOptions{Style: TagStylePEP440}, want: "1.0.1 1.0 1 latest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.Commit == "" {
				opts.NoSHATag = true
			}
			got, err := PlanTags(semver.MustParse(tt.v), parseKnown(t, tt.known), opts)
			if err != nil {
				t.Fatalf("PlanTags() error = %v", err)
			}
			if diff := cmp.Diff(strings.Fields(tt.want), got.Names()); diff != "" {
				t.Errorf("PlanTags(%s, {%s}) tags mismatch (-want +got):\n%s", tt.v, tt.known, diff)
			}
			warnings := strings.Join(got.Warnings, "\n")
			if (tt.warn == "") != (warnings == "") || !strings.Contains(warnings, tt.warn) {
				t.Errorf("PlanTags() warnings = %q, want %q", warnings, tt.warn)
			}
			if got.Exact() != got.Tags[0].Name || got.Tags[0].Kind != TagExact {
				t.Errorf("the exact tag is not first: %v", got.Tags)
			}
			floating := false
			for _, tag := range got.Tags {
				if tag.Kind.Floating() {
					floating = true
				} else if floating {
					t.Errorf("immutable tag %q after a floating tag: %v", tag.Name, got.Tags)
				}
			}
		})
	}
}

func TestPlanTagsErrors(t *testing.T) {
	tests := []struct {
		name string
		v    string
		opts TagOptions
		want string
	}{
		{name: "no commit for the sha tag", v: "1.0.0", want: "not a full hash"},
		{name: "short commit", v: "1.0.0", opts: TagOptions{Commit: "abc1234"}, want: "not a full hash"},
		{name: "non-hex commit", v: "1.0.0", opts: TagOptions{Commit: "zz23456789abcdef"}, want: "not a full hash"},
		{name: "pep440 style without a pep440 form", v: "1.0.0-feature.x", opts: TagOptions{NoSHATag: true, Style: TagStylePEP440}, want: "no PEP 440 form"},
		{name: "tag too long", v: "1.0.0-" + strings.Repeat("a", 130), opts: TagOptions{NoSHATag: true}, want: "characters long"},
		{name: "unknown style", v: "1.0.0", opts: TagOptions{NoSHATag: true, Style: "calver"}, want: "tag style"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PlanTags(semver.MustParse(tt.v), nil, tt.opts)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("PlanTags() error = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestParseTagOptions(t *testing.T) {
	if m, err := ParseLatestMode("Always"); err != nil || m != LatestAlways {
		t.Errorf("ParseLatestMode(Always) = %q, %v", m, err)
	}
	if m, err := ParseLatestMode(""); err != nil || m != LatestAuto {
		t.Errorf("ParseLatestMode(\"\") = %q, %v", m, err)
	}
	if _, err := ParseLatestMode("sometimes"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseLatestMode(sometimes) error = %v", err)
	}
	if s, err := ParseTagStyle("PEP440"); err != nil || s != TagStylePEP440 {
		t.Errorf("ParseTagStyle(PEP440) = %q, %v", s, err)
	}
	if _, err := ParseTagStyle("calver"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseTagStyle(calver) error = %v", err)
	}
}

func parseKnown(t *testing.T, s string) []*semver.Version {
	t.Helper()
	if s == "?" {
		return nil
	}
	out := []*semver.Version{}
	for _, f := range strings.Fields(s) {
		out = append(out, semver.MustParse(f))
	}
	return out
}
