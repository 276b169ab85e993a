// Package gitinfotest builds real git repositories for tests: commits with
// fixed identities and explicitly given times, branches, merges (octopus
// too), lightweight and annotated tags, detached HEADs, dirty worktrees,
// shallow clones, and a git smart-HTTP server for push tests.
//
// Repositories are written through go-git into t.TempDir(); the few things
// go-git cannot do (shallow clones, sparse checkouts, the git servers) use the
// git binary and skip the test when it is missing, or fail it when the CI
// variable is set (see InCI).
//
//	r := gitinfotest.New(t)
//	c1 := r.Commit("feat: x", gitinfotest.At(gitinfotest.Time(0)))
//	r.Tag("v1.0.0", c1)
//	r.Branch("topic")
//	r.Checkout("topic")
//	c2 := r.Commit("fix: y", gitinfotest.File("api/y.txt", "y\n"))
//	r.Checkout("main")
//	r.Merge("Merge topic", []string{"topic"})
package gitinfotest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Identity used for every commit and tag unless an option says otherwise.
const (
	Name  = "Release Tester"
	Email = "tester@example.com"
)

// Time returns the fixed test clock: 2024-01-01T00:00:00Z plus the given
// number of minutes. Commits without At are made at Time(0), Time(1), ... in
// the order they are created.
func Time(minutes int) time.Time {
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute)
}

// Repo is a repository under construction. Its methods fail the test on any
// error.
type Repo struct {
	t testing.TB
	// Dir is the worktree root.
	Dir  string
	repo *git.Repository
	tick int // minutes of the next default commit time
}

// New creates an empty repository (branch main, no commit) in a new
// t.TempDir().
func New(t testing.TB) *Repo {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatalf("gitinfotest: init %s: %v", dir, err)
	}
	return &Repo{t: t, Dir: dir, repo: repo}
}

// Open wraps an existing repository (for instance one made by Clone) so the
// builder methods can add to it. Default commit times continue from
// Time(100000) so they follow whatever the repository holds.
func Open(t testing.TB, dir string) *Repo {
	t.Helper()
	return &Repo{t: t, Dir: dir, tick: 100000}
}

// Option configures a commit, merge or tag.
type Option func(*settings)

type settings struct {
	when        *time.Time
	committed   *time.Time
	name, email string
	files       map[string]*string // nil content: remove
}

// At sets the author and committer time (or the tagger time of a tag).
func At(t time.Time) Option { return func(s *settings) { s.when = &t } }

// CommittedAt sets the committer time alone, for commits whose author time
// differs (rebases, cherry-picks).
func CommittedAt(t time.Time) Option { return func(s *settings) { s.committed = &t } }

// By sets the author and committer (or tagger) identity.
func By(name, email string) Option {
	return func(s *settings) { s.name, s.email = name, email }
}

// File writes a file (slash-separated path) as part of the commit or merge.
func File(path, content string) Option {
	return func(s *settings) {
		if s.files == nil {
			s.files = map[string]*string{}
		}
		s.files[path] = &content
	}
}

// Remove deletes a file as part of the commit or merge.
func Remove(path string) Option {
	return func(s *settings) {
		if s.files == nil {
			s.files = map[string]*string{}
		}
		s.files[path] = nil
	}
}

func (r *Repo) settings(opts []Option) settings {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	if s.when == nil {
		t := Time(r.tick)
		s.when = &t
		r.tick++
	}
	if s.name == "" {
		s.name, s.email = Name, Email
	}
	return s
}

// Commit creates a commit on HEAD with the message exactly as given (CRLF and
// trailing newlines kept) and returns its hash. Without File or Remove the
// commit is empty (same tree as its parent).
func (r *Repo) Commit(message string, opts ...Option) string {
	r.t.Helper()
	return r.commit(message, nil, r.settings(opts))
}

// Merge creates a merge commit on HEAD whose other parents are revs (two or
// more make an octopus) and returns its hash. Its tree is a file-level
// three-way merge of the parents against their merge base; a file changed on
// both sides fails the test unless a File or Remove option settles it.
func (r *Repo) Merge(message string, revs []string, opts ...Option) string {
	r.t.Helper()
	if len(revs) == 0 {
		r.t.Fatalf("gitinfotest: merge %q: no revision to merge", message)
	}
	head := r.hash("HEAD")
	parents := []plumbing.Hash{head}
	for _, rev := range revs {
		parents = append(parents, r.hash(rev))
	}
	s := r.settings(opts)
	merged := r.files(head)
	for _, other := range parents[1:] {
		merged = r.merge3(merged, head, other, s.files)
	}
	// Stage the merged result over the current tree, then the options.
	ours := r.files(head)
	changes := map[string]*string{}
	for p, c := range merged {
		if o, ok := ours[p]; !ok || o != c {
			c := c
			changes[p] = &c
		}
	}
	for p := range ours {
		if _, ok := merged[p]; !ok {
			changes[p] = nil
		}
	}
	for p, c := range s.files {
		changes[p] = c
	}
	s.files = changes
	return r.commit(message, parents, s)
}

func (r *Repo) commit(message string, parents []plumbing.Hash, s settings) string {
	r.t.Helper()
	wt, err := r.g().Worktree()
	if err != nil {
		r.t.Fatalf("gitinfotest: worktree: %v", err)
	}
	paths := make([]string, 0, len(s.files))
	for p := range s.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		c := s.files[p]
		if c == nil {
			if _, err := wt.Remove(p); err != nil {
				r.t.Fatalf("gitinfotest: removing %s: %v", p, err)
			}
			continue
		}
		r.WriteFile(p, *c)
		if _, err := wt.Add(p); err != nil {
			r.t.Fatalf("gitinfotest: adding %s: %v", p, err)
		}
	}
	author := object.Signature{Name: s.name, Email: s.email, When: *s.when}
	committer := author
	if s.committed != nil {
		committer.When = *s.committed
	}
	h, err := wt.Commit(message, &git.CommitOptions{
		Author:            &author,
		Committer:         &committer,
		Parents:           parents,
		AllowEmptyCommits: true,
	})
	if err != nil {
		r.t.Fatalf("gitinfotest: commit %q: %v", message, err)
	}
	return h.String()
}

// files returns the flat content of a commit's tree.
func (r *Repo) files(h plumbing.Hash) map[string]string {
	r.t.Helper()
	c, err := r.g().CommitObject(h)
	if err != nil {
		r.t.Fatalf("gitinfotest: reading %s: %v", h, err)
	}
	iter, err := c.Files()
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]string{}
	err = iter.ForEach(func(f *object.File) error {
		s, err := f.Contents()
		out[f.Name] = s
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// merge3 merges the files of other into ours (the accumulated result, based
// on head) against the merge base of head and other.
func (r *Repo) merge3(ours map[string]string, head, other plumbing.Hash, settled map[string]*string) map[string]string {
	r.t.Helper()
	hc, err := r.g().CommitObject(head)
	if err != nil {
		r.t.Fatal(err)
	}
	oc, err := r.g().CommitObject(other)
	if err != nil {
		r.t.Fatal(err)
	}
	bases, err := hc.MergeBase(oc)
	if err != nil {
		r.t.Fatalf("gitinfotest: merge base of %s and %s: %v", head, other, err)
	}
	base := map[string]string{}
	if len(bases) > 0 {
		base = r.files(bases[0].Hash)
	}
	theirs := r.files(other)
	out := map[string]string{}
	for p, c := range ours {
		out[p] = c
	}
	all := map[string]bool{}
	for _, m := range []map[string]string{base, ours, theirs} {
		for p := range m {
			all[p] = true
		}
	}
	for p := range all {
		b, inBase := base[p]
		o, inOurs := ours[p]
		t, inTheirs := theirs[p]
		switch {
		case inOurs == inTheirs && o == t:
			// same on both sides
		case inOurs == inBase && o == b:
			if inTheirs {
				out[p] = t
			} else {
				delete(out, p)
			}
		case inTheirs == inBase && t == b:
			// only ours changed
		default:
			if _, ok := settled[p]; !ok {
				r.t.Fatalf("gitinfotest: merge conflict on %s: settle it with File or Remove", p)
			}
		}
	}
	return out
}

// Tag creates a lightweight tag on rev.
func (r *Repo) Tag(name, rev string) {
	r.t.Helper()
	if _, err := r.g().CreateTag(name, r.hash(rev), nil); err != nil {
		r.t.Fatalf("gitinfotest: tag %s: %v", name, err)
	}
}

// AnnotatedTag creates an annotated tag on rev (a commit, or another tag
// object for a tag of a tag) and returns the tag object's hash.
func (r *Repo) AnnotatedTag(name, rev, message string, opts ...Option) string {
	r.t.Helper()
	s := r.settings(opts)
	target := r.object(rev)
	ref, err := r.g().CreateTag(name, target, &git.CreateTagOptions{
		Tagger:  &object.Signature{Name: s.name, Email: s.email, When: *s.when},
		Message: message,
	})
	if err != nil {
		r.t.Fatalf("gitinfotest: tag %s: %v", name, err)
	}
	return ref.Hash().String()
}

// Branch creates a branch at HEAD, or at rev when given.
func (r *Repo) Branch(name string, rev ...string) {
	r.t.Helper()
	at := "HEAD"
	if len(rev) > 0 {
		at = rev[0]
	}
	ref := plumbing.NewHashReference(plumbing.NewBranchReferenceName(name), r.hash(at))
	if err := r.g().Storer.SetReference(ref); err != nil {
		r.t.Fatalf("gitinfotest: branch %s: %v", name, err)
	}
}

// Checkout switches to a branch, or detaches HEAD at any other revision,
// resetting the worktree and index.
func (r *Repo) Checkout(rev string) {
	r.t.Helper()
	wt, err := r.g().Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	opts := &git.CheckoutOptions{Force: true}
	if _, err := r.g().Reference(plumbing.NewBranchReferenceName(rev), false); err == nil {
		opts.Branch = plumbing.NewBranchReferenceName(rev)
	} else {
		opts.Hash = r.hash(rev)
	}
	if err := wt.Checkout(opts); err != nil {
		r.t.Fatalf("gitinfotest: checkout %s: %v", rev, err)
	}
}

// Detach points HEAD at its current commit directly, as CI checkouts do.
func (r *Repo) Detach() {
	r.t.Helper()
	ref := plumbing.NewHashReference(plumbing.HEAD, r.hash("HEAD"))
	if err := r.g().Storer.SetReference(ref); err != nil {
		r.t.Fatal(err)
	}
}

// WriteFile writes a worktree file without staging it (a dirty worktree).
func (r *Repo) WriteFile(path, content string) {
	r.t.Helper()
	full := filepath.Join(r.Dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// AddRemote configures a remote.
func (r *Repo) AddRemote(name, url string) {
	r.t.Helper()
	if _, err := r.g().CreateRemote(&config.RemoteConfig{Name: name, URLs: []string{url}}); err != nil {
		r.t.Fatalf("gitinfotest: remote %s: %v", name, err)
	}
}

// Resolve returns the full commit hash of a revision (tags peeled).
func (r *Repo) Resolve(rev string) string {
	r.t.Helper()
	return r.hash(rev).String()
}

func (r *Repo) hash(rev string) plumbing.Hash {
	r.t.Helper()
	h, err := r.g().ResolveRevision(plumbing.Revision(rev + "^{commit}"))
	if err != nil {
		r.t.Fatalf("gitinfotest: resolving %s: %v", rev, err)
	}
	return *h
}

// object resolves rev without peeling tags (for tags of tags).
func (r *Repo) object(rev string) plumbing.Hash {
	r.t.Helper()
	if ref, err := r.g().Reference(plumbing.NewTagReferenceName(rev), true); err == nil {
		return ref.Hash()
	}
	return r.hash(rev)
}

// GitPath returns the git binary. Without one it skips the test, or fails
// it when CI is set (see InCI).
func GitPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("git")
	if err != nil {
		Missing(t, "gitinfotest: git binary not found")
	}
	return p
}

// GitEnv is the environment the helpers run git with: no system or global
// configuration, fixed identities and dates, so results do not depend on the
// machine.
func GitEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	when := Time(0).Format(time.RFC3339)
	return append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_AUTHOR_NAME="+Name, "GIT_AUTHOR_EMAIL="+Email, "GIT_AUTHOR_DATE="+when,
		"GIT_COMMITTER_NAME="+Name, "GIT_COMMITTER_EMAIL="+Email, "GIT_COMMITTER_DATE="+when,
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	)
}

// Git runs the git binary in the repository and returns its trimmed
// stdout, failing the test on error and skipping it when git is missing.
// The builder's go-git handle is reopened afterwards: git may have repacked
// objects it had cached the location of.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	out := RunGit(r.t, r.Dir, args...)
	r.repo = nil // reopened on next use
	return out
}

// g returns the go-git handle, reopening it after Git. Repositories go-git
// cannot open (sparse checkouts, ...) can still be used through Git.
func (r *Repo) g() *git.Repository {
	r.t.Helper()
	if r.repo == nil {
		repo, err := git.PlainOpen(r.Dir)
		if err != nil {
			r.t.Fatalf("gitinfotest: opening %s with go-git: %v", r.Dir, err)
		}
		r.repo = repo
	}
	return r.repo
}

// RunGit runs the git binary in dir (see Repo.Git).
func RunGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	git := GitPath(t)
	cmd := exec.Command(git, args...)
	cmd.Dir = dir
	cmd.Env = GitEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gitinfotest: git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// Clone makes a clone of the repository with the git binary through a
// file:// URL (so --depth is honoured) into a new temporary directory and
// returns it. Extra arguments go to `git clone`, e.g. "--depth=1",
// "--no-tags", "--branch=v1.0.0".
func (r *Repo) Clone(args ...string) *Repo {
	r.t.Helper()
	dst := filepath.Join(r.t.TempDir(), "clone")
	all := append([]string{"clone", "--quiet"}, args...)
	all = append(all, "file://"+filepath.ToSlash(r.Dir), dst)
	RunGit(r.t, r.Dir, all...)
	return Open(r.t, dst)
}

// NewBare creates an empty bare repository in a new temporary directory,
// named name (for instance "app.git"), and returns its path.
func NewBare(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if _, err := git.PlainInit(dir, true); err != nil {
		t.Fatalf("gitinfotest: init bare %s: %v", dir, err)
	}
	return dir
}
