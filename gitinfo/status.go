package gitinfo

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	git "github.com/go-git/go-git/v5"
)

// maxStatusEntries bounds Status.Entries: enough to tell a person what is
// dirty, small enough for an error message.
const maxStatusEntries = 10

// Status is the state of the worktree against HEAD and the index.
type Status struct {
	// Dirty is true when a tracked file is modified, staged or deleted, or
	// an untracked file that is not ignored exists.
	Dirty bool
	// Entries are the first changed paths, sorted by path.
	Entries []StatusEntry
	// More counts the changed paths left out of Entries.
	More int
}

// StatusEntry is one changed path.
type StatusEntry struct {
	// Code is the two-letter code of `git status --porcelain`: index state
	// then worktree state, e.g. " M", "A ", "D ", "R ", "??".
	Code string
	// Path is slash-separated, relative to the worktree root (the new
	// name for renames).
	Path string
}

// Status reports whether the worktree is dirty. With the git binary it runs
// `git status --porcelain=v1 -z --untracked-files=normal`, which stays fast
// on large worktrees; without it (or when git refuses the repository, e.g.
// "dubious ownership" in a container) it asks go-git, whose status is
// correct but hashes every file and can take seconds on big trees.
func (r *Repo) Status(ctx context.Context) (Status, error) {
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	if r.git != "" {
		out, err := r.runGit(ctx, nil, nil, "status", "--porcelain=v1", "-z", "--untracked-files=normal")
		if err == nil {
			return newStatus(parsePorcelain(out)), nil
		}
		if ctx.Err() != nil {
			return Status{}, ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	wt, err := r.repo.Worktree()
	if err != nil {
		return Status{}, fmt.Errorf("reading worktree status: %w", err)
	}
	st, err := wt.StatusWithOptions(git.StatusOptions{Strategy: git.Preload})
	if err != nil {
		return Status{}, fmt.Errorf("reading worktree status: %w", err)
	}
	var entries []StatusEntry
	for path, fs := range st {
		if fs.Staging == git.Unmodified && fs.Worktree == git.Unmodified {
			continue
		}
		entries = append(entries, StatusEntry{Code: string([]byte{byte(fs.Staging), byte(fs.Worktree)}), Path: path})
	}
	return newStatus(entries), nil
}

func newStatus(entries []StatusEntry) Status {
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	s := Status{Dirty: len(entries) > 0}
	if len(entries) > maxStatusEntries {
		s.More = len(entries) - maxStatusEntries
		entries = entries[:maxStatusEntries]
	}
	s.Entries = entries
	return s
}

// parsePorcelain reads `git status --porcelain=v1 -z`: NUL-terminated
// "XY path" records, where a rename or copy is followed by a record holding
// the original path.
func parsePorcelain(out []byte) []StatusEntry {
	var entries []StatusEntry
	recs := bytes.Split(out, []byte{0})
	for i := 0; i < len(recs); i++ {
		rec := recs[i]
		if len(rec) < 4 {
			continue
		}
		code := string(rec[:2])
		entries = append(entries, StatusEntry{Code: code, Path: string(rec[3:])})
		if code[0] == 'R' || code[0] == 'C' || code[1] == 'R' || code[1] == 'C' {
			i++ // the original path
		}
	}
	return entries
}
