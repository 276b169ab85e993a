// Command genrepo generates the synthetic repository the gitinfo benchmarks
// use (a main line with merged feature branches and evenly spaced release
// tags, made with git fast-import), so scripts can time `release version`
// against `git describe --tags --abbrev=0` + `git log TAG..HEAD` on the
// same history.
//
//	go run ./scripts/genrepo -out /tmp/h100k -commits 100000 -tags 1000 -since-tag 100
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"

	"github.com/releasetool/release/gitinfo/gitinfotest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("genrepo", flag.ContinueOnError)
	out := fs.String("out", "", "directory to create (must not exist)")
	var p gitinfotest.HistoryParams
	fs.IntVar(&p.Commits, "commits", 100000, "total commits, merges included")
	fs.IntVar(&p.Tags, "tags", 1000, "release tags, evenly spaced on the main line")
	fs.IntVar(&p.SinceTag, "since-tag", 100, "commits after the last tag")
	fs.IntVar(&p.MergeEvery, "merge-every", 10, "a feature branch every N main-line commits (0: none)")
	fs.IntVar(&p.BranchLength, "branch-length", 3, "commits per feature branch")
	fs.BoolVar(&p.CommitGraph, "commit-graph", false, "write a commit-graph after the import")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "genrepo: usage: genrepo -out DIR [flags]")
		return 2
	}
	git, err := exec.LookPath("git")
	if err != nil {
		fmt.Fprintln(os.Stderr, "genrepo: error: git binary not found")
		return 1
	}
	if err := gitinfotest.GenerateHistory(ctx, git, *out, p); err != nil {
		fmt.Fprintf(os.Stderr, "genrepo: error: %v\n", err)
		return 1
	}
	fmt.Println(*out)
	return 0
}
