package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/release"
)

func (p *program) diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "print the commits between the revisions of two images, as release notes",
		ArgsUsage: "OLD NEW",
		Description: `OLD and NEW are image references (say, what prod runs and what staging
runs). Their revisions (as release inspect reads them) delimit the commits
listed, from the local clone (--git DIR, default: the repository of the
working directory), in the sections of release changelog. When NEW is an
ancestor of OLD, it is a rollback: the commits it would remove are listed.
When an image's platforms come from different commits, each group of
platforms gets its own range (or pass --platform). A commit missing from
the clone exits 4 with the command that fetches it.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "git", Usage: "the clone `DIR` to read commits from (default: the repository of the working directory)"},
			&cli.StringFlag{Name: "platform", Usage: "compare one platform `OS/ARCH[/VARIANT]` of multi-platform images"},
		}, registryFlags()...),
		Action: p.diff,
	}
}

// diffJSON is what `release diff --json` prints.
type diffJSON struct {
	Old      diffImageJSON   `json:"old"`
	New      diffImageJSON   `json:"new"`
	Ranges   []diffRangeJSON `json:"ranges"`
	Unpaired []string        `json:"unpaired"`
}

type diffImageJSON struct {
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
	Version   string `json:"version"`
	Revision  string `json:"revision"`
}

type diffRangeJSON struct {
	Platforms       []string      `json:"platforms"`
	OldRevision     string        `json:"old_revision"`
	NewRevision     string        `json:"new_revision"`
	Kind            string        `json:"kind"`
	Commits         []commitJSON  `json:"commits"`
	Removed         []commitJSON  `json:"removed"`
	Sections        []sectionJSON `json:"sections"`
	RemovedSections []sectionJSON `json:"removed_sections"`
	Markdown        string        `json:"markdown"`
}

type commitJSON struct {
	Hash    string `json:"hash"`
	Subject string `json:"subject"`
}

func commitsJSON(cs []gitinfo.Commit) []commitJSON {
	out := []commitJSON{}
	for _, c := range cs {
		out = append(out, commitJSON{Hash: c.Hash, Subject: c.Subject()})
	}
	return out
}

func (p *program) diff(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("run 'release diff --help' for usage", "diff takes two image references (OLD NEW), got %d arguments", c.NArg())
	}
	dir := p.repoDir(c)
	if d := c.String("git"); d != "" {
		dir = p.abs(d)
	}
	repo, err := gitinfo.Open(c.Context, dir)
	if err != nil {
		return err
	}
	defer repo.Close()
	rules, err := p.rules()
	if err != nil {
		return err
	}
	client, err := p.registryClient(c)
	if err != nil {
		return err
	}
	oldRef, newRef := c.Args().Get(0), c.Args().Get(1)
	res, err := release.Diff(c.Context, client, oldRef, newRef, release.DiffOptions{
		Git: repo, Platform: c.String("platform"), Rules: rules,
	})
	if err != nil {
		return inspectError(err, "diff")
	}
	if len(res.Unpaired) > 0 {
		p.ui.warnf("not compared: %s (only one image has them)", strings.Join(res.Unpaired, ", "))
	}
	for _, r := range res.Ranges {
		p.ui.logf("%s", describeRange(res, r))
	}
	if c.Bool("json") {
		out := diffJSON{
			Old:      diffImageJSON{res.Old.Reference, res.Old.Digest, res.Old.Version, res.Old.Revision},
			New:      diffImageJSON{res.New.Reference, res.New.Digest, res.New.Version, res.New.Revision},
			Ranges:   []diffRangeJSON{},
			Unpaired: append([]string{}, res.Unpaired...),
		}
		for _, r := range res.Ranges {
			out.Ranges = append(out.Ranges, diffRangeJSON{
				Platforms: append([]string{}, r.Platforms...), OldRevision: r.OldRevision, NewRevision: r.NewRevision,
				Kind: r.Kind, Commits: commitsJSON(r.Added), Removed: commitsJSON(r.Removed),
				Sections: notesJSON(r.Notes), RemovedSections: notesJSON(r.RemovedNotes),
				Markdown: rangeMarkdown(r),
			})
		}
		return writeJSON(p.stdout, out)
	}
	writeDiff(p.stdout, res)
	return nil
}

// describeRange is the one-line summary of a range, for stderr.
func describeRange(res *release.DiffResult, r release.DiffRange) string {
	var b strings.Builder
	if len(r.Platforms) > 0 {
		b.WriteString(strings.Join(r.Platforms, ", ") + ": ")
	}
	from, to := shortHash(r.OldRevision), shortHash(r.NewRevision)
	if v := res.Old.Version; v != "" && len(r.Platforms) == 0 {
		from = v + " (" + from + ")"
	}
	if v := res.New.Version; v != "" && len(r.Platforms) == 0 {
		to = v + " (" + to + ")"
	}
	switch r.Kind {
	case release.ChangeSame:
		fmt.Fprintf(&b, "both images come from %s", from)
	case release.ChangeForward:
		fmt.Fprintf(&b, "%s → %s: %s", from, to, plural(len(r.Added), "commit"))
	case release.ChangeRollback:
		fmt.Fprintf(&b, "%s → %s is a rollback: it removes %s", from, to, plural(len(r.Removed), "commit"))
	case release.ChangeDiverged:
		fmt.Fprintf(&b, "%s → %s: %s added, %s removed (the histories diverged)", from, to,
			plural(len(r.Added), "commit"), plural(len(r.Removed), "commit"))
	}
	return b.String()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// rangeMarkdown renders a range for a person: the notes of a forward
// change exactly as release changelog prints them; a rollback or a
// diverged history says so and lists what would be removed.
func rangeMarkdown(r release.DiffRange) string {
	switch r.Kind {
	case release.ChangeSame:
		return r.Notes.Markdown()
	case release.ChangeRollback:
		return fmt.Sprintf("**Rollback**: %s of %s would be removed:\n\n%s",
			plural(len(r.Removed), "commit"), shortHash(r.OldRevision), r.RemovedNotes.Markdown())
	case release.ChangeDiverged:
		return fmt.Sprintf("**Added** (%s):\n\n%s\n**Removed** (%s of %s):\n\n%s",
			plural(len(r.Added), "commit"), r.Notes.Markdown(),
			plural(len(r.Removed), "commit"), shortHash(r.OldRevision), r.RemovedNotes.Markdown())
	}
	return r.Notes.Markdown()
}

// writeDiff prints the ranges; several get a heading naming their
// platforms.
func writeDiff(w io.Writer, res *release.DiffResult) {
	for i, r := range res.Ranges {
		if len(res.Ranges) > 1 {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "## %s (%s → %s)\n\n", strings.Join(r.Platforms, ", "), shortHash(r.OldRevision), shortHash(r.NewRevision))
		}
		fmt.Fprint(w, rangeMarkdown(r))
	}
}
