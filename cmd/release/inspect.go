package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/release"
)

func (p *program) inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "print which commit, version and source an image comes from",
		ArgsUsage: "IMAGE",
		Description: `IMAGE is a tag or digest reference (host/repo:tag, host/repo@sha256:…).
For each platform, version, revision, source and created come from the
config labels org.opencontainers.image.*, else the image manifest's
annotations, else the index's, else (revision and source) BuildKit's SLSA
provenance; created falls back to the config's own field. An image without
a revision anywhere is an error.

The top-level values are those of --platform, or the value all platforms
agree on (empty, and named in "differs", when they do not).

--format takes a Go template over the --json document's fields, spelled as
in Go: {{.Revision}}, {{.Version}}, {{.Digest}}, {{.MediaType}},
{{.Source}}, {{.Created}}, {{.Labels}}, {{index .Labels "key"}},
{{.Annotations}}, {{.Differs}}, {{.From}}, {{.Commit.Subject}} (--git),
and {{range .Platforms}}{{.Platform}} {{.Digest}} {{.Revision}}{{end}};
{{json .}} prints any of them as JSON.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "platform", Usage: "describe one platform `OS/ARCH[/VARIANT]` of a multi-platform image"},
			&cli.StringFlag{Name: "format", Usage: "print with a Go `TEMPLATE` (see above)"},
			&cli.StringFlag{Name: "git", Usage: "add the commit's subject, author, date and tags from the clone in `DIR`"},
		}, registryFlags()...),
		Action: p.inspect,
	}
}

func (p *program) inspect(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("run 'release inspect --help' for usage", "inspect takes one image reference, got %d arguments", c.NArg())
	}
	if c.Bool("json") && c.IsSet("format") {
		return usagef("--json prints everything; --format picks what to print", "--json and --format cannot be combined")
	}
	var tmpl *template.Template
	if f := c.String("format"); f != "" {
		t, err := template.New("format").Funcs(template.FuncMap{"json": templateJSON}).Option("missingkey=zero").Parse(f)
		if err != nil {
			return usagef("see 'release inspect --help' for the fields", "--format: %v", err)
		}
		tmpl = t
	}
	client, err := p.registryClient(c)
	if err != nil {
		return err
	}
	opts := release.InspectOptions{Platform: c.String("platform")}
	if dir := c.String("git"); dir != "" {
		repo, err := gitinfo.Open(c.Context, p.abs(dir))
		if err != nil {
			return err
		}
		defer repo.Close()
		opts.Git = repo
	}
	ref := c.Args().First()
	info, err := release.Inspect(c.Context, client, ref, opts)
	if err != nil {
		return inspectError(err, "inspect")
	}
	switch {
	case c.Bool("json"):
		return writeJSON(p.stdout, info)
	case tmpl != nil:
		var b strings.Builder
		if err := tmpl.Execute(&b, info); err != nil {
			return usagef("see 'release inspect --help' for the fields", "--format: %v", err)
		}
		out := b.String()
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		_, err := io.WriteString(p.stdout, out)
		return err
	}
	writeInspect(p.stdout, info)
	return nil
}

// inspectError makes a bad reference or --platform a usage error and
// says what a missing image is.
func inspectError(err error, command string) error {
	switch {
	case errors.Is(err, registry.ErrInvalidReference), errors.Is(err, release.ErrInvalid):
		return usageFrom(err, command)
	case errors.Is(err, registry.ErrNotFound) && command == "find":
		return release.WithHint(err, "check the repository: host/path, without tag")
	case errors.Is(err, registry.ErrNotFound):
		return release.WithHint(err, "check the reference: `release find REPO --commit SHA` lists the tags of a commit")
	}
	return err
}

func templateJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// writeInspect prints the image for a person: the image's values, then a
// table of its platforms when there are several.
func writeInspect(w io.Writer, info *release.ImageInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("image", info.Reference)
	row("digest", info.Digest)
	row("media type", info.MediaType)
	if info.Platform != "" {
		row("platform", info.Platform)
	}
	values := map[string]string{
		release.KeyVersion: info.Version, release.KeyRevision: info.Revision,
		release.KeySource: info.Source, release.KeyCreated: info.Created,
	}
	for _, k := range []string{release.KeyVersion, release.KeyRevision, release.KeySource, release.KeyCreated} {
		v := values[k]
		switch {
		case slices.Contains(info.Differs, k):
			v = "(differs between platforms)"
		case v == "":
			v = "-"
		case info.From[k] != "":
			v += "  (" + string(info.From[k]) + ")"
		}
		row(k, v)
	}
	if cm := info.Commit; cm != nil {
		row("commit", cm.Subject)
		row("author", cm.Author+", "+cm.Date)
		if len(cm.Tags) > 0 {
			row("tags", strings.Join(cm.Tags, " "))
		}
	}
	tw.Flush()
	if len(info.Platforms) < 2 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLATFORM\tDIGEST\tVERSION\tREVISION\tCREATED")
	for _, pl := range info.Platforms {
		rev := orDash(pl.Revision)
		if pl.Dirty {
			rev += " (dirty)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", orDash(pl.Platform), shortDigest(pl.Digest), orDash(pl.Version), rev, orDash(pl.Created))
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shortDigest is sha256:<first 12 hex>, enough to tell platforms apart.
func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}
