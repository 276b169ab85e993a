package gitinfotest_test

import (
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo/gitinfotest"
)

func commit(t *testing.T, r *gitinfotest.Repo, rev string) *object.Commit {
	t.Helper()
	g, err := git.PlainOpen(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.CommitObject(plumbing.NewHash(r.Resolve(rev)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func files(t *testing.T, c *object.Commit) map[string]string {
	t.Helper()
	out := map[string]string{}
	iter, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	_ = iter.ForEach(func(f *object.File) error {
		s, err := f.Contents()
		out[f.Name] = s
		return err
	})
	return out
}

func TestCommitKeepsMessageTimesAndIdentity(t *testing.T) {
	r := gitinfotest.New(t)
	first := r.Commit("first")
	second := r.Commit("second")
	msg := "fix: crlf\r\n\r\nbody\r\n"
	h := r.Commit(msg, gitinfotest.At(gitinfotest.Time(90)), gitinfotest.CommittedAt(gitinfotest.Time(95)), gitinfotest.By("A", "a@example.com"))
	c := commit(t, r, h)
	if c.Message != msg {
		t.Errorf("message = %q, want %q", c.Message, msg)
	}
	if !c.Author.When.Equal(gitinfotest.Time(90)) || !c.Committer.When.Equal(gitinfotest.Time(95)) {
		t.Errorf("times = %v / %v", c.Author.When, c.Committer.When)
	}
	if c.Author.Name != "A" || c.Committer.Email != "a@example.com" {
		t.Errorf("identity = %v / %v", c.Author, c.Committer)
	}
	// Default times tick by a minute from Time(0).
	if got := commit(t, r, first).Committer.When; !got.Equal(gitinfotest.Time(0)) {
		t.Errorf("first commit at %v", got)
	}
	if got := commit(t, r, second).Committer.When; !got.Equal(gitinfotest.Time(1)) {
		t.Errorf("second commit at %v", got)
	}
}

func TestMergeThreeWayAndOctopus(t *testing.T) {
	r := gitinfotest.New(t)
	r.Commit("base", gitinfotest.File("shared", "0"), gitinfotest.File("ours", "0"), gitinfotest.File("gone", "0"))
	r.Branch("a")
	r.Branch("b")
	r.Checkout("a")
	r.Commit("a1", gitinfotest.File("a.txt", "a"), gitinfotest.Remove("gone"))
	r.Checkout("b")
	r.Commit("b1", gitinfotest.File("b.txt", "b"), gitinfotest.File("shared", "b"))
	r.Checkout("main")
	r.Commit("m1", gitinfotest.File("ours", "main"))
	h := r.Merge("octopus", []string{"a", "b"})
	c := commit(t, r, h)
	want := []plumbing.Hash{plumbing.NewHash(r.Resolve("HEAD~1")), plumbing.NewHash(r.Resolve("a")), plumbing.NewHash(r.Resolve("b"))}
	if diff := cmp.Diff(want, c.ParentHashes); diff != "" {
		t.Errorf("parents (-want +got):\n%s", diff)
	}
	wantFiles := map[string]string{"shared": "b", "ours": "main", "a.txt": "a", "b.txt": "b"}
	if diff := cmp.Diff(wantFiles, files(t, c)); diff != "" {
		t.Errorf("merged tree (-want +got):\n%s", diff)
	}
}

func TestTagsBranchesAndDetachedHead(t *testing.T) {
	r := gitinfotest.New(t)
	c1 := r.Commit("a")
	r.Tag("v1.0.0", c1)
	tagObj := r.AnnotatedTag("v1.1.0", c1, "notes")
	r.Commit("b")
	r.Checkout("v1.0.0")
	g, err := git.PlainOpen(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	head, err := g.Reference(plumbing.HEAD, false)
	if err != nil {
		t.Fatal(err)
	}
	if head.Type() != plumbing.HashReference || head.Hash().String() != c1 {
		t.Errorf("HEAD = %v, want detached at %s", head, c1)
	}
	tag, err := g.TagObject(plumbing.NewHash(tagObj))
	if err != nil {
		t.Fatal(err)
	}
	if tag.Target.String() != c1 || tag.Message != "notes\n" {
		t.Errorf("tag = %+v", tag)
	}
}

func TestCloneDepth(t *testing.T) {
	r := gitinfotest.New(t)
	for i := 0; i < 5; i++ {
		r.Commit("c")
	}
	c := r.Clone("--depth=2")
	if got := c.Git("rev-list", "--count", "HEAD"); got != "2" {
		t.Errorf("clone has %s commits, want 2", got)
	}
}
