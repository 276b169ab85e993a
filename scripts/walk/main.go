// Command walk prints the commits gitinfo.Log selects from HEAD up to the
// tags reachable from it (every tag is a StopAt commit, like the release
// tags of `release version`), one "<hash> <subject>" per line, and the cost
// of each step on stderr. It exists to time gitinfo as a process next to
// the git commands it replaces, and to cross-check it against
// `git log --date-order --format='%H %s' TAG..HEAD` on large histories.
//
//	go run ./scripts/walk [-path DIR]... [-q] REPO
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/releasetool/release/gitinfo"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("walk", flag.ContinueOnError)
	var paths multi
	fs.Var(&paths, "path", "only commits changing this path (repeatable)")
	quiet := fs.Bool("q", false, "print the number of commits only")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dir := "."
	if fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	t0 := time.Now()
	repo, err := gitinfo.Open(ctx, dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "walk: error: %v\n", err)
		return 1
	}
	defer repo.Close()
	t1 := time.Now()
	tags, err := repo.Tags(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "walk: error: %v\n", err)
		return 1
	}
	t2 := time.Now()
	q := gitinfo.LogQuery{Include: []string{"HEAD"}, Paths: paths}
	for _, t := range tags {
		q.StopAt = append(q.StopAt, t.Commit)
	}
	log, err := repo.Log(ctx, q)
	if err != nil {
		fmt.Fprintf(os.Stderr, "walk: error: %v\n", err)
		return 1
	}
	t3 := time.Now()
	if *quiet {
		fmt.Println(len(log.Commits))
	} else {
		for _, c := range log.Commits {
			fmt.Printf("%s %s\n", c.Hash, c.Subject())
		}
	}
	fmt.Fprintf(os.Stderr, "walk: open %v, %d tags %v, log %v (%d commits, %d visited, %d reached, shallow %v)\n",
		t1.Sub(t0), len(tags), t2.Sub(t1), t3.Sub(t2), len(log.Commits), log.Visited, len(log.Reached), log.Shallow)
	return 0
}
