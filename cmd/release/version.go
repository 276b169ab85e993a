package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/release"
)

var _ release.Git = (*gitinfo.Repo)(nil)

func (p *program) versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version HEAD gets from its tags and Conventional Commits",
		Description: `The base is the highest stable release tag reachable from HEAD; the
release's commits are those reachable from HEAD and not from a release tag.
HEAD already tagged gets that version; no tag at all gets --initial.
--explain shows the derivation: the base and why, the tags set aside, and
each commit with its bump.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "tag-prefix", Value: "v", Usage: "release tags are `PREFIX`<semver>"},
			&cli.BoolFlag{Name: "explain", Usage: "print how the version was derived"},
		}, versionFlags()...),
		Action: p.version,
	}
}

func (p *program) version(c *cli.Context) error {
	if c.Bool("explain") && c.Bool("json") {
		return usagef("--json already carries the reasons; drop one of the two", "--explain and --json cannot be combined")
	}
	opts, err := p.versionOptions(c)
	if err != nil {
		return err
	}
	repo, err := gitinfo.Open(c.Context, p.repoDir(c))
	if err != nil {
		return err
	}
	defer repo.Close()
	res, err := release.NextVersion(c.Context, repo, opts)
	if err != nil {
		return usageIfInvalid(err, "version")
	}
	for _, w := range res.Warnings {
		p.ui.warnf("%s", w)
	}
	switch {
	case c.Bool("json"):
		return writeJSON(p.stdout, res)
	case c.Bool("explain"):
		writeExplanation(p.stdout, res)
	default:
		fmt.Fprintln(p.stdout, res.Version)
	}
	if res.NothingToRelease() {
		p.ui.logf("nothing to release: no commit since %s changes the version", res.PreviousTag)
	}
	return nil
}

// usageIfInvalid reports an invalid flag value (ErrInvalid from the policy)
// as a usage error; other errors pass through.
func usageIfInvalid(err error, command string) error {
	if errors.Is(err, release.ErrInvalid) {
		return usageFrom(err, command)
	}
	return err
}

// usageFrom turns err into a usage error, keeping its hint if it has one.
func usageFrom(err error, command string) error {
	hint := hintFor(err)
	if hint == "" {
		hint = fmt.Sprintf("run 'release %s --help' for usage", command)
	}
	return &usageError{err: err, hint: hint}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeExplanation prints the derivation of a version for a person.
func writeExplanation(w io.Writer, res *release.Result) {
	ex := res.Explanation
	fmt.Fprintf(w, "version %s (tag %s)\n", res.Version, res.Tag)
	fmt.Fprintf(w, "commit  %s%s\n", res.Commit, map[bool]string{true: " (dirty worktree)"}[res.Dirty])
	fmt.Fprintln(w)
	fmt.Fprintf(w, "base: ")
	if ex.Base != nil {
		fmt.Fprintf(w, "%s — %s\n", ex.Base.Tag, ex.Base.Reason)
	} else {
		fmt.Fprintf(w, "none — no stable release tag with prefix %q is reachable from HEAD\n", ex.TagPrefix)
	}
	if len(ex.Candidates) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "tags:")
		for _, cand := range ex.Candidates {
			fmt.Fprintf(w, "  %-24s %-11s %s\n", cand.Tag, cand.Status, cand.Reason)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "commits of the release: %d\n", len(ex.Commits))
	for _, cm := range ex.Commits {
		fmt.Fprintf(w, "  %s %-5s %s", shortHash(cm.Commit), cm.Bump, cm.Subject)
		if cm.Rule != "" {
			fmt.Fprintf(w, "  [%s]", cm.Rule)
		}
		fmt.Fprintln(w)
	}
	if len(ex.Steps) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "steps:")
		for i, s := range ex.Steps {
			fmt.Fprintf(w, "  %d. %s\n", i+1, s)
		}
	}
	if len(res.Warnings) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "warnings:")
		for _, s := range res.Warnings {
			fmt.Fprintf(w, "  %s\n", strings.TrimSpace(s))
		}
	}
}

func shortHash(h string) string {
	if len(h) > 7 {
		return h[:7]
	}
	return h
}
