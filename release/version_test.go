package release

import (
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo"
)

// hash gives every label of a test a stable 40-hex commit hash.
func hash(label string) string { return fmt.Sprintf("%x", sha1.Sum([]byte(label))) }

// history builds the commits of a release from messages, newest first:
// commit i is "c<i+1>" and its parent is the next one; a message starting
// with "MERGE " makes a merge whose second parent is "side<i>". "{cN}" in
// a message is replaced with commit N's hash.
func history(msgs ...string) []gitinfo.Commit {
	out := make([]gitinfo.Commit, len(msgs))
	for i, m := range msgs {
		c := gitinfo.Commit{Hash: hash(fmt.Sprintf("c%d", i+1)), Parents: []string{hash(fmt.Sprintf("c%d", i+2))}}
		if rest, ok := strings.CutPrefix(m, "MERGE "); ok {
			m = rest
			c.Parents = append(c.Parents, hash(fmt.Sprintf("side%d", i+1)))
		}
		c.Message = regexp.MustCompile(`\{c(\d+)\}`).ReplaceAllStringFunc(m, func(s string) string {
			return hash(strings.Trim(s, "{}"))
		})
		out[i] = c
	}
	return out
}

// tags reads "name@label name@label": HEAD is c1.
func tags(spec string) []gitinfo.Tag {
	var out []gitinfo.Tag
	for _, f := range strings.Fields(spec) {
		name, label, _ := strings.Cut(f, "@")
		if label == "HEAD" {
			label = "c1"
		}
		out = append(out, gitinfo.Tag{Name: name, Commit: hash(label)})
	}
	return out
}

func labels(spec string) []string {
	var out []string
	for _, f := range strings.Fields(spec) {
		out = append(out, hash(f))
	}
	return out
}

func TestDerive(t *testing.T) {
	withPre := func(o Options, pre string) Options { o.Pre = pre; return o }
	withDev := func(o Options) Options { o.Dev = true; return o }
	withAs := func(o Options, v string) Options { o.ReleaseAs = v; return o }
	withPrefix := func(o Options, p string) Options { o.TagPrefix = p; return o }
	withInitial := func(o Options, v string) Options { o.Initial = v; return o }
	def := DefaultOptions()
	head7 := hash("c1")[:7]

	tests := []struct {
		name      string
		tags      string // name@label; labels cN are commits of the release, HEAD is c1
		reached   string // labels of stable tag commits the walk met
		behind    string
		commits   []string
		opts      Options
		dirty     bool
		shallow   bool
		truncated bool
		// want
		version string
		tag     string
		prev    string
		bump    Bump
		tagged  bool
		err     error
	}{
		// base + bump
		{name: "fix", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: x"}, opts: def, version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3", bump: BumpPatch},
		{name: "feat", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: x", "feat: y"}, opts: def, version: "1.3.0", tag: "v1.3.0", prev: "v1.2.3", bump: BumpMinor},
		{name: "bang", tags: "v1.2.3@b", reached: "b", commits: []string{"feat!: x", "feat: y"}, opts: def, version: "2.0.0", tag: "v2.0.0", prev: "v1.2.3", bump: BumpMajor},
		{name: "footer", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: x\n\nBREAKING CHANGE: y"}, opts: def, version: "2.0.0", tag: "v2.0.0", prev: "v1.2.3", bump: BumpMajor},
		{name: "breaking in header", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: BREAKING CHANGE: y"}, opts: def, version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3", bump: BumpPatch},
		{name: "breaking mid-paragraph", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: x\n\nWe made sure this is no\nBREAKING CHANGE: at all"}, opts: def, version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3", bump: BumpPatch},
		{name: "not conventional", tags: "v1.2.3@b", reached: "b", commits: []string{"Update README"}, opts: def, version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3", bump: BumpPatch},
		{name: "CRLF footer", tags: "v1.2.3@b", reached: "b", commits: []string{"feat: x\r\n\r\nBREAKING CHANGE: y\r\n"}, opts: def, version: "2.0.0", tag: "v2.0.0", prev: "v1.2.3", bump: BumpMajor},
		{name: "nothing to release", tags: "v1.2.3@b", reached: "b", commits: []string{"docs: x", "chore: y", "ci: z"}, opts: def, version: "1.2.3", tag: "v1.2.3", prev: "v1.2.3", bump: BumpNone},
		{name: "no commits (paths)", tags: "v1.2.3@b", reached: "b", opts: def, version: "1.2.3", tag: "v1.2.3", prev: "v1.2.3", bump: BumpNone},
		{name: "merge does not bump", tags: "v1.2.3@b", reached: "b", commits: []string{"MERGE Merge pull request #1 from o/x", "docs: y"}, opts: def, version: "1.2.3", tag: "v1.2.3", prev: "v1.2.3", bump: BumpNone},
		{name: "merged commits bump", tags: "v1.2.3@b", reached: "b", commits: []string{"MERGE Merge branch 'x'", "feat: y"}, opts: def, version: "1.3.0", tag: "v1.3.0", prev: "v1.2.3", bump: BumpMinor},
		{name: "custom rules", tags: "v1.2.3@b", reached: "b", commits: []string{"docs: x"}, opts: func() Options { o := def; o.Rules, _ = NewRules(map[string]string{"docs": "patch"}); return o }(), version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3", bump: BumpPatch},
		// 0.x
		{name: "0.x breaking is minor", tags: "v0.4.2@b", reached: "b", commits: []string{"feat!: x"}, opts: def, version: "0.5.0", tag: "v0.5.0", prev: "v0.4.2", bump: BumpMinor},
		{name: "0.x footer is minor", tags: "v0.4.2@b", reached: "b", commits: []string{"fix: x\n\nBREAKING-CHANGE: y"}, opts: def, version: "0.5.0", tag: "v0.5.0", prev: "v0.4.2", bump: BumpMinor},
		{name: "0.x feat", tags: "v0.4.2@b", reached: "b", commits: []string{"feat: x"}, opts: def, version: "0.5.0", tag: "v0.5.0", prev: "v0.4.2", bump: BumpMinor},
		{name: "release-as 1.0.0 from 0.x", tags: "v0.4.2@b", reached: "b", commits: []string{"feat!: x"}, opts: withAs(def, "1.0.0"), version: "1.0.0", tag: "v1.0.0", prev: "v0.4.2", bump: BumpMinor},
		// reverts
		{name: "revert cancels", tags: "v1.2.3@b", reached: "b", commits: []string{"Revert \"feat: x\"\n\nThis reverts commit {c2}.", "feat: x"}, opts: def, version: "1.2.3", tag: "v1.2.3", prev: "v1.2.3", bump: BumpNone},
		{name: "revert by short hash", tags: "v1.2.3@b", reached: "b", commits: []string{"Revert \"feat!: x\"\n\nThis reverts commit " + hash("c3")[:8] + ".", "fix: y", "feat!: x"}, opts: def, version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3", bump: BumpPatch},
		{name: "revert of a released commit", tags: "v1.2.3@b", reached: "b", commits: []string{"Revert \"feat: x\"\n\nThis reverts commit " + hash("old") + "."}, opts: def, version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3", bump: BumpPatch},
		{name: "revert of a revert", tags: "v1.2.3@b", reached: "b", commits: []string{"Revert \"Revert \"feat: x\"\"\n\nThis reverts commit {c2}.", "Revert \"feat: x\"\n\nThis reverts commit {c3}.", "feat: x"}, opts: def, version: "1.3.0", tag: "v1.3.0", prev: "v1.2.3", bump: BumpMinor},
		{name: "conventional revert with refs", tags: "v1.2.3@b", reached: "b", commits: []string{"revert: x\n\nRefs: {c2}", "feat: x"}, opts: def, version: "1.2.3", tag: "v1.2.3", prev: "v1.2.3", bump: BumpNone},
		// HEAD tagged
		{name: "tagged", tags: "v1.2.3@b v1.3.0@HEAD", reached: "b", commits: []string{"feat: x"}, opts: def, version: "1.3.0", tag: "v1.3.0", prev: "v1.2.3", bump: BumpMinor, tagged: true},
		{name: "tagged whatever the commits", tags: "v1.2.3@b v1.2.4@HEAD", reached: "b", commits: []string{"feat!: x"}, opts: def, version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3", bump: BumpMajor, tagged: true},
		{name: "rc and final on HEAD", tags: "v1.0.0-rc.1@HEAD v1.0.0@HEAD", commits: []string{"feat: x"}, opts: def, version: "1.0.0", tag: "v1.0.0", bump: BumpMinor, tagged: true},
		{name: "rc and final on HEAD with --pre", tags: "v1.0.0-rc.1@HEAD v1.0.0@HEAD", commits: []string{"feat: x"}, opts: withPre(def, "rc"), version: "1.0.0", tag: "v1.0.0", bump: BumpMinor, tagged: true},
		{name: "tagged with --dev", tags: "v1.2.3@b v1.3.0@HEAD", reached: "b", commits: []string{"feat: x"}, opts: withDev(def), version: "1.3.0", tag: "v1.3.0", prev: "v1.2.3", bump: BumpMinor, tagged: true},
		{name: "tagged with the same --release-as", tags: "v1.3.0@HEAD", commits: []string{"feat: x"}, opts: withAs(def, "1.3.0"), version: "1.3.0", tag: "v1.3.0", bump: BumpMinor, tagged: true},
		{name: "tagged with another --release-as", tags: "v1.3.0@HEAD", commits: []string{"feat: x"}, opts: withAs(def, "2.0.0"), err: ErrInvalid},
		{name: "rc on HEAD promotes to final", tags: "v1.2.3@b v1.3.0-rc.1@HEAD", reached: "b", commits: []string{"feat: x"}, opts: def, version: "1.3.0", tag: "v1.3.0", prev: "v1.2.3", bump: BumpMinor},
		{name: "rc on HEAD with --pre rc", tags: "v1.2.3@b v1.3.0-rc.1@HEAD", reached: "b", commits: []string{"feat: x"}, opts: withPre(def, "rc"), version: "1.3.0-rc.1", tag: "v1.3.0-rc.1", prev: "v1.2.3", bump: BumpMinor, tagged: true},
		{name: "rc on HEAD with --pre beta", tags: "v1.2.3@b v1.3.0-rc.1@HEAD", reached: "b", commits: []string{"feat: x"}, opts: withPre(def, "beta"), version: "1.3.0-beta.1", tag: "v1.3.0-beta.1", prev: "v1.2.3", bump: BumpMinor},
		// no release tag
		{name: "initial", commits: []string{"docs: x"}, opts: def, version: "0.1.0", tag: "v0.1.0", bump: BumpNone},
		{name: "initial flag", commits: []string{"feat: x"}, opts: withInitial(def, "1.0.0"), version: "1.0.0", tag: "v1.0.0", bump: BumpMinor},
		{name: "initial with --pre", tags: "v0.1.0-rc.1@c2", commits: []string{"feat: x", "fix: y"}, opts: withPre(def, "rc"), version: "0.1.0-rc.2", tag: "v0.1.0-rc.2", bump: BumpMinor},
		{name: "initial with --release-as", commits: []string{"feat: x"}, opts: withAs(def, "3.0.0"), version: "3.0.0", tag: "v3.0.0", bump: BumpMinor},
		{name: "initial invalid", opts: withInitial(def, "1.0"), err: ErrInvalid},
		{name: "initial prerelease", opts: withInitial(def, "1.0.0-rc.1"), err: ErrInvalid},
		{name: "zero options", commits: []string{"feat: x"}, version: "0.1.0", tag: "0.1.0", bump: BumpMinor},
		// prereleases
		{name: "pre first", tags: "v1.2.3@b", reached: "b", commits: []string{"feat: x"}, opts: withPre(def, "rc"), version: "1.3.0-rc.1", tag: "v1.3.0-rc.1", prev: "v1.2.3", bump: BumpMinor},
		{name: "pre rc.10 after rc.9", tags: "v1.2.3@b v1.3.0-rc.9@x v1.3.0-rc.10@y v1.3.0-rc.2@z", reached: "b", commits: []string{"feat: x"}, opts: withPre(def, "rc"), version: "1.3.0-rc.11", tag: "v1.3.0-rc.11", prev: "v1.2.3", bump: BumpMinor},
		{name: "pre counts unreachable tags", tags: "v1.2.3@b v1.3.0-rc.4@elsewhere", reached: "b", commits: []string{"feat: x"}, opts: withPre(def, "rc"), version: "1.3.0-rc.5", tag: "v1.3.0-rc.5", prev: "v1.2.3", bump: BumpMinor},
		{name: "pre ignores other versions and labels", tags: "v1.2.3@b v1.2.4-rc.7@x v1.3.0-beta.3@y v1.3.0-rc@z v1.3.0-rc.1.1@w", reached: "b", commits: []string{"feat: x"}, opts: withPre(def, "rc"), version: "1.3.0-rc.1", tag: "v1.3.0-rc.1", prev: "v1.2.3", bump: BumpMinor},
		{name: "prerelease is never the base", tags: "v1.2.3@b v1.3.0-rc.1@c2", reached: "b", commits: []string{"fix: x", "feat: y"}, opts: def, version: "1.3.0", tag: "v1.3.0", prev: "v1.2.3", bump: BumpMinor},
		{name: "prerelease of a newer version is never the base", tags: "v1.2.3@b v2.0.0-rc.1@r", reached: "b r", commits: []string{"fix: x"}, opts: def, version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3", bump: BumpPatch},
		{name: "pre and nothing to release", tags: "v1.2.3@b", reached: "b", commits: []string{"docs: x"}, opts: withPre(def, "rc"), version: "1.2.3", tag: "v1.2.3", prev: "v1.2.3", bump: BumpNone},
		{name: "pre label invalid", opts: withPre(def, "rc.1"), err: ErrInvalid},
		{name: "pre label numeric", opts: withPre(def, "7"), err: ErrInvalid},
		{name: "pre and dev", opts: withDev(withPre(def, "rc")), err: ErrInvalid},
		// dev
		{name: "dev", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: x", "docs: y", "fix: z"}, opts: withDev(def), version: "1.2.4-dev.3+g" + head7, tag: "v1.2.4-dev.3+g" + head7, prev: "v1.2.3", bump: BumpPatch},
		{name: "dev dirty", tags: "v1.2.3@b", reached: "b", commits: []string{"feat: x"}, opts: withDev(def), dirty: true, version: "1.3.0-dev.1+g" + head7 + ".dirty", tag: "v1.3.0-dev.1+g" + head7 + ".dirty", prev: "v1.2.3", bump: BumpMinor},
		{name: "dev with nothing to release", tags: "v1.2.3@b", reached: "b", commits: []string{"docs: x", "chore: y"}, opts: withDev(def), version: "1.2.4-dev.2+g" + head7, tag: "v1.2.4-dev.2+g" + head7, prev: "v1.2.3", bump: BumpNone},
		{name: "dev initial", commits: []string{"feat: x"}, opts: withDev(def), version: "0.1.0-dev.1+g" + head7, tag: "v0.1.0-dev.1+g" + head7, bump: BumpMinor},
		// release-as
		{name: "release-as", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: x"}, opts: withAs(def, "2.0.0"), version: "2.0.0", tag: "v2.0.0", prev: "v1.2.3", bump: BumpPatch},
		{name: "release-as with prefix", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: x"}, opts: withAs(def, "v1.5.0"), version: "1.5.0", tag: "v1.5.0", prev: "v1.2.3", bump: BumpPatch},
		{name: "release-as with nothing to release", tags: "v1.2.3@b", reached: "b", commits: []string{"docs: x"}, opts: withAs(def, "1.2.4"), version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3", bump: BumpNone},
		{name: "release-as and pre", tags: "v1.2.3@b v2.0.0-rc.1@x", reached: "b", commits: []string{"fix: x"}, opts: withPre(withAs(def, "2.0.0"), "rc"), version: "2.0.0-rc.2", tag: "v2.0.0-rc.2", prev: "v1.2.3", bump: BumpPatch},
		{name: "release-as equal to base", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: x"}, opts: withAs(def, "1.2.3"), err: ErrInvalid},
		{name: "release-as below base", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: x"}, opts: withAs(def, "1.0.0"), err: ErrInvalid},
		{name: "release-as prerelease", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: x"}, opts: withAs(def, "2.0.0-rc.1"), err: ErrInvalid},
		{name: "release-as lax", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: x"}, opts: withAs(def, "2.0"), err: ErrInvalid},
		// which tag is the base
		{name: "highest reachable", tags: "v1.2.3@b v1.2.4@m v1.1.0@o", reached: "b m", commits: []string{"fix: x"}, opts: def, version: "1.2.5", tag: "v1.2.5", prev: "v1.2.4", bump: BumpPatch},
		{name: "maintenance merged back", tags: "v2.0.0@b v1.9.1@m", reached: "b m", commits: []string{"MERGE Merge branch 'release/1.x'", "fix: x"}, opts: def, version: "2.0.1", tag: "v2.0.1", prev: "v2.0.0", bump: BumpPatch},
		{name: "higher unreachable is not the base", tags: "v1.2.3@b v2.0.0@u", reached: "b", commits: []string{"fix: x"}, opts: def, version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3", bump: BumpPatch},
		{name: "higher behind is the base", tags: "v1.2.3@b v2.0.0@old", reached: "b", behind: "old", commits: []string{"fix: x"}, opts: def, version: "2.0.1", tag: "v2.0.1", prev: "v2.0.0", bump: BumpPatch},
		{name: "only unreachable tags", tags: "v1.0.0@u", commits: []string{"feat: x"}, opts: def, version: "0.1.0", tag: "v0.1.0", bump: BumpMinor},
		{name: "lax and foreign tags", tags: "v1.2@a v01.2.3@b 1.2.3.4@c release-5@d 2023.10@e V1.2.3@f v1.2.3.4@g vv1.2.3@h v1.2.3-@i 1.2.3@j", reached: "a b c d e f g h i j", commits: []string{"feat: x"}, opts: def, version: "0.1.0", tag: "v0.1.0", bump: BumpMinor},
		{name: "metadata tag", tags: "v1.2.3+build.5@b", reached: "b", commits: []string{"fix: x"}, opts: def, version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3+build.5", bump: BumpPatch},
		{name: "prefix app/v", tags: "app-admin/v1.0.0@a app/v0.3.0@b v9.0.0@c app/v1@d", reached: "a b c", commits: []string{"feat: x"}, opts: withPrefix(def, "app/v"), version: "0.4.0", tag: "app/v0.4.0", prev: "app/v0.3.0", bump: BumpMinor},
		{name: "prefix app/v and app-admin/v", tags: "app-admin/v1.0.0@a", reached: "a", commits: []string{"feat: x"}, opts: withPrefix(def, "app/v"), version: "0.1.0", tag: "app/v0.1.0", bump: BumpMinor},
		{name: "empty prefix", tags: "1.2.3@b v2.0.0@c", reached: "b c", commits: []string{"fix: x"}, opts: withPrefix(def, ""), version: "1.2.4", tag: "1.2.4", prev: "1.2.3", bump: BumpPatch},
		{name: "overflow", tags: "v18446744073709551615.0.0@b", reached: "b", commits: []string{"feat!: x"}, opts: def, err: ErrInvalid},
		// shallow
		{name: "truncated walk", tags: "v1.2.3@b", commits: []string{"fix: x"}, opts: def, shallow: true, truncated: true, err: ErrHistory},
		{name: "truncated walk, HEAD tagged", tags: "v1.2.3@b v1.3.0@HEAD", commits: []string{"fix: x"}, opts: def, shallow: true, truncated: true, version: "1.3.0", tag: "v1.3.0", tagged: true},
		{name: "shallow without tags", commits: []string{"fix: x"}, opts: def, shallow: true, err: ErrHistory},
		{name: "shallow without release tags", tags: "release-5@c2", commits: []string{"fix: x"}, opts: def, shallow: true, err: ErrHistory},
		{name: "shallow, deep enough", tags: "v1.2.3@b", reached: "b", commits: []string{"fix: x"}, opts: def, shallow: true, version: "1.2.4", tag: "v1.2.4", prev: "v1.2.3", bump: BumpPatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{
				Head:      hash("c1"),
				Tags:      tags(tt.tags),
				Commits:   history(tt.commits...),
				Reached:   labels(tt.reached),
				Behind:    labels(tt.behind),
				Dirty:     tt.dirty,
				Shallow:   tt.shallow,
				Truncated: tt.truncated,
			}
			got, err := Derive(in, tt.opts)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Derive() error = %v, want %v", err, tt.err)
				}
				if errors.Is(err, ErrHistory) && Hint(err) == "" {
					t.Errorf("ErrHistory without a hint: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Derive(): %v", err)
			}
			type summary struct {
				Version, Tag, Prev string
				Bump               Bump
				Tagged             bool
				Commits            int
			}
			want := summary{tt.version, tt.tag, tt.prev, tt.bump, tt.tagged, len(tt.commits)}
			if tt.truncated {
				want.Commits = 0
			}
			gotS := summary{got.Version, got.Tag, got.PreviousTag, got.Bump, got.Tagged, got.Commits}
			if diff := cmp.Diff(want, gotS); diff != "" {
				t.Errorf("Derive() (-want +got):\n%s\nsteps: %q", diff, got.Explanation.Steps)
			}
			if got.Commit != in.Head || got.Dirty != tt.dirty || got.Shallow != tt.shallow {
				t.Errorf("Derive() commit/dirty/shallow = %s/%v/%v", got.Commit, got.Dirty, got.Shallow)
			}
			if got.SemVer == nil || got.SemVer.String() != got.Version {
				t.Errorf("SemVer = %v, Version = %s", got.SemVer, got.Version)
			}
			if got.Prerelease != (got.SemVer.Prerelease() != "") {
				t.Errorf("Prerelease = %v for %s", got.Prerelease, got.Version)
			}
			if want := DockerTag(got.SemVer); got.DockerTag != want {
				t.Errorf("DockerTag = %q, want %q", got.DockerTag, want)
			}
			if p, err := PEP440(got.SemVer); got.PEP440 != p || (err != nil) != (got.PEP440 == "") {
				t.Errorf("PEP440 = %q, want %q (%v)", got.PEP440, p, err)
			}
			if !tt.truncated && len(got.Reasons) != len(tt.commits) {
				t.Errorf("%d reasons for %d commits", len(got.Reasons), len(tt.commits))
			}
		})
	}
}

// TestNothingToRelease: only a version that stays the last release's is
// nothing to release; --dev and --release-as make another version of the
// same commits, which build and cut must not drop.
func TestNothingToRelease(t *testing.T) {
	def := DefaultOptions()
	with := func(f func(*Options)) Options { o := DefaultOptions(); f(&o); return o }
	tests := []struct {
		name    string
		tags    string
		commits []string
		opts    Options
		want    bool
	}{
		{"no commit bumps", "v1.2.3@b", []string{"docs: x"}, def, true},
		{"--pre and no commit bumps", "v1.2.3@b", []string{"docs: x"}, with(func(o *Options) { o.Pre = "rc" }), true},
		{"--dev and no commit bumps", "v1.2.3@b", []string{"docs: x"}, with(func(o *Options) { o.Dev = true }), false},
		{"--release-as and no commit bumps", "v1.2.3@b", []string{"docs: x"}, with(func(o *Options) { o.ReleaseAs = "2.0.0" }), false},
		{"a fix", "v1.2.3@b", []string{"fix: x"}, def, false},
		{"HEAD tagged", "v1.2.3@b v1.2.4@HEAD", []string{"docs: x"}, def, false},
		{"no release yet", "", []string{"docs: x"}, def, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Head: hash("c1"), Tags: tags(tt.tags), Commits: history(tt.commits...)}
			if tt.tags != "" {
				in.Reached = labels("b")
			}
			got, err := Derive(in, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got.NothingToRelease() != tt.want {
				t.Errorf("NothingToRelease() = %v for version %s over %s, want %v", !tt.want, got.Version, got.PreviousTag, tt.want)
			}
		})
	}
}

// TestDeriveRenderings: the renderings of the result for each kind of
// version.
func TestDeriveRenderings(t *testing.T) {
	head7 := hash("c1")[:7]
	tests := []struct {
		opts                       Options
		dirty                      bool
		version, pep440, dockerTag string
	}{
		{DefaultOptions(), false, "1.3.0", "1.3.0", "1.3.0"},
		{Options{TagPrefix: "v", Pre: "rc"}, false, "1.3.0-rc.1", "1.3.0rc1", "1.3.0-rc.1"},
		{Options{TagPrefix: "v", Pre: "beta"}, false, "1.3.0-beta.1", "1.3.0b1", "1.3.0-beta.1"},
		{Options{TagPrefix: "v", Pre: "alpha"}, false, "1.3.0-alpha.1", "1.3.0a1", "1.3.0-alpha.1"},
		{Options{TagPrefix: "v", Pre: "preview"}, false, "1.3.0-preview.1", "", "1.3.0-preview.1"},
		{Options{TagPrefix: "v", Dev: true}, false, "1.3.0-dev.1+g" + head7, "1.3.0.dev1+g" + head7, "1.3.0-dev.1"},
		{Options{TagPrefix: "v", Dev: true}, true, "1.3.0-dev.1+g" + head7 + ".dirty", "1.3.0.dev1+g" + head7 + ".dirty", "1.3.0-dev.1"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			got, err := Derive(Input{Head: hash("c1"), Tags: tags("v1.2.3@b"), Reached: labels("b"), Commits: history("feat: x"), Dirty: tt.dirty}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([3]string{tt.version, tt.pep440, tt.dockerTag}, [3]string{got.Version, got.PEP440, got.DockerTag}); diff != "" {
				t.Errorf("version, pep440, docker_tag (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeriveReasons(t *testing.T) {
	in := Input{
		Head:    hash("c1"),
		Tags:    tags("v0.3.0@b"),
		Reached: labels("b"),
		Commits: history(
			"MERGE Merge pull request #2 from o/x",
			"Revert \"feat: a\"\n\nThis reverts commit {c4}.",
			"feat(api)!: drop v1",
			"feat: a",
			"docs: readme",
		),
	}
	got, err := Derive(in, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := []CommitExplanation{
		{Commit: hash("c1"), Subject: "Merge pull request #2 from o/x", Rule: "merge commit: the commits it brings in count"},
		{Commit: hash("c2"), Subject: `Revert "feat: a"`, Rule: "reverts " + hash("c4")[:7] + " of this release: both cancelled", Cancels: hash("c4")},
		{Commit: hash("c3"), Subject: "feat(api)!: drop v1", Bump: BumpMinor, Rule: "breaking change (feat!) → major, minor while the major version is 0"},
		{Commit: hash("c4"), Subject: "feat: a", Rule: "reverted by " + hash("c2")[:7] + " in this release: cancelled", CancelledBy: hash("c2")},
		{Commit: hash("c5"), Subject: "docs: readme", Rule: "docs → none"},
	}
	if diff := cmp.Diff(want, got.Explanation.Commits); diff != "" {
		t.Errorf("explained commits (-want +got):\n%s", diff)
	}
	var wantReasons []Reason
	for _, c := range want {
		wantReasons = append(wantReasons, Reason{Commit: c.Commit, Subject: c.Subject, Bump: c.Bump})
	}
	if diff := cmp.Diff(wantReasons, got.Reasons); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	if got.Version != "0.4.0" {
		t.Errorf("version = %s, want 0.4.0", got.Version)
	}
}

// TestDeriveRevertedMerge: reverting a merge of the release cancels the
// commits the merge brought in, not those of the first parent.
func TestDeriveRevertedMerge(t *testing.T) {
	c := func(label, msg string, parents ...string) gitinfo.Commit {
		var ps []string
		for _, p := range parents {
			ps = append(ps, hash(p))
		}
		return gitinfo.Commit{Hash: hash(label), Parents: ps, Message: msg}
	}
	// base ─ fix ─────────── M ─ R(revert M)
	//      └ feat1 ─ feat2 ┘
	commits := []gitinfo.Commit{
		c("R", "Revert \"Merge branch 'x'\"\n\nThis reverts commit "+hash("M")+", reversing\nchanges made to "+hash("fix")+".", "M"),
		c("M", "Merge branch 'x'", "fix", "feat2"),
		c("feat2", "feat: two", "feat1"),
		c("fix", "fix: y", "base"),
		c("feat1", "feat: one", "base"),
	}
	got, err := Derive(Input{Head: hash("R"), Tags: tags("v1.0.0@base"), Reached: labels("base"), Commits: commits}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "1.0.1" || got.Bump != BumpPatch {
		t.Errorf("version %s bump %s, want 1.0.1 patch; commits: %+v", got.Version, got.Bump, got.Explanation.Commits)
	}
}

func TestDeriveWarnings(t *testing.T) {
	tests := []struct {
		name    string
		tags    string
		reached string
		behind  string
		commits []string // default: one feat
		opts    Options
		want    []string
	}{
		{name: "none", tags: "v1.2.3@b v1.0.0@u", reached: "b", opts: DefaultOptions()},
		{name: "nothing to release is not a conflict", tags: "v1.2.3@b", reached: "b", commits: []string{"docs: x"}, opts: DefaultOptions()},
		{
			name: "higher unreachable", tags: "v1.2.3@b v2.0.0@u v1.5.0@w", reached: "b", opts: DefaultOptions(),
			want: []string{"v2.0.0 (commit " + hash("u")[:7] + ") is higher than the base v1.2.3 but not reachable from HEAD; v1.2.3 stays the base (1 more such tag(s), see --explain)"},
		},
		{
			name: "no base", tags: "v2.0.0@u", opts: DefaultOptions(),
			want: []string{"v2.0.0 (commit " + hash("u")[:7] + ") is not reachable from HEAD"},
		},
		{
			name: "version taken", tags: "v1.2.3@b v1.3.0@u", reached: "b", opts: DefaultOptions(),
			want: []string{
				"v1.3.0 (commit " + hash("u")[:7] + ") is higher than the base v1.2.3 but not reachable from HEAD; v1.2.3 stays the base",
				"v1.3.0 already exists on commit " + hash("u")[:7] + ", which is not HEAD: tagging 1.3.0 would conflict",
			},
		},
		{
			name: "prerelease below its release", tags: "v1.2.3@b v1.3.0@u", reached: "b", opts: Options{TagPrefix: "v", Pre: "rc"},
			want: []string{
				"v1.3.0 (commit " + hash("u")[:7] + ") is higher than the base v1.2.3 but not reachable from HEAD; v1.2.3 stays the base",
				"v1.3.0 is already released (commit " + hash("u")[:7] + "): 1.3.0-rc.1 sorts below it",
			},
		},
		{
			name: "behind", tags: "v1.2.3@b v2.0.0@old", reached: "b", behind: "old", opts: DefaultOptions(),
			want: []string{"v2.0.0 is on a commit behind a lower release tag in history (tagged out of order); it is the base as the highest reachable"},
		},
		{
			name: "behind, with a higher prerelease on the same commit", tags: "v1.2.3@b v2.0.0@old v2.1.0-rc.1@old", reached: "b", behind: "old", opts: DefaultOptions(),
			want: []string{"v2.0.0 is on a commit behind a lower release tag in history (tagged out of order); it is the base as the highest reachable"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			commits := history(cmpOr(tt.commits, []string{"feat: x"})...)
			got, err := Derive(Input{Head: hash("c1"), Tags: tags(tt.tags), Reached: labels(tt.reached), Behind: labels(tt.behind), Commits: commits}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeriveCandidates(t *testing.T) {
	in := Input{
		Head:    hash("c1"),
		Tags:    tags("v1.2.3@b v1.0.0@o v2.0.0@u v1.3.0-rc.1@c2 v1.2@l release-5@f v1.1.0@old"),
		Reached: labels("b o"),
		Behind:  labels("old"),
		Commits: history("feat: x", "fix: y"),
	}
	got, err := Derive(in, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Tag    string
		Status CandidateStatus
	}
	var rows []row
	for _, c := range got.Explanation.Candidates {
		rows = append(rows, row{c.Tag, c.Status})
	}
	want := []row{
		{"v2.0.0", StatusUnreachable},
		{"v1.3.0-rc.1", StatusPrerelease},
		{"v1.2.3", StatusBase},
		{"v1.1.0", StatusBehind},
		{"v1.0.0", StatusOlder},
		{"release-5", StatusForeign},
		{"v1.2", StatusLax},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("candidates (-want +got):\n%s", diff)
	}
	if got.Explanation.Base == nil || got.Explanation.Base.Tag != "v1.2.3" {
		t.Errorf("base = %+v, want v1.2.3", got.Explanation.Base)
	}
	var names []string
	for _, r := range got.ReleaseTags {
		names = append(names, r.Name)
	}
	if diff := cmp.Diff([]string{"v2.0.0", "v1.3.0-rc.1", "v1.2.3", "v1.1.0", "v1.0.0"}, names); diff != "" {
		t.Errorf("release tags (-want +got):\n%s", diff)
	}
}

func TestParseTag(t *testing.T) {
	tests := []struct {
		prefix, name string
		want         string // "" = not a release tag
	}{
		{"v", "v1.2.3", "1.2.3"},
		{"v", "v1.2.3-rc.1+b.2", "1.2.3-rc.1+b.2"},
		{"v", "v1.2", ""},
		{"v", "v01.2.3", ""},
		{"v", "v1.02.3", ""},
		{"v", "1.2.3", ""},
		{"v", "V1.2.3", ""},
		{"v", "vv1.2.3", ""},
		{"v", "v1.2.3.4", ""},
		{"v", "v1.2.3-rc.01", ""},
		{"v", "v 1.2.3", ""},
		{"v", "v1.2.3 ", ""},
		{"", "1.2.3", "1.2.3"},
		{"", "v1.2.3", ""},
		{"", "2023.10", ""},
		{"release-", "release-5", ""},
		{"app/v", "app/v1.0.0", "1.0.0"},
		{"app/v", "app-admin/v1.0.0", ""},
		{"app/", "app/v1.0.0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.prefix+"|"+tt.name, func(t *testing.T) {
			v, err := ParseTag(tt.prefix, tt.name)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("ParseTag(%q, %q) = %v, %v; want ErrInvalid", tt.prefix, tt.name, v, err)
				}
				return
			}
			if err != nil || v.String() != tt.want {
				t.Errorf("ParseTag(%q, %q) = %v, %v; want %s", tt.prefix, tt.name, v, err, tt.want)
			}
		})
	}
}

// FuzzParseTag: the tag parser never panics, and a tag it accepts is
// exactly the prefix followed by the version's canonical spelling (no
// coercion, no second spelling of one version).
func FuzzParseTag(f *testing.F) {
	for _, s := range [][2]string{{"v", "v1.2.3"}, {"v", "v1.2"}, {"app/v", "app-admin/v1.0.0"}, {"", "01.2.3"}, {"v", "v1.2.3-rc.1+b"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, prefix, name string) {
		v, err := ParseTag(prefix, name)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if got := prefix + v.String(); got != name {
			t.Errorf("ParseTag(%q, %q) = %s: spelled %q", prefix, name, v, got)
		}
		back, err := ParseTag(prefix, prefix+v.String())
		if err != nil || back.Compare(v) != 0 || back.Metadata() != v.Metadata() {
			t.Errorf("round trip of %q: %v, %v", name, back, err)
		}
	})
}

func cmpOr(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}

// TestResultJSON: `release version --json` prints exactly the fields of
// SPEC §2, bump as a word and reasons as a list even when empty.
func TestResultJSON(t *testing.T) {
	got, err := Derive(Input{Head: hash("c1"), Tags: tags("v1.2.3@HEAD")}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":"1.2.3","tag":"v1.2.3","previous_version":"","previous_tag":"","bump":"none","tagged":true,` +
		`"commit":"` + hash("c1") + `","commits":0,"dirty":false,"shallow":false,"prerelease":false,"pep440":"1.2.3",` +
		`"docker_tag":"1.2.3","reasons":[]}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	got, err = Derive(Input{Head: hash("c1"), Commits: history("feat: x")}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(got.Reasons)
	if want := `[{"commit":"` + hash("c1") + `","subject":"feat: x","bump":"minor"}]`; string(b) != want {
		t.Errorf("reasons JSON = %s, want %s", b, want)
	}
}

// TestDeriveSteps: --explain tells the derivation in order.
func TestDeriveSteps(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		opts Options
		want []string
	}{
		{
			"pre", Input{Head: hash("c1"), Tags: tags("v1.2.3@b v1.3.0-rc.2@x"), Reached: labels("b"), Commits: history("feat: x")},
			Options{TagPrefix: "v", Pre: "rc"},
			[]string{
				"base v1.2.3: the highest stable release tag reachable from HEAD",
				"1 commit(s) in the release, bump minor",
				"1.2.3 + minor = 1.3.0",
				"--pre rc: the highest existing 1.3.0-rc.N tag has N = 2: rc.3",
			},
		},
		{
			"tagged", Input{Head: hash("c1"), Tags: tags("v1.2.3@b v1.2.4@HEAD"), Reached: labels("b"), Commits: history("fix: x")},
			DefaultOptions(),
			[]string{
				"HEAD carries v1.2.4: that is its version, whatever the commits",
				"previous release v1.2.3, 1 commit(s) since, bump patch",
			},
		},
		{
			"rc on HEAD, no pre label with PEP 440 form", Input{Head: hash("c1"), Tags: tags("v1.3.0-rc.1@HEAD"), Commits: history("fix: x")},
			Options{TagPrefix: "v", Pre: "preview"},
			[]string{
				`no stable release tag with prefix "v" is reachable from HEAD`,
				"1 commit(s) in the release, bump patch",
				"HEAD carries the prerelease tag(s) v1.3.0-rc.1, which do not release it without --pre",
				"first release: --initial 0.1.0",
				"--pre preview: the highest existing 0.1.0-preview.N tag has N = 0: preview.1",
				`version 0.1.0-preview.1 has no PEP 440 form: prerelease "preview.1" is not alpha.N, beta.N, rc.N or dev.N: invalid`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Derive(tt.in, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Explanation.Steps); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
		})
	}
}
