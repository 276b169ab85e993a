package gitinfotest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// HistoryParams describes a generated repository: a main line with feature
// branches merged into it and release tags spread evenly along it.
type HistoryParams struct {
	// Commits is the total number of commits, merges included.
	Commits int
	// Tags is the number of release tags (v1.0.0, v1.0.1, ... in commit
	// order); half are annotated.
	Tags int
	// SinceTag is how many commits are made after the last tag.
	SinceTag int
	// MergeEvery makes a feature branch every MergeEvery main-line commits
	// (0: never). Branches fork a few commits back (across a tag now and
	// then) and merge with BranchLength commits.
	MergeEvery int
	// BranchLength is the number of commits of each feature branch.
	BranchLength int
	// CommitGraph writes a commit-graph after the import.
	CommitGraph bool
}

// key is a short name for the parameters, used for cache directories.
func (p HistoryParams) key() string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("v2 %+v", p)))
	return fmt.Sprintf("c%d-t%d-s%d-%s", p.Commits, p.Tags, p.SinceTag, hex.EncodeToString(sum[:4]))
}

// GenerateHistory creates the repository p describes in dir (which must not
// exist) with `git fast-import`, which makes 100,000 commits in seconds.
// Every commit changes one file under svc0/ ... svc7/, so path-filtered walks
// have something to find. Commit times advance by a minute per commit, from
// 2023-11-14T22:13:20Z, whatever the machine's clock.
func GenerateHistory(ctx context.Context, gitBin, dir string, p HistoryParams) error {
	if p.Commits <= 0 || p.Tags < 0 || p.SinceTag < 0 || p.SinceTag >= p.Commits {
		return fmt.Errorf("history parameters %+v: invalid", p)
	}
	if out, err := exec.CommandContext(ctx, gitBin, "init", "-q", "-b", "main", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("running git init: %s: %w", bytes.TrimSpace(out), err)
	}
	cmd := exec.CommandContext(ctx, gitBin, "fast-import", "--quiet", "--done")
	cmd.Dir = dir
	cmd.Env = GitEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("starting git fast-import: %w", err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting git fast-import: %w", err)
	}
	werr := writeHistory(stdin, p)
	cerr := stdin.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("running git fast-import: %s: %w", bytes.TrimSpace(stderr.Bytes()), err)
	}
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("writing fast-import stream: %w", err)
	}
	// Pack the refs (with peeled tags) as a clone has them.
	steps := [][]string{{"update-ref", "-d", "refs/heads/feature"}, {"pack-refs", "--all"}, {"reset", "-q", "--hard", "main"}}
	if p.CommitGraph {
		steps = append(steps, []string{"commit-graph", "write", "--reachable"})
	}
	for _, args := range steps {
		c := exec.CommandContext(ctx, gitBin, args...)
		c.Dir = dir
		c.Env = GitEnv()
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("running git %s: %s: %w", strings.Join(args, " "), bytes.TrimSpace(out), err)
		}
	}
	return nil
}

// TagName is the name of the k-th release tag (k from 0) of a generated
// history: increasing semantic versions.
func TagName(k int) string {
	return fmt.Sprintf("v%d.%d.%d", 1+k/250, (k/10)%25, k%10)
}

// writeHistory writes the fast-import stream. Marks: :n is the n-th
// commit. The main line is built in order; every MergeEvery main-line
// commits a branch forks from the main-line commit a few steps back, gets
// BranchLength commits and is merged.
func writeHistory(w io.Writer, p HistoryParams) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	const epoch = 1700000000
	var (
		mark     int   // last mark used
		mainline []int // marks of main-line commits (merges included)
		tagged   int   // tags written
	)
	lastTagAt := p.Commits - p.SinceTag // commit number (1-based) carrying the last tag
	tagAt := func(k int) int {          // commit number of tag k
		if p.Tags == 1 {
			return lastTagAt
		}
		return 1 + (lastTagAt-1)*k/(p.Tags-1)
	}
	commit := func(ref, msg string, from int, merge int) {
		mark++
		when := epoch + int64(mark)*60
		file := fmt.Sprintf("svc%d/file%02d.txt", mark%8, mark%50)
		fmt.Fprintf(bw, "commit %s\nmark :%d\nauthor %s <%s> %d +0000\ncommitter %s <%s> %d +0000\ndata %d\n%s\n",
			ref, mark, Name, Email, when, Name, Email, when, len(msg), msg)
		if from > 0 {
			fmt.Fprintf(bw, "from :%d\n", from)
		}
		if merge > 0 {
			fmt.Fprintf(bw, "merge :%d\n", merge)
		}
		content := fmt.Sprintf("change %d\n", mark)
		fmt.Fprintf(bw, "M 100644 inline %s\ndata %d\n%s\n", file, len(content), content)
		for tagged < p.Tags && tagAt(tagged) <= mark && ref == "refs/heads/main" {
			name := TagName(tagged)
			if tagged%2 == 0 {
				fmt.Fprintf(bw, "reset refs/tags/%s\nfrom :%d\n\n", name, mark)
			} else {
				notes := "release " + name
				fmt.Fprintf(bw, "tag %s\nfrom :%d\ntagger %s <%s> %d +0000\ndata %d\n%s\n", name, mark, Name, Email, when, len(notes), notes)
			}
			tagged++
		}
	}
	types := []string{"feat", "fix", "chore", "docs", "perf", "refactor"}
	for mark < p.Commits {
		n := mark + 1
		// A branch block (BranchLength commits and the merge) never spans
		// the last tag, which must sit exactly SinceTag commits from HEAD.
		block := p.MergeEvery > 0 && len(mainline) > 8 && len(mainline)%p.MergeEvery == 0 &&
			(n+p.BranchLength < lastTagAt || n > lastTagAt) && n+p.BranchLength <= p.Commits
		if block {
			// A branch from zero to four main-line commits back (across a
			// tag now and then), merged now.
			fork := mainline[len(mainline)-1-(len(mainline)/p.MergeEvery)%5]
			prev := fork
			for i := 0; i < p.BranchLength; i++ {
				commit("refs/heads/feature", fmt.Sprintf("%s(svc%d): branch work %d", types[(n+i)%len(types)], (n+i)%8, n+i), prev, 0)
				prev = mark
			}
			commit("refs/heads/main", fmt.Sprintf("Merge branch 'feature/%d'", n), mainline[len(mainline)-1], prev)
			mainline = append(mainline, mark)
			continue
		}
		from := 0
		if len(mainline) > 0 {
			from = mainline[len(mainline)-1]
		}
		commit("refs/heads/main", fmt.Sprintf("%s: change %d", types[n%len(types)], n), from, 0)
		mainline = append(mainline, mark)
	}
	fmt.Fprint(bw, "done\n")
	return bw.Flush()
}

// History returns a repository generated for p, building it the first time
// under os.TempDir()/release-history/<key> and reusing it afterwards (the
// directory appears only once complete). It skips tb when git is missing.
// Tests and benchmarks must not modify it.
func History(tb testing.TB, p HistoryParams) string {
	tb.Helper()
	gitBin := GitPath(tb)
	base := filepath.Join(os.TempDir(), "release-history")
	dir := filepath.Join(base, p.key())
	if _, err := os.Stat(filepath.Join(dir, ".git", "HEAD")); err == nil {
		return dir
	} else if !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		tb.Fatal(err)
	}
	tmp, err := os.MkdirTemp(base, "tmp-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := GenerateHistory(context.Background(), gitBin, filepath.Join(tmp, "repo"), p); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(filepath.Join(tmp, "repo"), dir); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, serr := os.Stat(filepath.Join(dir, ".git", "HEAD")); serr != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
