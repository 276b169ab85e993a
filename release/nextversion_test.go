package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/gitinfo/gitinfotest"
)

// *gitinfo.Repo is the Git the command line passes.
var _ Git = (*gitinfo.Repo)(nil)

// open opens a test repository with gitinfo, closed at the end of the test.
func open(t *testing.T, r *gitinfotest.Repo) *gitinfo.Repo {
	t.Helper()
	repo, err := gitinfo.Open(context.Background(), r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = repo.Close() })
	return repo
}

// versionOf runs NextVersion on a test repository.
func versionOf(t *testing.T, r *gitinfotest.Repo, opts Options) *Result {
	t.Helper()
	res, err := NextVersion(context.Background(), open(t, r), opts)
	if err != nil {
		t.Fatalf("NextVersion: %v", err)
	}
	return res
}

// brief is what most tests check of a Result.
type brief struct {
	Version, Tag, Previous string
	Bump                   Bump
	Tagged                 bool
	Commits                int
}

func briefOf(r *Result) brief {
	return brief{r.Version, r.Tag, r.PreviousTag, r.Bump, r.Tagged, r.Commits}
}

func checkBrief(t *testing.T, want brief, got *Result) {
	t.Helper()
	if diff := cmp.Diff(want, briefOf(got)); diff != "" {
		t.Errorf("NextVersion (-want +got):\n%s\nsteps: %q\nwarnings: %q", diff, got.Explanation.Steps, got.Warnings)
	}
}

func subjects(r *Result) []string {
	var out []string
	for _, c := range r.Reasons {
		out = append(out, c.Subject)
	}
	return out
}

// A feature branch started before the last release and merged after it:
// its commits are older than the tag (committer dates) but not released,
// so they count; nothing behind the tag does.
func TestNextVersionBranchMergedAfterTag(t *testing.T) {
	r := gitinfotest.New(t)
	r.Commit("feat!: ancient breaking change", gitinfotest.At(gitinfotest.Time(0)))
	r.Branch("feature")
	r.Checkout("feature")
	r.Commit("feat: early feature", gitinfotest.At(gitinfotest.Time(1)))
	r.Commit("fix: early fix", gitinfotest.At(gitinfotest.Time(2)))
	r.Checkout("main")
	tagged := r.Commit("fix: released fix", gitinfotest.At(gitinfotest.Time(10)))
	r.Tag("v1.0.0", tagged)
	r.Commit("docs: after the tag", gitinfotest.At(gitinfotest.Time(11)))
	r.Merge("Merge branch 'feature'", []string{"feature"}, gitinfotest.At(gitinfotest.Time(12)))

	got := versionOf(t, r, DefaultOptions())
	checkBrief(t, brief{"1.1.0", "v1.1.0", "v1.0.0", BumpMinor, false, 4}, got)
	want := []string{"Merge branch 'feature'", "docs: after the tag", "fix: early fix", "feat: early feature"}
	if diff := cmp.Diff(want, subjects(got)); diff != "" {
		t.Errorf("commits of the release (-want +got):\n%s", diff)
	}
}

func TestNextVersionRCAndFinalOnOneCommit(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("v0.9.0", r.Commit("feat: first"))
	c := r.Commit("feat: second")
	r.AnnotatedTag("v1.0.0-rc.1", c, "rc")
	r.Tag("v1.0.0", c)
	checkBrief(t, brief{"1.0.0", "v1.0.0", "v0.9.0", BumpMinor, true, 1}, versionOf(t, r, DefaultOptions()))

	opts := DefaultOptions()
	opts.Pre = "rc"
	checkBrief(t, brief{"1.0.0", "v1.0.0", "v0.9.0", BumpMinor, true, 1}, versionOf(t, r, opts))
}

// rc.10 comes after rc.9, and rc.11 after rc.10: N compares as a number.
func TestNextVersionRC10AfterRC9(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("v1.0.0", r.Commit("feat: first"))
	r.Commit("feat: second")
	for n := 1; n <= 9; n++ {
		r.Tag(fmt.Sprintf("v1.1.0-rc.%d", n), r.Commit(fmt.Sprintf("fix: %d", n)))
	}
	r.Commit("fix: tenth")
	opts := DefaultOptions()
	opts.Pre = "rc"
	checkBrief(t, brief{"1.1.0-rc.10", "v1.1.0-rc.10", "v1.0.0", BumpMinor, false, 11}, versionOf(t, r, opts))

	r.Tag("v1.1.0-rc.10", "HEAD")
	r.Commit("fix: eleventh")
	got := versionOf(t, r, opts)
	checkBrief(t, brief{"1.1.0-rc.11", "v1.1.0-rc.11", "v1.0.0", BumpMinor, false, 12}, got)
	if got.PEP440 != "1.1.0rc11" || got.DockerTag != "1.1.0-rc.11" {
		t.Errorf("pep440 %q docker_tag %q", got.PEP440, got.DockerTag)
	}
}

// A higher tag on a branch HEAD does not contain is reported, not used.
func TestNextVersionHigherTagOnUnmergedBranch(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("v1.0.0", r.Commit("feat: first"))
	r.Branch("experiment")
	r.Checkout("experiment")
	exp := r.Commit("feat!: experiment")
	r.Tag("v2.0.0", exp)
	r.Checkout("main")
	r.Commit("fix: on main")

	got := versionOf(t, r, DefaultOptions())
	checkBrief(t, brief{"1.0.1", "v1.0.1", "v1.0.0", BumpPatch, false, 1}, got)
	want := []string{fmt.Sprintf("v2.0.0 (commit %s) is higher than the base v1.0.0 but not reachable from HEAD; v1.0.0 stays the base", exp[:7])}
	if diff := cmp.Diff(want, got.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if c := candidate(got, "v2.0.0"); c.Status != StatusUnreachable {
		t.Errorf("v2.0.0 candidate = %+v", c)
	}
}

// A higher version tagged on an older commit (behind a lower tag) is
// reachable, so it is the base; the walk alone would not meet it.
func TestNextVersionHigherTagBehindLowerTag(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("v2.0.0", r.Commit("feat: first"))
	r.Tag("v1.0.0", r.Commit("fix: second"))
	r.Commit("fix: third")

	got := versionOf(t, r, DefaultOptions())
	checkBrief(t, brief{"2.0.1", "v2.0.1", "v2.0.0", BumpPatch, false, 1}, got)
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "tagged out of order") {
		t.Errorf("warnings = %q", got.Warnings)
	}
}

func candidate(r *Result, tag string) Candidate {
	for _, c := range r.Explanation.Candidates {
		if c.Tag == tag {
			return c
		}
	}
	return Candidate{}
}

func TestNextVersionLaxAndForeignTagsIgnored(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("v0.3.0", r.Commit("feat: first"))
	c := r.Commit("fix: second")
	for _, name := range []string{"v1.2", "v01.2.3", "1.2.3.4", "release-5", "2023.10", "v1.2.3.4", "V9.0.0"} {
		r.Tag(name, c)
	}
	r.Commit("fix: third")

	got := versionOf(t, r, DefaultOptions())
	checkBrief(t, brief{"0.3.1", "v0.3.1", "v0.3.0", BumpPatch, false, 2}, got)
	for name, status := range map[string]CandidateStatus{
		"v1.2": StatusLax, "v01.2.3": StatusLax, "v1.2.3.4": StatusLax,
		"1.2.3.4": StatusForeign, "release-5": StatusForeign, "2023.10": StatusForeign, "V9.0.0": StatusForeign,
	} {
		if c := candidate(got, name); c.Status != status {
			t.Errorf("%s: status %q, want %q", name, c.Status, status)
		}
	}
	if len(got.Warnings) != 0 {
		t.Errorf("warnings for ignored tags: %q", got.Warnings)
	}
}

// --tag-prefix app/v never matches app-admin/v1.0.0.
func TestNextVersionPrefixDoesNotMatchLongerName(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("app/v0.2.0", r.Commit("feat: app"))
	r.Tag("app-admin/v1.0.0", r.Commit("feat: admin"))
	r.Tag("v5.0.0", "HEAD")
	r.Commit("feat: more")

	opts := DefaultOptions()
	opts.TagPrefix = "app/v"
	got := versionOf(t, r, opts)
	checkBrief(t, brief{"0.3.0", "app/v0.3.0", "app/v0.2.0", BumpMinor, false, 2}, got)
	if c := candidate(got, "app-admin/v1.0.0"); c.Status != StatusForeign {
		t.Errorf("app-admin/v1.0.0 candidate = %+v", c)
	}

	opts.TagPrefix = "app-admin/v"
	checkBrief(t, brief{"1.1.0", "app-admin/v1.1.0", "app-admin/v1.0.0", BumpMinor, false, 1}, versionOf(t, r, opts))
}

func TestNextVersionRevertCancels(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("v1.0.0", r.Commit("feat: first"))
	feat := r.Commit("feat: shiny")
	r.Commit("Revert \"feat: shiny\"\n\nThis reverts commit " + feat + ".\n")

	got := versionOf(t, r, DefaultOptions())
	checkBrief(t, brief{"1.0.0", "v1.0.0", "v1.0.0", BumpNone, false, 2}, got)

	r.Commit("fix: real")
	checkBrief(t, brief{"1.0.1", "v1.0.1", "v1.0.0", BumpPatch, false, 3}, versionOf(t, r, DefaultOptions()))
}

func TestNextVersionBreakingChangeFooterOnly(t *testing.T) {
	tests := []struct {
		msg  string
		want string
	}{
		{"fix: BREAKING CHANGE: in the header does not count", "1.0.1"},
		{"fix: body\n\nThis is prose that mentions a\nBREAKING CHANGE: mid-paragraph", "1.0.1"},
		{"fix: footer\n\nBREAKING CHANGE: the API changed", "2.0.0"},
		{"fix: footer\n\nBody.\n\nRefs: #1\nBREAKING-CHANGE: the API changed", "2.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			r := gitinfotest.New(t)
			r.Tag("v1.0.0", r.Commit("feat: first"))
			r.Commit(tt.msg)
			if got := versionOf(t, r, DefaultOptions()); got.Version != tt.want {
				t.Errorf("version %s, want %s", got.Version, tt.want)
			}
		})
	}
}

func TestNextVersionZeroMajorBreakingIsMinor(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("v0.4.2", r.Commit("feat: first"))
	r.Commit("feat!: break it")
	got := versionOf(t, r, DefaultOptions())
	checkBrief(t, brief{"0.5.0", "v0.5.0", "v0.4.2", BumpMinor, false, 1}, got)

	opts := DefaultOptions()
	opts.ReleaseAs = "1.0.0"
	checkBrief(t, brief{"1.0.0", "v1.0.0", "v0.4.2", BumpMinor, false, 1}, versionOf(t, r, opts))
}

func TestNextVersionCRLFMessages(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("v1.0.0", r.Commit("feat: first\r\n"))
	r.Commit("feat(api): crlf\r\n\r\nBody.\r\n\r\nBREAKING CHANGE: yes\r\n")
	r.Commit("fix: plain\r\n")
	got := versionOf(t, r, DefaultOptions())
	checkBrief(t, brief{"2.0.0", "v2.0.0", "v1.0.0", BumpMajor, false, 2}, got)
	if diff := cmp.Diff([]string{"fix: plain", "feat(api): crlf"}, subjects(got)); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
}

// --path counts the non-merge commits that change the path, including
// those a merge brought in, and never the merge itself.
func TestNextVersionPathsWithMerges(t *testing.T) {
	r := gitinfotest.New(t)
	base := r.Commit("chore: layout", gitinfotest.File("api/main.py", "1\n"), gitinfotest.File("web/app.js", "1\n"))
	r.Tag("api/v1.0.0", base)
	r.Tag("web/v3.0.0", base)
	r.Branch("topic")
	r.Checkout("topic")
	r.Commit("feat(web): new page", gitinfotest.File("web/app.js", "2\n"))
	r.Commit("fix(api): handle nil", gitinfotest.File("api/main.py", "2\n"))
	r.Checkout("main")
	r.Commit("feat!: web rewrite", gitinfotest.File("web/app.js", "3\n"))
	r.Merge("Merge branch 'topic'", []string{"topic"}, gitinfotest.File("web/app.js", "4\n"))

	api := DefaultOptions()
	api.TagPrefix, api.Paths = "api/v", []string{"api"}
	got := versionOf(t, r, api)
	checkBrief(t, brief{"1.0.1", "api/v1.0.1", "api/v1.0.0", BumpPatch, false, 1}, got)
	if diff := cmp.Diff([]string{"fix(api): handle nil"}, subjects(got)); diff != "" {
		t.Errorf("api commits (-want +got):\n%s", diff)
	}

	web := DefaultOptions()
	web.TagPrefix, web.Paths = "web/v", []string{"web/"}
	got = versionOf(t, r, web)
	checkBrief(t, brief{"4.0.0", "web/v4.0.0", "web/v3.0.0", BumpMajor, false, 2}, got)
	if diff := cmp.Diff([]string{"feat!: web rewrite", "feat(web): new page"}, subjects(got)); diff != "" {
		t.Errorf("web commits (-want +got):\n%s", diff)
	}

	docs := DefaultOptions()
	docs.TagPrefix, docs.Paths = "api/v", []string{"docs"}
	checkBrief(t, brief{"1.0.0", "api/v1.0.0", "api/v1.0.0", BumpNone, false, 0}, versionOf(t, r, docs))
}

func TestNextVersionAnnotatedAndLightweightTags(t *testing.T) {
	r := gitinfotest.New(t)
	r.AnnotatedTag("v1.0.0", r.Commit("feat: first"), "release 1.0.0")
	r.Tag("v1.1.0", r.Commit("feat: second"))
	r.Commit("fix: third")
	checkBrief(t, brief{"1.1.1", "v1.1.1", "v1.1.0", BumpPatch, false, 1}, versionOf(t, r, DefaultOptions()))

	r.AnnotatedTag("v1.1.1", "HEAD", "release 1.1.1")
	checkBrief(t, brief{"1.1.1", "v1.1.1", "v1.1.0", BumpPatch, true, 1}, versionOf(t, r, DefaultOptions()))

	// A tag of an annotated tag peels to the same commit.
	r.AnnotatedTag("v1.1.2", "v1.1.1", "a tag of a tag")
	checkBrief(t, brief{"1.1.2", "v1.1.2", "v1.1.0", BumpPatch, true, 1}, versionOf(t, r, DefaultOptions()))
}

// A maintenance line merged back into main: both tags are reachable, the
// highest is the base, and the maintenance fix was released already.
func TestNextVersionMaintenanceBranchMergedBack(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("v1.0.0", r.Commit("feat: first"))
	r.Branch("release/1.x")
	r.Tag("v2.0.0", r.Commit("feat!: second"))
	r.Checkout("release/1.x")
	r.Tag("v1.0.1", r.Commit("fix: backport"))
	r.Checkout("main")
	r.Merge("Merge branch 'release/1.x'", []string{"release/1.x"})

	got := versionOf(t, r, DefaultOptions())
	checkBrief(t, brief{"2.0.0", "v2.0.0", "v2.0.0", BumpNone, false, 1}, got)
	if c := candidate(got, "v1.0.1"); c.Status != StatusOlder {
		t.Errorf("v1.0.1 candidate = %+v", c)
	}
	if len(got.Warnings) != 0 {
		t.Errorf("warnings: %q", got.Warnings)
	}
	r.Commit("fix: on main")
	checkBrief(t, brief{"2.0.1", "v2.0.1", "v2.0.0", BumpPatch, false, 2}, versionOf(t, r, DefaultOptions()))

	// From the maintenance line, v2.0.0 is higher and not reachable.
	r.Checkout("release/1.x")
	r.Commit("fix: another backport")
	got = versionOf(t, r, DefaultOptions())
	checkBrief(t, brief{"1.0.2", "v1.0.2", "v1.0.1", BumpPatch, false, 1}, got)
	if len(got.Warnings) != 1 || !strings.HasPrefix(got.Warnings[0], "v2.0.0 ") {
		t.Errorf("warnings: %q", got.Warnings)
	}
}

func TestNextVersionDirtyWorktree(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("v1.0.0", r.Commit("feat: first", gitinfotest.File("app.py", "1\n")))
	head := r.Commit("fix: second", gitinfotest.File("app.py", "2\n"))
	if got := versionOf(t, r, DefaultOptions()); got.Dirty {
		t.Fatalf("clean worktree reported dirty")
	}
	r.WriteFile("app.py", "3\n")

	got := versionOf(t, r, DefaultOptions())
	if !got.Dirty || got.Version != "1.0.1" {
		t.Errorf("dirty %v version %s, want dirty 1.0.1", got.Dirty, got.Version)
	}
	opts := DefaultOptions()
	opts.Dev = true
	got = versionOf(t, r, opts)
	want := "1.0.1-dev.1+g" + head[:7] + ".dirty"
	if got.Version != want || got.PEP440 != "1.0.1.dev1+g"+head[:7]+".dirty" || got.DockerTag != "1.0.1-dev.1" {
		t.Errorf("dev version %s pep440 %s docker %s, want %s", got.Version, got.PEP440, got.DockerTag, want)
	}
}

func TestNextVersionDetachedHead(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("v1.0.0", r.Commit("feat: first"))
	c := r.Commit("feat: second")
	r.Commit("feat!: third, not checked out")
	r.Checkout(c)
	checkBrief(t, brief{"1.1.0", "v1.1.0", "v1.0.0", BumpMinor, false, 1}, versionOf(t, r, DefaultOptions()))

	r.Checkout("main")
	r.Detach()
	checkBrief(t, brief{"2.0.0", "v2.0.0", "v1.0.0", BumpMajor, false, 2}, versionOf(t, r, DefaultOptions()))
}

func TestNextVersionNoTags(t *testing.T) {
	r := gitinfotest.New(t)
	r.Commit("feat: first")
	r.Commit("chore: second")
	checkBrief(t, brief{"0.1.0", "v0.1.0", "", BumpMinor, false, 2}, versionOf(t, r, DefaultOptions()))
}

// origin has v1.0.0 three commits behind main.
func shallowOrigin(t *testing.T) *gitinfotest.Repo {
	r := gitinfotest.New(t)
	r.Commit("feat: first")
	r.Tag("v1.0.0", r.Commit("feat: second"))
	r.Commit("fix: a")
	r.Commit("fix: b")
	r.Commit("feat: c")
	return r
}

// A depth-1 clone cannot see the last release: ErrHistory with the fix,
// and the fix works.
func TestNextVersionShallowDepth1(t *testing.T) {
	for _, args := range [][]string{{"--depth=1"}, {"--depth=1", "--no-tags"}, {"--depth=2", "--no-single-branch"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			clone := shallowOrigin(t).Clone(args...)
			_, err := NextVersion(context.Background(), open(t, clone), DefaultOptions())
			if !errors.Is(err, ErrHistory) {
				t.Fatalf("NextVersion on a shallow clone: %v, want ErrHistory", err)
			}
			if got, want := Hint(err), "git fetch --unshallow --tags"; got != want {
				t.Errorf("hint %q, want %q", got, want)
			}
			_, err = Changelog(context.Background(), open(t, clone), "", "", DefaultOptions())
			if !errors.Is(err, ErrHistory) {
				t.Errorf("Changelog on a shallow clone: %v, want ErrHistory", err)
			}

			clone.Git(strings.Fields(Hint(err))[1:]...)
			got := versionOf(t, clone, DefaultOptions())
			checkBrief(t, brief{"1.1.0", "v1.1.0", "v1.0.0", BumpMinor, false, 3}, got)
			if got.Shallow {
				t.Errorf("shallow after --unshallow")
			}
		})
	}
}

func TestNextVersionShallowDeepEnough(t *testing.T) {
	clone := shallowOrigin(t).Clone("--depth=5")
	got := versionOf(t, clone, DefaultOptions())
	checkBrief(t, brief{"1.1.0", "v1.1.0", "v1.0.0", BumpMinor, false, 3}, got)
	if !got.Shallow {
		t.Errorf("shallow = false for a --depth=5 clone")
	}
}

// A tag checkout at depth 1 (a tag-triggered CI job) still knows its
// version: HEAD carries it.
func TestNextVersionShallowTaggedHead(t *testing.T) {
	origin := shallowOrigin(t)
	origin.Tag("v1.1.0", "HEAD")
	clone := origin.Clone("--depth=1", "--branch=v1.1.0")
	got := versionOf(t, clone, DefaultOptions())
	checkBrief(t, brief{"1.1.0", "v1.1.0", "", BumpNone, true, 0}, got)
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "shallow") {
		t.Errorf("warnings %q", got.Warnings)
	}
}

func TestChangelog(t *testing.T) {
	r := gitinfotest.New(t)
	r.Tag("v1.0.0", r.Commit("feat: first"))
	feat := r.Commit("feat(api): second")
	r.Tag("v1.1.0-rc.1", feat)
	fix := r.Commit("fix: third")
	r.Tag("v1.1.0", fix)
	perf := r.Commit("perf: fourth")
	ctx := context.Background()

	type summary struct {
		From, To string
		Commits  int
		Notes    string
	}
	tests := []struct {
		from, to string
		want     summary
	}{
		{"", "", summary{"v1.1.0", "HEAD", 1, "### Performance\n\n- fourth (" + perf[:7] + ")\n"}},
		{"", "v1.1.0", summary{"v1.0.0", "v1.1.0", 2, "### Features\n\n- **api:** second (" + feat[:7] + ")\n\n### Fixes\n\n- third (" + fix[:7] + ")\n"}},
		{"v1.0.0", "v1.1.0-rc.1", summary{"v1.0.0", "v1.1.0-rc.1", 1, "### Features\n\n- **api:** second (" + feat[:7] + ")\n"}},
		{"", "v1.0.0", summary{"", "v1.0.0", 1, "### Features\n\n- first (" + r.Resolve("v1.0.0")[:7] + ")\n"}},
		{"v1.1.0", "v1.1.0", summary{"v1.1.0", "v1.1.0", 0, "No notable changes.\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.from+".."+tt.to, func(t *testing.T) {
			got, err := Changelog(ctx, open(t, r), tt.from, tt.to, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summary{got.From, got.To, got.Commits, got.Notes.Markdown()}); diff != "" {
				t.Errorf("Changelog (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := Changelog(ctx, open(t, r), "v9.9.9", "", DefaultOptions()); !errors.Is(err, gitinfo.ErrUnknownRevision) {
		t.Errorf("Changelog from an unknown tag: %v, want ErrUnknownRevision", err)
	}
}

// fakeGit serves NextVersion from fixed answers, for the error paths a
// real repository does not produce.
type fakeGit struct {
	head    gitinfo.Head
	tags    []gitinfo.Tag
	logs    []*gitinfo.Log
	queries []gitinfo.LogQuery
	err     error
	failAt  string
}

func (f *fakeGit) fail(op string) error {
	if f.failAt == op {
		return f.err
	}
	return nil
}
func (f *fakeGit) Head(context.Context) (gitinfo.Head, error) { return f.head, f.fail("head") }
func (f *fakeGit) Tags(context.Context) ([]gitinfo.Tag, error) {
	return f.tags, f.fail("tags")
}
func (f *fakeGit) Resolve(_ context.Context, rev string) (string, error) {
	return rev, f.fail("resolve")
}
func (f *fakeGit) Status(context.Context) (gitinfo.Status, error) {
	return gitinfo.Status{}, f.fail("status")
}
func (f *fakeGit) Shallow(context.Context) (bool, error) { return false, f.fail("shallow") }
func (f *fakeGit) Log(_ context.Context, q gitinfo.LogQuery) (*gitinfo.Log, error) {
	f.queries = append(f.queries, q)
	if err := f.fail("log"); err != nil {
		return nil, err
	}
	l := f.logs[0]
	f.logs = f.logs[1:]
	return l, nil
}

func TestNextVersionErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, op := range []string{"head", "tags", "status", "shallow", "log"} {
		t.Run(op, func(t *testing.T) {
			f := &fakeGit{head: gitinfo.Head{Commit: hash("c1")}, logs: []*gitinfo.Log{{}}, err: boom, failAt: op}
			if _, err := NextVersion(context.Background(), f, DefaultOptions()); !errors.Is(err, boom) {
				t.Errorf("error = %v, want it to wrap %v", err, boom)
			}
		})
	}
}

// The walk excludes the stable release tags other than HEAD's own, and
// asks once about higher tags it did not meet.
func TestNextVersionQueries(t *testing.T) {
	f := &fakeGit{
		head: gitinfo.Head{Commit: hash("c1")},
		tags: tags("v1.0.0@b v1.1.0-rc.1@r v2.0.0@u v0.9.0@o v1.2.0@HEAD v3.0.0@u2 v0.1.0@b"),
		logs: []*gitinfo.Log{
			{Commits: history("fix: x"), Reached: labels("b")},
			{Commits: []gitinfo.Commit{{Hash: hash("u")}}},
		},
	}
	opts := DefaultOptions()
	opts.Paths = []string{"api"}
	res, err := NextVersion(context.Background(), f, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []gitinfo.LogQuery{
		{Include: []string{hash("c1")}, StopAt: labels("u2 u b o"), Paths: []string{"api"}},
		{Include: labels("u2 u"), Exclude: []string{hash("c1")}},
	}
	if diff := cmp.Diff(want, f.queries); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
	// v3.0.0 is reachable behind v1.0.0 (the second walk did not list it):
	// it is the base; HEAD's v1.2.0 is lower, still HEAD's version.
	if res.Version != "1.2.0" || !res.Tagged || res.PreviousTag != "v3.0.0" {
		t.Errorf("version %s tagged %v previous %s", res.Version, res.Tagged, res.PreviousTag)
	}
	if !slices.Contains(res.Warnings, "v3.0.0 is on a commit behind a lower release tag in history (tagged out of order); it is the base as the highest reachable") {
		t.Errorf("warnings %q", res.Warnings)
	}
}

// When the walk meets no release tag it has covered all of HEAD's history:
// there is nothing behind a boundary to look for, so no second walk.
func TestNextVersionNoSecondWalkWithoutBoundary(t *testing.T) {
	f := &fakeGit{
		head: gitinfo.Head{Commit: hash("c1")},
		tags: tags("v1.0.0@u v2.0.0@u2"),
		logs: []*gitinfo.Log{{Commits: history("feat: x")}},
	}
	res, err := NextVersion(context.Background(), f, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.queries) != 1 || res.Version != "0.1.0" || len(res.Warnings) != 1 {
		t.Errorf("%d queries, version %s, warnings %q", len(f.queries), res.Version, res.Warnings)
	}
}
