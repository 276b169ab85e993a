package gitinfo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// objectCacheSize bounds the decoded-object LRU cache. The version walk
// touches a few hundred commits; 32 MiB holds them many times over without
// letting a long-lived process grow to go-git's 96 MiB default.
const objectCacheSize = 32 * cache.MiByte

// Repo is an open git repository with a worktree. Its methods are safe for
// concurrent use (calls into go-git are serialised). Close releases the pack
// files it keeps open.
type Repo struct {
	root string // worktree root
	// commonDir holds what worktrees share (objects, packed-refs): the
	// worktree's git directory itself, or the main repository's for a
	// linked worktree.
	commonDir string
	git       string // path of the git binary, "" to never run it

	mu      sync.Mutex // guards everything below: go-git storage is not safe for concurrent use
	storage *storage
	repo    *git.Repository
	graph   *commitGraph // nil until first needed; see commitgraph.go
}

// Option changes how Open sets up a Repo.
type Option func(*options)

type options struct {
	git      string // "" disables the git binary
	lookPath bool   // look "git" up on PATH (the default)
}

// WithGitBinary sets the git binary used where go-git is slow (Status) or
// cannot authenticate (PushTag). The default is "git" looked up on PATH when
// Open runs; an empty path disables the binary and every operation uses
// go-git only.
func WithGitBinary(path string) Option {
	return func(o *options) {
		o.git = path
		o.lookPath = false
	}
}

// Open finds the repository that contains dir, searching dir and then its
// parents like git does, and opens it. Linked worktrees (a ".git" file) are
// supported; bare repositories are not. It returns ErrNotRepository when no
// repository is found.
//
// Repositories using the read-safe extensions worktreeConfig, partialClone
// and preciousObjects (sparse checkouts, blobless clones) open normally:
// release only reads commits, trees and refs and writes tags, which those
// extensions do not change.
func Open(ctx context.Context, dir string, opts ...Option) (*Repo, error) {
	o := options{lookPath: true}
	for _, opt := range opts {
		opt(&o)
	}
	if o.lookPath {
		if p, err := exec.LookPath("git"); err == nil {
			o.git = p
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	root, gitDir, err := discover(dir)
	if err != nil {
		return nil, err
	}
	commonDir, err := commonDirOf(gitDir)
	if err != nil {
		return nil, err
	}

	shared := gitDir // see Repo.commonDir
	var dotFS billy.Filesystem = osfs.New(gitDir)
	if commonDir != "" {
		shared = commonDir
		dotFS = dotgit.NewRepositoryFilesystem(dotFS, osfs.New(commonDir))
	}
	fsStorage := filesystem.NewStorageWithOptions(dotFS, cache.NewObjectLRU(objectCacheSize), filesystem.Options{
		// Keep pack files open between object reads: without it every
		// read re-opens the pack and rebuilds its scanner.
		KeepDescriptors: true,
	})
	st := &storage{Storage: fsStorage, packs: newPackReader(filepath.Join(shared, "objects"))}
	repo, err := git.Open(st, osfs.New(root))
	if err != nil {
		_ = st.Close()
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, fmt.Errorf("opening %s: %w", root, ErrNotRepository)
		}
		return nil, fmt.Errorf("opening repository %s: %w", root, err)
	}
	return &Repo{root: root, commonDir: shared, git: o.git, storage: st, repo: repo}, nil
}

// Root is the top directory of the worktree.
func (r *Repo) Root() string { return r.root }

// Close releases the files the repository keeps open. The Repo must not be
// used afterwards.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	if r.graph != nil {
		errs = append(errs, r.graph.close())
		r.graph = nil
	}
	if r.storage != nil {
		errs = append(errs, r.storage.Close())
		r.storage = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing repository: %w", err)
	}
	return nil
}

// discover walks from dir up to the filesystem root looking for ".git", a
// directory or a "gitdir:" file, and returns the worktree root and the git
// directory.
func discover(dir string) (root, gitDir string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", fmt.Errorf("resolving %s: %w", dir, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return "", "", fmt.Errorf("opening %s: %w", dir, err)
	} else if !fi.IsDir() {
		abs = filepath.Dir(abs)
	}
	for d := abs; ; {
		candidate := filepath.Join(d, ".git")
		fi, err := os.Stat(candidate)
		switch {
		case err == nil && fi.IsDir():
			if isGitDir(candidate) {
				return d, candidate, nil
			}
		case err == nil:
			gd, err := readGitFile(candidate)
			if err != nil {
				return "", "", err
			}
			if isGitDir(gd) {
				return d, gd, nil
			}
		case !errors.Is(err, fs.ErrNotExist):
			return "", "", fmt.Errorf("looking for a repository: %w", err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", fmt.Errorf("%s: %w", dir, ErrNotRepository)
		}
		d = parent
	}
}

// readGitFile reads the "gitdir: <path>" line of a .git file (linked
// worktrees, submodules); relative paths are relative to the file.
func readGitFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	gd, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir:")
	if !ok {
		return "", fmt.Errorf("reading %s: no gitdir line: %w", path, ErrNotRepository)
	}
	gd = strings.TrimSpace(gd)
	if !filepath.IsAbs(gd) {
		gd = filepath.Join(filepath.Dir(path), gd)
	}
	return filepath.Clean(gd), nil
}

// isGitDir applies git's own test (setup.c is_git_directory): HEAD plus
// objects/ and refs/ (found directly or through a commondir file).
func isGitDir(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		return false
	}
	common := dir
	if c, err := commonDirOf(dir); err == nil && c != "" {
		common = c
	}
	for _, sub := range []string{"objects", "refs"} {
		if fi, err := os.Stat(filepath.Join(common, sub)); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// commonDirOf returns the directory named by gitDir/commondir (a linked
// worktree shares objects, refs and config with the main repository), or ""
// when there is none.
func commonDirOf(gitDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(gitDir, "commondir"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading commondir: %w", err)
	}
	c := strings.TrimSpace(string(b))
	if !filepath.IsAbs(c) {
		c = filepath.Join(gitDir, c)
	}
	return filepath.Clean(c), nil
}
