package gitinfo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/gitinfo/gitinfotest"
)

func TestHead(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		build func(r *gitinfotest.Repo) gitinfo.Head
	}{
		{"branch", func(r *gitinfotest.Repo) gitinfo.Head {
			return gitinfo.Head{Commit: r.Commit("a"), Branch: "main"}
		}},
		{"other branch", func(r *gitinfotest.Repo) gitinfo.Head {
			c := r.Commit("a")
			r.Branch("release/1.x")
			r.Checkout("release/1.x")
			return gitinfo.Head{Commit: c, Branch: "release/1.x"}
		}},
		{"detached, as in CI", func(r *gitinfotest.Repo) gitinfo.Head {
			c := r.Commit("a")
			r.Detach()
			return gitinfo.Head{Commit: c}
		}},
		{"detached at an older commit", func(r *gitinfotest.Repo) gitinfo.Head {
			c := r.Commit("a")
			r.Commit("b")
			r.Checkout(c)
			return gitinfo.Head{Commit: c}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := gitinfotest.New(t)
			want := tc.build(r)
			got, err := open(t, r.Dir).Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Head (-want +got):\n%s", diff)
			}
			if got.Detached() != (want.Branch == "") {
				t.Errorf("Detached() = %v", got.Detached())
			}
		})
	}
}

func TestHeadEmptyRepository(t *testing.T) {
	r := gitinfotest.New(t)
	_, err := open(t, r.Dir).Head(context.Background())
	if !errors.Is(err, gitinfo.ErrEmptyRepository) {
		t.Errorf("Head = %v, want ErrEmptyRepository", err)
	}
}

func TestTags(t *testing.T) {
	r := gitinfotest.New(t)
	c1 := r.Commit("a")
	c2 := r.Commit("b")
	r.Tag("v1.0.0", c1)
	annotated := r.AnnotatedTag("v1.1.0", c2, "release 1.1.0\n")
	r.AnnotatedTag("signed-off", "v1.1.0", "a tag of a tag")
	r.Tag("api/v0.1.0", c2)

	// Tags on a tree and on a blob are not release tags of anything.
	g, err := git.PlainOpen(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	commit, err := g.CommitObject(plumbing.NewHash(c2))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Storer.SetReference(plumbing.NewHashReference("refs/tags/tree", commit.TreeHash)); err != nil {
		t.Fatal(err)
	}
	blob := g.Storer.NewEncodedObject()
	blob.SetType(plumbing.BlobObject)
	w, _ := blob.Writer()
	fmt.Fprint(w, "hello")
	w.Close()
	bh, err := g.Storer.SetEncodedObject(blob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.CreateTag("blob-annotated", bh, &git.CreateTagOptions{Message: "blob", Tagger: &object.Signature{Name: "x", Email: "x@x", When: T(0)}}); err != nil {
		t.Fatal(err)
	}

	got, err := open(t, r.Dir).Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []gitinfo.Tag{
		{Name: "api/v0.1.0", Commit: c2},
		{Name: "signed-off", Commit: c2, Annotated: true},
		{Name: "v1.0.0", Commit: c1},
		{Name: "v1.1.0", Commit: c2, Annotated: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tags (-want +got):\n%s", diff)
	}
	// The same answer from packed-refs' peeled records (tags of a tree or
	// blob included: their peeled targets are checked too).
	r.Git("pack-refs", "--all")
	if !strings.Contains(readFile(t, filepath.Join(r.Dir, ".git", "packed-refs")), "fully-peeled") {
		t.Fatal("git did not write a fully-peeled packed-refs")
	}
	got, err = open(t, r.Dir).Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tags from packed-refs (-want +got):\n%s", diff)
	}
	if annotated == c2 {
		t.Errorf("annotated tag object %s is the commit itself", annotated)
	}
}

func TestTagsPacked(t *testing.T) {
	r := gitinfotest.New(t)
	c := r.Commit("a")
	r.Tag("v1.0.0", c)
	r.AnnotatedTag("v1.1.0", c, "m")
	r.Git("pack-refs", "--all")
	got, err := open(t, r.Dir).Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []gitinfo.Tag{{Name: "v1.0.0", Commit: c}, {Name: "v1.1.0", Commit: c, Annotated: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tags (-want +got):\n%s", diff)
	}

	// A loose ref written after packing wins over the packed record.
	c2 := r.Commit("b")
	r.Git("tag", "-f", "-a", "-m", "moved", "v1.0.0", c2)
	r.Git("tag", "-f", "v1.1.0", c2)
	got, err = open(t, r.Dir).Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want = []gitinfo.Tag{{Name: "v1.0.0", Commit: c2, Annotated: true}, {Name: "v1.1.0", Commit: c2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tags with loose refs over packed ones (-want +got):\n%s", diff)
	}

	// A packed-refs without the peeled trait: tags are peeled from objects.
	r.Git("pack-refs", "--all")
	path := filepath.Join(r.Dir, ".git", "packed-refs")
	var kept []string
	for _, l := range strings.Split(readFile(t, path), "\n") {
		if strings.HasPrefix(l, "#") || strings.HasPrefix(l, "^") {
			continue
		}
		kept = append(kept, l)
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = open(t, r.Dir).Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tags from packed-refs without peeled records (-want +got):\n%s", diff)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestResolve(t *testing.T) {
	r := gitinfotest.New(t)
	c1 := r.Commit("a")
	c2 := r.Commit("b")
	r.Tag("v1.0.0", c1)
	r.AnnotatedTag("v1.1.0", c2, "m")
	r.Branch("topic", c1)
	r.Branch("v1.0.0", c2) // a branch named like a tag: git prefers the tag
	r.AddRemote("origin", "https://example.com/x.git")
	g, err := git.PlainOpen(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Storer.SetReference(plumbing.NewHashReference("refs/remotes/origin/main", plumbing.NewHash(c1))); err != nil {
		t.Fatal(err)
	}
	commit, _ := g.CommitObject(plumbing.NewHash(c2))
	a1, a2 := ambiguousCommits(t, g)

	tests := []struct {
		rev     string
		want    string
		wantErr error
	}{
		{rev: "HEAD", want: c2},
		{rev: c1, want: c1},
		{rev: c1[:7], want: c1},
		{rev: c1[:12], want: c1},
		{rev: "v1.0.0", want: c1},
		{rev: "v1.1.0", want: c2},
		{rev: "refs/tags/v1.1.0", want: c2},
		{rev: "refs/heads/v1.0.0", want: c2},
		{rev: "topic", want: c1},
		{rev: "main", want: c2},
		{rev: "origin/main", want: c1},
		{rev: a1, want: a1},
		{rev: a1[:7], wantErr: gitinfo.ErrAmbiguousRevision},
		{rev: a2[:8], want: a2},
		{rev: c1[:6], wantErr: gitinfo.ErrUnknownRevision},
		{rev: "0000000000000000000000000000000000000000", wantErr: gitinfo.ErrUnknownRevision},
		{rev: "nope", wantErr: gitinfo.ErrUnknownRevision},
		{rev: "config", wantErr: gitinfo.ErrUnknownRevision},
		{rev: "", wantErr: gitinfo.ErrUnknownRevision},
		{rev: commit.TreeHash.String(), wantErr: gitinfo.ErrUnknownRevision},
	}
	repo := open(t, r.Dir)
	for _, tc := range tests {
		t.Run(tc.rev, func(t *testing.T) {
			got, err := repo.Resolve(context.Background(), tc.rev)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Resolve(%q) = %q, %v; want %v", tc.rev, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Resolve(%q) = %s, want %s", tc.rev, got, tc.want)
			}
		})
	}
}

// ambiguousCommits stores two dangling commits whose hashes share their
// first 7 hex digits (a birthday search over commit messages) and returns
// them.
func ambiguousCommits(t *testing.T, g *git.Repository) (string, string) {
	t.Helper()
	seen := map[string]*object.Commit{}
	sig := object.Signature{Name: "x", Email: "x@example.com", When: T(0)}
	for i := 0; i < 1<<22; i++ {
		c := &object.Commit{Author: sig, Committer: sig, Message: fmt.Sprintf("c%d\n", i), TreeHash: plumbing.ZeroHash}
		obj := g.Storer.NewEncodedObject()
		if err := c.Encode(obj); err != nil {
			t.Fatal(err)
		}
		prefix := obj.Hash().String()[:7]
		if other, ok := seen[prefix]; ok {
			for _, cc := range []*object.Commit{other, c} {
				o := g.Storer.NewEncodedObject()
				if err := cc.Encode(o); err != nil {
					t.Fatal(err)
				}
				if _, err := g.Storer.SetEncodedObject(o); err != nil {
					t.Fatal(err)
				}
			}
			oh := g.Storer.NewEncodedObject()
			_ = other.Encode(oh)
			return oh.Hash().String(), obj.Hash().String()
		}
		seen[prefix] = c
	}
	t.Fatal("no 7-digit collision found")
	return "", ""
}

func TestCommit(t *testing.T) {
	r := gitinfotest.New(t)
	first := r.Commit("a")
	msg := "feat: windows line endings\r\n\r\nBody line\r\n\r\nBREAKING CHANGE: x\r\n"
	h := r.Commit(msg, At(T(42)), gitinfotest.By("Grace Hopper", "grace@example.com"))
	got, err := open(t, r.Dir).Commit(context.Background(), h[:9])
	if err != nil {
		t.Fatal(err)
	}
	sig := gitinfo.Signature{Name: "Grace Hopper", Email: "grace@example.com", When: T(42)}
	want := gitinfo.Commit{Hash: h, Parents: []string{first}, Author: sig, Committer: sig, Message: msg}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b gitinfo.Signature) bool {
		return a.Name == b.Name && a.Email == b.Email && a.When.Equal(b.When)
	})); diff != "" {
		t.Errorf("Commit (-want +got):\n%s", diff)
	}
	if got.Subject() != "feat: windows line endings" {
		t.Errorf("Subject() = %q", got.Subject())
	}
	if _, err := open(t, r.Dir).Commit(context.Background(), "v9"); !errors.Is(err, gitinfo.ErrUnknownRevision) {
		t.Errorf("Commit(v9) = %v, want ErrUnknownRevision", err)
	}
}

func TestRemoteURL(t *testing.T) {
	r := gitinfotest.New(t)
	r.Commit("a")
	r.AddRemote("origin", "https://user:s3cret@example.com/org/app.git")
	r.AddRemote("ssh", "git@example.com:org/app.git")
	repo := open(t, r.Dir)
	tests := []struct {
		name, want string
		wantErr    error
	}{
		{name: "origin", want: "https://user:s3cret@example.com/org/app.git"},
		{name: "ssh", want: "git@example.com:org/app.git"},
		{name: "upstream", wantErr: gitinfo.ErrUnknownRemote},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := repo.RemoteURL(context.Background(), tc.name)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("RemoteURL(%s) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("RemoteURL(%s) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}

func TestShallow(t *testing.T) {
	r := gitinfotest.New(t)
	r.Commit("a")
	r.Commit("b")
	tests := []struct {
		name string
		dir  string
		want bool
	}{
		{"full", r.Dir, false},
		{"depth 1", r.Clone("--depth=1").Dir, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := open(t, tc.dir).Shallow(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Shallow() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStripUserinfo(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:tok@example.com/org/app.git", "https://example.com/org/app.git"},
		{"https://tok@example.com/org/app", "https://example.com/org/app"},
		{"ssh://git@example.com:22/org/app.git", "ssh://example.com:22/org/app.git"},
		{"git@example.com:org/app.git", "git@example.com:org/app.git"},
		{"https://example.com/org/app", "https://example.com/org/app"},
		{"/srv/git/app.git", "/srv/git/app.git"},
		// Unparsable: a password with a raw "/", "#" or "?" in it.
		{"https://user:p/ss@example.com/org/app", "https://example.com/org/app"},
		{"https://user:p#ss@example.com/org/app", "https://example.com/org/app"},
		{"https://user:p?ss@example.com/org/app", "https://example.com/org/app"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := gitinfo.StripUserinfo(tc.in); got != tc.want {
				t.Errorf("StripUserinfo(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"fatal: https://user:TOKEN@host/org/repo.git not found", "fatal: https://user:xxxxx@host/org/repo.git not found"},
		{"https://TOKEN@host/x", "https://xxxxx@host/x"},
		{"https://host/x", "https://host/x"},
		{"a https://u:p@h b http://v:q@i", "a https://u:xxxxx@h b http://v:xxxxx@i"},
		{`pulling "https://u:p@h"`, `pulling "https://u:xxxxx@h"`},
		{"no url here", "no url here"},
		{"https://u:p@h", "https://u:xxxxx@h"},
		{"https://u:p@ss@h/x", "https://u:xxxxx@h/x"},
		// A password pasted with a raw "#", "/" or "?" in it.
		{"remote origin (https://user:p#ss@host/org/repo) has", "remote origin (https://user:xxxxx@host/org/repo) has"},
		{"https://user:p/ss@host/org/repo", "https://user:xxxxx@host/org/repo"},
		{"https://user:p?ss@host/org/repo", "https://user:xxxxx@host/org/repo"},
		{"https://user:p#s@s@host/org/repo", "https://user:xxxxx@host/org/repo"},
		{"https://user:12/34@host/org/repo", "https://user:xxxxx@host/org/repo"},
		{"https://to#ken@host/org/repo", "https://xxxxx@host/org/repo"},
		{"https://user:pw@host/org/pkg@v1", "https://user:xxxxx@host/org/pkg@v1"},
		// An "@" in the path of a URL without credentials stays.
		{"git+https://host/org/pkg@v1.2#egg=pkg", "git+https://host/org/pkg@v1.2#egg=pkg"},
		{"https://registry.example/@scope/pkg", "https://registry.example/@scope/pkg"},
		{"https://host/x?q=a@b", "https://host/x?q=a@b"},
		{"https://host/x#a@b", "https://host/x#a@b"},
		{"https://to?ken@host/org/repo", "https://xxxxx@host/org/repo"},
		// With a port before it, the safe side: masked.
		{"https://host:8080/org/pkg@v1", "https://host:xxxxx@v1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, gitinfo.RedactURL(tt.in)); diff != "" {
				t.Errorf("RedactURL(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestResolveAncestry checks git's ancestry suffixes against git itself.
func TestResolveAncestry(t *testing.T) {
	r := gitinfotest.New(t)
	base := r.Commit("base")
	r.Commit("main 1")
	r.Branch("topic", base)
	r.Checkout("topic")
	r.Commit("side")
	r.Checkout("main")
	r.Merge("merge topic", []string{"topic"})
	r.Commit("after")
	r.AnnotatedTag("v1.0.0", "HEAD", "m")
	repo := open(t, r.Dir)
	for _, rev := range []string{"HEAD~", "HEAD~1", "HEAD~2", "HEAD~1^2", "HEAD^^2", "HEAD~3", "v1.0.0~2", "v1.0.0^{}", "v1.0.0^{commit}", "HEAD^0", "topic~1", "HEAD~1^1~1"} {
		t.Run(rev, func(t *testing.T) {
			want := strings.TrimSpace(r.Git("rev-parse", "--verify", "-q", rev+"^{commit}"))
			got, err := repo.Resolve(context.Background(), rev)
			if err != nil {
				t.Fatalf("Resolve(%q): %v (git says %s)", rev, err, want)
			}
			if got != want {
				t.Errorf("Resolve(%q) = %s, git says %s", rev, got, want)
			}
		})
	}
	for _, rev := range []string{"HEAD~9", "HEAD^3", "HEAD^{tree}", "HEAD~x", "HEAD^{"} {
		if got, err := repo.Resolve(context.Background(), rev); !errors.Is(err, gitinfo.ErrUnknownRevision) {
			t.Errorf("Resolve(%q) = %q, %v; want ErrUnknownRevision", rev, got, err)
		}
	}
}

// FuzzRedactURL: whatever a password holds (a raw "/", "?", "#", "@", ":"),
// a URL with user:password in a line of text comes out with the password
// masked and everything else as it was.
func FuzzRedactURL(f *testing.F) {
	for _, s := range [][4]string{
		{"fatal: could not read", "ci", "s3cret", "git.example.org"},
		{"", "user", "p/ss", "host"},
		{"x", "u", "p#s@s?w:1", "h.example:8443"},
		{"0", "0", "@#", "0"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, prefix, user, pass, host string) {
		ok := func(s string, allowed func(rune) bool) bool {
			return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !allowed(r) })
		}
		word := func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' }
		hostChar := func(r rune) bool { return word(r) || r == '.' || r == ':' }
		// The password is anything a URL can hold before whitespace or a
		// quote ends it, but another "://" (a URL of its own) and an "@"
		// before a "/" (u:p@s/w@host is user u:p at host s to everyone).
		passChar := func(r rune) bool { return r > ' ' && r != 0x7f && r != '"' && r != '\'' && r < 0x80 }
		atThenSlash := strings.Contains(pass, "@") && strings.Contains(pass[strings.Index(pass, "@"):], "/")
		if !ok(user, word) || !ok(host, hostChar) || !ok(pass, passChar) || strings.Contains(pass, "://") || atThenSlash ||
			strings.Contains(prefix, "://") || strings.ContainsAny(prefix, "\"'") {
			t.Skip()
		}
		in := prefix + " https://" + user + ":" + pass + "@" + host + "/org/app.git and more"
		want := prefix + " https://" + user + ":xxxxx@" + host + "/org/app.git and more"
		if got := gitinfo.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q)\n = %q\nwant %q", in, got, want)
		}
	})
}
