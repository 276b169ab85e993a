package gitinfo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/gitinfo/gitinfotest"
)

var (
	T    = gitinfotest.Time
	At   = gitinfotest.At
	File = gitinfotest.File
)

// logCase builds a repository and a query; want lists the subjects of the
// expected commits in order, reached the revisions expected in Log.Reached.
type logCase struct {
	name    string
	build   func(r *gitinfotest.Repo) gitinfo.LogQuery
	want    []string
	reached []string
}

var head = []string{"HEAD"}

func logCases() []logCase {
	return []logCase{
		{
			name: "linear history up to the tag",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Commit("a")
				r.Tag("v1.0.0", r.Commit("b"))
				r.Commit("c")
				r.Commit("d")
				return gitinfo.LogQuery{Include: head, StopAt: []string{"v1.0.0"}}
			},
			want:    []string{"d", "c"},
			reached: []string{"v1.0.0"},
		},
		{
			name: "whole history without a boundary",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Commit("a")
				r.Commit("b")
				r.Commit("c")
				return gitinfo.LogQuery{Include: head}
			},
			want: []string{"c", "b", "a"},
		},
		{
			name: "HEAD is the tag",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Commit("a")
				r.Tag("v1.0.0", r.Commit("b"))
				return gitinfo.LogQuery{Include: head, StopAt: []string{"v1.0.0"}}
			},
			want:    nil,
			reached: []string{"v1.0.0"},
		},
		{
			// The go-semantic-release#168 graph: a branch whose commits
			// are older than the tag but merged after it. Stopping at the
			// first tagged commit in date order loses f1 and f2.
			name: "feature branch older than the tag, merged after it",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Commit("a", At(T(0)))
				r.Branch("feat")
				r.Checkout("feat")
				r.Commit("feat: f1", At(T(1)), File("f1", "1"))
				r.Commit("feat: f2", At(T(2)), File("f2", "2"))
				r.Checkout("main")
				r.Tag("v1.0.0", r.Commit("b", At(T(10)), File("b", "b")))
				r.Commit("c", At(T(11)))
				r.Merge("Merge branch 'feat'", []string{"feat"}, At(T(12)))
				return gitinfo.LogQuery{Include: head, StopAt: []string{"v1.0.0"}}
			},
			want:    []string{"Merge branch 'feat'", "c", "feat: f2", "feat: f1"},
			reached: []string{"v1.0.0"},
		},
		{
			name: "clock skew: a child older than its parent",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Commit("a", At(T(0)))
				r.Tag("v1.0.0", r.Commit("b", At(T(100))))
				r.Commit("c", At(T(50)))
				r.Commit("d", At(T(20)))
				r.Commit("e", At(T(200)))
				return gitinfo.LogQuery{Include: head, StopAt: []string{"v1.0.0"}}
			},
			want:    []string{"e", "d", "c"},
			reached: []string{"v1.0.0"},
		},
		{
			// Date order pops p (interesting through y) before the tag x,
			// which is older but p's child: p must be dropped once x is
			// reached.
			name: "clock skew: an excluded descendant found late",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Commit("root", At(T(0)))
				p := r.Commit("p", At(T(100)))
				r.Tag("v1.0.0", r.Commit("x", At(T(5))))
				r.Branch("side", p)
				r.Checkout("side")
				r.Commit("y", At(T(50)), File("y", "y"))
				r.Checkout("main")
				r.Merge("m", []string{"side"}, At(T(200)))
				return gitinfo.LogQuery{Include: head, StopAt: []string{"v1.0.0"}}
			},
			want:    []string{"m", "y"},
			reached: []string{"v1.0.0"},
		},
		{
			name: "octopus merge",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Commit("a", At(T(0)))
				for _, b := range []string{"b1", "b2", "b3"} {
					r.Branch(b)
				}
				r.Checkout("b1")
				r.Tag("v1.0.0", r.Commit("x1", At(T(1)), File("x1", "1")))
				r.Checkout("b2")
				r.Commit("x2", At(T(2)), File("x2", "2"))
				r.Checkout("b3")
				r.Commit("x3", At(T(3)), File("x3", "3"))
				r.Checkout("main")
				r.Commit("y", At(T(4)), File("y", "y"))
				r.Merge("octopus", []string{"b1", "b2", "b3"}, At(T(5)))
				return gitinfo.LogQuery{Include: head, StopAt: []string{"v1.0.0"}}
			},
			want:    []string{"octopus", "y", "x3", "x2"},
			reached: []string{"v1.0.0"},
		},
		{
			name: "criss-cross merges",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Commit("a", At(T(0)))
				r.Branch("b1")
				r.Branch("b2")
				r.Checkout("b1")
				c1 := r.Commit("c1", At(T(1)), File("c", "1"))
				r.Checkout("b2")
				d1 := r.Commit("d1", At(T(2)), File("d", "1"))
				r.Checkout("b1")
				r.Tag("v1.0.0", r.Merge("m1", []string{d1}, At(T(3))))
				r.Checkout("b2")
				r.Merge("m2", []string{c1}, At(T(4)))
				r.Checkout("b1")
				r.Commit("e", At(T(5)), File("e", "1"))
				r.Checkout("b2")
				r.Commit("f", At(T(6)), File("f", "1"))
				r.Checkout("main")
				r.Merge("final", []string{"b1", "b2"}, At(T(7)))
				return gitinfo.LogQuery{Include: head, StopAt: []string{"v1.0.0"}}
			},
			want:    []string{"final", "f", "e", "m2"},
			reached: []string{"v1.0.0"},
		},
		{
			name: "tag reachable by two paths",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Commit("a", At(T(0)))
				r.Tag("v1.0.0", r.Commit("t", At(T(1))))
				r.Branch("side")
				r.Checkout("side")
				r.Commit("s1", At(T(2)), File("s", "1"))
				r.Checkout("main")
				r.Commit("m1", At(T(3)), File("m", "1"))
				r.Merge("merge side", []string{"side"}, At(T(4)))
				return gitinfo.LogQuery{Include: head, StopAt: []string{"v1.0.0"}}
			},
			want:    []string{"merge side", "m1", "s1"},
			reached: []string{"v1.0.0"},
		},
		{
			name: "several tags, one on an unmerged branch",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Tag("v1.0.0", r.Commit("a", At(T(0))))
				r.Branch("rc")
				r.Checkout("rc")
				r.Tag("v2.0.0", r.Commit("r1", At(T(1)), File("r", "1")))
				r.Checkout("main")
				r.Commit("b", At(T(2)))
				r.Commit("c", At(T(3)))
				return gitinfo.LogQuery{Include: head, StopAt: []string{"v1.0.0", "v2.0.0"}}
			},
			want:    []string{"c", "b"},
			reached: []string{"v1.0.0"},
		},
		{
			name: "older tags behind the newest one",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Tag("v1.0.0", r.Commit("a", At(T(0))))
				r.Tag("v1.1.0", r.Commit("b", At(T(1))))
				r.Tag("v1.2.0", r.Commit("c", At(T(2))))
				r.Commit("d", At(T(3)))
				return gitinfo.LogQuery{Include: head, StopAt: []string{"v1.0.0", "v1.1.0", "v1.2.0"}}
			},
			want:    []string{"d"},
			reached: []string{"v1.2.0"},
		},
		{
			name: "exclude a commit not reachable from include",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Commit("a", At(T(0)))
				r.Branch("other")
				r.Commit("b", At(T(1)))
				r.Commit("c", At(T(2)))
				r.Checkout("other")
				r.Commit("o1", At(T(3)), File("o", "1"))
				return gitinfo.LogQuery{Include: []string{"main"}, Exclude: []string{"other"}}
			},
			want: []string{"c", "b"},
		},
		{
			name: "two tips",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Tag("v1.0.0", r.Commit("a", At(T(0))))
				r.Branch("other")
				r.Commit("b", At(T(1)))
				r.Checkout("other")
				r.Commit("o1", At(T(2)), File("o", "1"))
				return gitinfo.LogQuery{Include: []string{"main", "other"}, StopAt: []string{"v1.0.0"}}
			},
			want:    []string{"o1", "b"},
			reached: []string{"v1.0.0"},
		},
		{
			name: "paths: merges never, a merged branch's commit yes, root against the empty tree",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Commit("root", At(T(0)), File("api/a.py", "1"), File("web/w.js", "1"))
				r.Branch("feat")
				r.Checkout("feat")
				r.Commit("feat(api): f1", At(T(1)), File("api/f.py", "1"))
				r.Commit("feat(web): f2", At(T(2)), File("web/x.js", "1"))
				r.Checkout("main")
				r.Commit("fix(web): b", At(T(3)), File("web/b.js", "1"))
				r.Merge("Merge feat", []string{"feat"}, At(T(4)))
				return gitinfo.LogQuery{Include: head, Paths: []string{"api"}}
			},
			want: []string{"feat(api): f1", "root"},
		},
		{
			name: "paths: several paths, files and directories, up to a tag",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Tag("api/v1.0.0", r.Commit("root", At(T(0)), File("api/a.py", "1"), File("web/w.js", "1")))
				r.Commit("api change", At(T(1)), File("api/a.py", "2"))
				r.Commit("readme", At(T(2)), File("README.md", "x"))
				r.Commit("web change", At(T(3)), File("web/w.js", "2"))
				r.Commit("shared change", At(T(4)), File("shared/s.py", "1"))
				r.Commit("remove api file", At(T(5)), gitinfotest.Remove("api/a.py"))
				r.Commit("other web file", At(T(6)), File("web/other.js", "1"))
				return gitinfo.LogQuery{Include: head, StopAt: []string{"api/v1.0.0"}, Paths: []string{"api/", "shared", "./web/w.js"}}
			},
			want:    []string{"remove api file", "shared change", "web change", "api change"},
			reached: []string{"api/v1.0.0"},
		},
		{
			name: "paths: a branch change merged back",
			build: func(r *gitinfotest.Repo) gitinfo.LogQuery {
				r.Tag("v1.0.0", r.Commit("root", At(T(0)), File("svc/a", "1")))
				r.Branch("feat")
				r.Checkout("feat")
				r.Commit("svc change on branch", At(T(1)), File("svc/a", "2"))
				r.Commit("svc reverted on branch", At(T(2)), File("svc/a", "1"))
				r.Checkout("main")
				r.Commit("docs", At(T(3)), File("docs/x", "1"))
				r.Merge("merge", []string{"feat"}, At(T(4)))
				return gitinfo.LogQuery{Include: head, StopAt: []string{"v1.0.0"}, Paths: []string{"svc"}}
			},
			want:    []string{"svc reverted on branch", "svc change on branch"},
			reached: []string{"v1.0.0"},
		},
	}
}

func TestLog(t *testing.T) {
	for _, tc := range logCases() {
		t.Run(tc.name, func(t *testing.T) {
			r := gitinfotest.New(t)
			q := tc.build(r)
			checkLog(t, r, q, tc.want, tc.reached)
		})
	}
}

// TestLogCommitGraph runs the same cases on repositories with a
// commit-graph, where the walk orders by generation numbers.
func TestLogCommitGraph(t *testing.T) {
	gitinfotest.GitPath(t)
	for _, tc := range logCases() {
		t.Run(tc.name, func(t *testing.T) {
			r := gitinfotest.New(t)
			q := tc.build(r)
			r.Git("commit-graph", "write", "--reachable")
			checkLog(t, r, q, tc.want, tc.reached)
		})
	}
}

// checkLog runs q, compares the subjects with want and the reached commits
// with reached, and cross-checks the commits against git rev-list.
func checkLog(t *testing.T, r *gitinfotest.Repo, q gitinfo.LogQuery, want, reached []string) *gitinfo.Log {
	t.Helper()
	ctx := context.Background()
	repo, err := gitinfo.Open(ctx, r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	got, err := repo.Log(ctx, q)
	if err != nil {
		t.Fatalf("Log: %v", err)
	}
	var subjects, hashes []string
	for _, c := range got.Commits {
		subjects = append(subjects, c.Subject())
		hashes = append(hashes, c.Hash)
	}
	if diff := cmp.Diff(want, subjects); diff != "" {
		t.Errorf("Log subjects (-want +got):\n%s", diff)
	}
	var wantReached []string
	for _, rev := range reached {
		wantReached = append(wantReached, r.Resolve(rev))
	}
	if diff := cmp.Diff(wantReached, got.Reached); diff != "" {
		t.Errorf("Log.Reached (-want +got):\n%s", diff)
	}
	if _, err := exec.LookPath("git"); err == nil {
		if diff := cmp.Diff(revList(t, r, q), hashes); diff != "" {
			t.Errorf("Log vs git rev-list (-git +gitinfo):\n%s", diff)
		}
	} else {
		t.Log("git binary not found: cross-check against git rev-list skipped")
	}
	return got
}

// revList runs the git equivalent of q: `git rev-list --date-order INCLUDE
// --not EXCLUDE <StopAt commits reachable from INCLUDE> [--no-merges
// --full-history -- PATHS]`.
func revList(t *testing.T, r *gitinfotest.Repo, q gitinfo.LogQuery) []string {
	t.Helper()
	args := []string{"rev-list", "--date-order"}
	if len(q.Paths) > 0 {
		args = append(args, "--no-merges", "--full-history")
	}
	args = append(args, q.Include...)
	not := append([]string{}, q.Exclude...)
	for _, s := range q.StopAt {
		if _, ok := gitOK(r.Dir, "cat-file", "-e", s+"^{commit}"); !ok {
			continue // not in this (shallow) clone
		}
		for _, inc := range q.Include {
			if _, ok := gitOK(r.Dir, "merge-base", "--is-ancestor", s, inc); ok {
				not = append(not, s)
				break
			}
		}
	}
	if len(not) > 0 {
		args = append(args, "--not")
		args = append(args, not...)
	}
	args = append(args, "--")
	for _, p := range q.Paths {
		args = append(args, strings.TrimSuffix(p, "/"))
	}
	out := r.Git(args...)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// gitOK runs git and reports whether it exited 0.
func gitOK(dir string, args ...string) (string, bool) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitinfotest.GitEnv()
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return "", false
	}
	return strings.TrimSpace(out.String()), err == nil
}

func TestLogShallow(t *testing.T) {
	origin := gitinfotest.New(t)
	gitinfotest.GitPath(t)
	origin.Commit("a", At(T(0)))
	tagged := origin.Commit("b", At(T(1)))
	origin.AnnotatedTag("v1.0.0", tagged, "release 1.0.0", At(T(1)))
	origin.Branch("side")
	origin.Checkout("side")
	origin.Commit("s1", At(T(2)), File("s", "1"))
	origin.Checkout("main")
	origin.Commit("c", At(T(3)), File("c", "1"))
	origin.Commit("d", At(T(4)), File("d", "1"))
	origin.Merge("m", []string{"side"}, At(T(5)))
	origin.Commit("e", At(T(6)), File("e", "1"))
	origin.Commit("f", At(T(7)), File("f", "1"))

	tests := []struct {
		name        string
		depth       string
		paths       []string
		want        []string
		wantReached bool
		wantShallow bool
	}{
		{name: "depth 1", depth: "--depth=1", want: []string{"f"}, wantShallow: true},
		{name: "depth 3 cuts below the merge", depth: "--depth=3", want: []string{"f", "e", "m"}, wantShallow: true},
		{name: "depth 5 reaches the tag", depth: "--depth=5", want: []string{"f", "e", "m", "d", "c", "s1"}, wantReached: true},
		{name: "depth 1 with paths", depth: "--depth=1", paths: []string{"c"}, want: []string{"f"}, wantShallow: true},
		{name: "full clone", depth: "--no-local", want: []string{"f", "e", "m", "d", "c", "s1"}, wantReached: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clone := origin.Clone(tc.depth)
			var reached []string
			if tc.wantReached {
				reached = []string{tagged}
			}
			got := checkLog(t, clone, gitinfo.LogQuery{Include: head, StopAt: []string{tagged}, Paths: tc.paths}, tc.want, reached)
			if got.Shallow != tc.wantShallow {
				t.Errorf("Log.Shallow = %v, want %v", got.Shallow, tc.wantShallow)
			}
		})
	}
}

// TestLogGeneratedHistory cross-checks Log against git rev-list on a
// generated history with merged feature branches that fork before tags and
// merge after them, and checks that the walk stays near the range it
// returns (the property the benchmarks measure at scale).
func TestLogGeneratedHistory(t *testing.T) {
	gitPath := gitinfotest.GitPath(t)
	for _, graph := range []bool{false, true} {
		t.Run(fmt.Sprintf("commit-graph=%v", graph), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "repo")
			p := gitinfotest.HistoryParams{Commits: 3000, Tags: 30, SinceTag: 57, MergeEvery: 4, BranchLength: 3, CommitGraph: graph}
			if err := gitinfotest.GenerateHistory(context.Background(), gitPath, dir, p); err != nil {
				t.Fatal(err)
			}
			r := gitinfotest.Open(t, dir)
			repo := open(t, dir)
			tags, err := repo.Tags(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, tag := range tags {
				all = append(all, tag.Commit)
			}
			queries := map[string]gitinfo.LogQuery{
				"since the tags":           {Include: head, StopAt: all},
				"since the tags, one path": {Include: head, StopAt: all, Paths: []string{"svc3"}},
				"below an old tag":         {Include: []string{r.Git("rev-parse", gitinfotest.TagName(12)+"^")}, StopAt: all},
				"long range":               {Include: head, Exclude: []string{gitinfotest.TagName(3)}},
				"two old tags apart":       {Include: []string{gitinfotest.TagName(20)}, Exclude: []string{gitinfotest.TagName(15)}, Paths: []string{"svc1", "svc5/file05.txt"}},
			}
			for name, q := range queries {
				t.Run(name, func(t *testing.T) {
					got, err := repo.Log(context.Background(), q)
					if err != nil {
						t.Fatal(err)
					}
					var hashes []string
					for _, c := range got.Commits {
						hashes = append(hashes, c.Hash)
					}
					want := revList(t, r, q)
					if diff := cmp.Diff(want, hashes); diff != "" {
						t.Errorf("Log vs git rev-list (-git +gitinfo):\n%s", diff)
					}
					if len(want) == 0 {
						t.Fatal("empty range: the query tests nothing")
					}
					if len(q.Paths) == 0 && got.Visited > len(got.Commits)+20 {
						t.Errorf("walk visited %d commits for %d selected", got.Visited, len(got.Commits))
					}
				})
			}
		})
	}
}

func TestLogQueryErrors(t *testing.T) {
	r := gitinfotest.New(t)
	r.Commit("a")
	repo := open(t, r.Dir)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		q       gitinfo.LogQuery
		wantErr error
	}{
		{name: "unknown include", q: gitinfo.LogQuery{Include: []string{"nope"}}, wantErr: gitinfo.ErrUnknownRevision},
		{name: "unknown exclude", q: gitinfo.LogQuery{Include: head, Exclude: []string{"v9"}}, wantErr: gitinfo.ErrUnknownRevision},
		{name: "unknown stop name", q: gitinfo.LogQuery{Include: head, StopAt: []string{"v9"}}, wantErr: gitinfo.ErrUnknownRevision},
		{name: "path outside the repository", q: gitinfo.LogQuery{Include: head, Paths: []string{"../x"}}},
		{name: "absolute path", q: gitinfo.LogQuery{Include: head, Paths: []string{"/etc"}}},
		{name: "cancelled", ctx: cancelled, q: gitinfo.LogQuery{Include: head}, wantErr: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			_, err := repo.Log(ctx, tc.q)
			if err == nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Log = %v, want an error (%v)", err, tc.wantErr)
			}
		})
	}
	// A StopAt hash the repository does not have is fine (shallow clones).
	got, err := repo.Log(context.Background(), gitinfo.LogQuery{Include: head, StopAt: []string{strings.Repeat("ab", 20)}})
	if err != nil || len(got.Commits) != 1 {
		t.Errorf("Log with an absent StopAt hash = %+v, %v", got, err)
	}
	// Nothing to include, nothing to list.
	if got, err := repo.Log(context.Background(), gitinfo.LogQuery{}); err != nil || len(got.Commits) != 0 {
		t.Errorf("empty query = %+v, %v", got, err)
	}
}
