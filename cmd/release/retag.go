package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/release"
)

func (p *program) retagCommand() *cli.Command {
	return &cli.Command{
		Name:      "retag",
		Usage:     "point tags at an image inside its repository",
		ArgsUsage: "IMAGE TAG...",
		Description: `IMAGE is a tag or digest reference; each TAG is a tag of the same
repository, written in order by manifest writes only (the image keeps its
digest, nothing else is copied). A TAG that is a version (1.2.3, v1.2.3,
1.2.0rc1) is immutable: naming another image makes it a conflict (exit 3)
with nothing written, unless --force. Other tags (latest, 1.2, stable)
move, which is how a rollback is done:

   release retag host/app:1.4.0 latest

The report says what each tag named before.`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "force", Usage: "move a version tag that names another image"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print which tags would change and write nothing"},
			&cli.IntFlag{Name: "jobs", Value: 8, Usage: "`N` checks in flight"},
		}, registryFlags()...),
		Action: p.retag,
	}
}

func (p *program) retag(c *cli.Context) error {
	if c.NArg() < 2 {
		return usagef("run 'release retag --help' for usage", "retag takes IMAGE and at least one TAG, got %d arguments", c.NArg())
	}
	args := c.Args().Slice()
	if err := checkReference(args[0], false); err != nil {
		return usageFrom(fmt.Errorf("IMAGE: %w", err), "retag")
	}
	for _, t := range args[1:] {
		if err := release.ValidTag(t); err != nil {
			return usageFrom(release.WithHint(err, "a TAG is a name inside IMAGE's repository (latest, 1.2, stable), not a reference"), "retag")
		}
	}
	jobs := c.Int("jobs")
	if jobs < 1 {
		return usagef("run 'release retag --help' for usage", "--jobs %d: want 1 or more", jobs)
	}
	client, err := p.registryClient(c)
	if err != nil {
		return err
	}
	res, err := release.Retag(c.Context, release.PromoteDeps{
		Registry: client,
		Warnf:    p.ui.warnf,
		Logf:     p.ui.debugf,
	}, release.RetagOptions{
		Image:  args[0],
		Tags:   args[1:],
		Force:  c.Bool("force"),
		DryRun: c.Bool("dry-run"),
		Jobs:   jobs,
	})
	if err != nil {
		return promoteError(err, "retag")
	}
	if c.Bool("json") {
		return writeJSON(p.stdout, res)
	}
	writeRetag(p.stdout, res)
	return nil
}

// writeRetag prints a retag for a person.
func writeRetag(w io.Writer, res *release.RetagResult) {
	if res.DryRun {
		fmt.Fprintf(w, "dry run: nothing was written; tagging %s would do this\n", res.Image)
	} else {
		fmt.Fprintf(w, "tagged %s\n", res.Image)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "digest\t%s\n", res.Digest)
	fmt.Fprintf(tw, "version\t%s\n", orDash(res.Version))
	fmt.Fprintf(tw, "revision\t%s\n", orDash(res.Revision))
	tw.Flush()
	writeTagTable(w, res.Tags, res.Previous)
}
