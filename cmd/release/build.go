package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/release"
)

// Adapters the build consumes, checked at compile time.
var (
	_ release.BuildGit      = (*gitinfo.Repo)(nil)
	_ release.BuildRegistry = buildRegistry{}
	_ release.Docker        = release.DockerCLI{}
)

func (p *program) buildCommand() *cli.Command {
	cmd := &cli.Command{
		Name:  "build",
		Usage: "build the image of HEAD with OCI labels, and push it with the tags of the tag policy",
		Description: `Runs docker buildx build (or the classic docker build and docker push)
with the version, revision, source and created labels, the pyproject.toml
metadata and the RELEASE_* build arguments. With --push every tag is pushed
and the digest is read back from each registry.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "version", Usage: "build this `VERSION` instead of deriving it from git (see --pre, --dev, --release-as)"},
		}, buildFlags()...),
		Action: p.build,
	}
	cmd.Flags = append(cmd.Flags, versionFlags()...)
	cmd.Flags = append(cmd.Flags, registryFlags()...)
	return cmd
}

// buildFlags are the flags of the build that `release build` and
// `release cut` share (build adds --version; cut derives it).
func buildFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "image", Usage: "the image `REPOSITORY` to tag (repeatable, one per registry)"},
		&cli.StringFlag{Name: "context", Value: ".", Usage: "the build context `DIR`"},
		&cli.StringFlag{Name: "file", Usage: "the Dockerfile `PATH` (default: DIR/Dockerfile of --context)"},
		&cli.StringFlag{Name: "tag-prefix", Value: "v", Usage: "release tags are `PREFIX`<semver>"},
		&cli.BoolFlag{Name: "push", Usage: "push every tag and read the digest back from the registry"},
		&cli.StringSliceFlag{Name: "platform", Usage: "target `OS/ARCH` (repeatable or comma-separated; several need buildx)"},
		&cli.StringFlag{Name: "network", Usage: "the network `MODE` of RUN steps, passed to docker (host, none)"},
		newKVFlag("build-arg", "a build argument `K=V` (repeatable)"),
		newKVFlag("label", "an extra image label `K=V` (repeatable; wins over release's)"),
		&cli.BoolFlag{Name: "dry-run", Usage: "print what would run (the docker command(s)) and run nothing"},
		&cli.StringFlag{Name: "builder", Value: "auto", Usage: "`auto`, buildx or classic"},
		&cli.StringFlag{Name: "docker", Value: "docker", Usage: "the docker binary `PATH`"},
		&cli.StringFlag{Name: "vendor", Usage: "the org.opencontainers.image.vendor `NAME`"},
		&cli.StringFlag{Name: "latest", Value: "auto", Usage: "move latest: `auto` (highest stable only), always or never"},
		&cli.BoolFlag{Name: "no-sha-tag", Usage: "do not tag sha-<12 hex>"},
		&cli.StringFlag{Name: "tag-style", Value: "semver", Usage: "spell the exact tag as `semver` (1.2.0-rc.1) or pep440 (1.2.0rc1)"},
		&cli.BoolFlag{Name: "channel-tags", Usage: "a prerelease also gets <channel> and X.Y-<channel> (rc, 2.1-rc)"},
		&cli.BoolFlag{Name: "force", Usage: "overwrite an exact tag that holds another image"},
		&cli.StringFlag{Name: "provenance", Usage: "buildx provenance attestation `MODE`: min or max (default: none)"},
		&cli.StringFlag{Name: "remote", Value: "origin", Usage: "the git `REMOTE` whose URL is the source label (cut pushes the tag there)"},
	}
}

// buildOptions reads the flags of buildFlags. Bad values are usage errors
// of the command.
func (p *program) buildOptions(c *cli.Context) (release.BuildOptions, error) {
	command := c.Command.Name
	builder, err := release.ParseBuilder(c.String("builder"))
	if err != nil {
		return release.BuildOptions{}, usageFrom(err, command)
	}
	latest, err := release.ParseLatestMode(c.String("latest"))
	if err != nil {
		return release.BuildOptions{}, usageFrom(err, command)
	}
	style, err := release.ParseTagStyle(c.String("tag-style"))
	if err != nil {
		return release.BuildOptions{}, usageFrom(err, command)
	}
	buildArgs, err := kvValues(c, "build-arg")
	if err != nil {
		return release.BuildOptions{}, usageFrom(err, command)
	}
	labels, err := kvValues(c, "label")
	if err != nil {
		return release.BuildOptions{}, usageFrom(err, command)
	}
	var platforms []string
	for _, v := range c.StringSlice("platform") {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				platforms = append(platforms, s)
			}
		}
	}
	opts := release.BuildOptions{
		Images:     c.StringSlice("image"),
		Context:    p.abs(c.String("context")),
		Dockerfile: p.abs(c.String("file")),
		TagPrefix:  c.String("tag-prefix"),
		Remote:     c.String("remote"),
		Push:       c.Bool("push"),
		Platforms:  platforms,
		Network:    c.String("network"),
		BuildArgs:  buildArgs,
		Labels:     labels,
		DryRun:     c.Bool("dry-run"),
		Builder:    builder,
		Vendor:     c.String("vendor"),
		Provenance: c.String("provenance"),
		Force:      c.Bool("force"),
		Tags: release.TagOptions{
			Latest:      latest,
			NoSHATag:    c.Bool("no-sha-tag"),
			Style:       style,
			ChannelTags: c.Bool("channel-tags"),
		},
	}
	// Usage mistakes are found before the repository is opened.
	if !validRemoteName(opts.Remote) {
		// Not quoted: a URL here may carry a password.
		return release.BuildOptions{}, usagef("add the URL as a remote (git remote add NAME URL) and pass --remote NAME; a token goes in RELEASE_GIT_TOKEN",
			"--remote takes the name of a configured git remote, not a URL or a path")
	}
	for _, repo := range opts.Images {
		if err := release.ValidRepository(repo); err != nil {
			return release.BuildOptions{}, usageFrom(err, command)
		}
	}
	return opts, nil
}

// docker is the docker CLI of the build flags; its output goes to stderr
// as release's unless --quiet or --json, with the secrets known by then (a
// token, the remote's password) masked: call it after they are.
func (p *program) docker(c *cli.Context) release.DockerCLI {
	docker := release.DockerCLI{Path: c.String("docker"), Env: os.Environ(), Redact: slices.Clone(p.ui.secrets)}
	if !p.ui.quiet && !c.Bool("json") {
		docker.Output = prefixWriter{w: p.stderr}
	}
	return docker
}

// pushRegistry is the registry client a push reads digests and labels
// with (registryFlags: credentials from DOCKER_CONFIG, --ca-file, …).
func (p *program) pushRegistry(c *cli.Context) (buildRegistry, error) {
	client, err := p.registryClient(c)
	if err != nil {
		return buildRegistry{}, err
	}
	return buildRegistry{c: client}, nil
}

func (p *program) build(c *cli.Context) error {
	ctx := c.Context
	opts, err := p.buildOptions(c)
	if err != nil {
		return err
	}
	opts.Version = c.String("version")
	if len(opts.Images) == 0 {
		return usagef("pass --image REPOSITORY (repeatable, one per registry)", "no image repository to build")
	}
	vopts, err := p.versionOptions(c)
	if err != nil {
		return err
	}

	repo, err := gitinfo.Open(ctx, p.repoDir(c))
	if err != nil {
		return err
	}
	defer repo.Close()
	p.redactRemotePassword(ctx, repo, opts.Remote)

	deps := release.BuildDeps{
		Git:    repo,
		Docker: p.docker(c),
		Warnf:  p.ui.warnf,
		Logf:   p.ui.logf,
		NextVersion: func(ctx context.Context) (*release.Result, error) {
			v, err := release.NextVersion(ctx, repo, vopts)
			if err != nil {
				return nil, err
			}
			for _, w := range v.Warnings {
				p.ui.warnf("%s", w)
			}
			if !v.NothingToRelease() {
				p.ui.logf("version %s (%s)", v.Version, v.Why())
			}
			return v, nil
		},
	}
	if opts.Push && !opts.DryRun {
		reg, err := p.pushRegistry(c)
		if err != nil {
			return err
		}
		deps.Registry = reg
	}

	res, err := release.Build(ctx, deps, opts)
	if err != nil {
		return usageIfInvalid(err, "build")
	}
	out := p.stdout
	if c.Bool("json") {
		return writeJSON(out, res)
	}
	if opts.DryRun {
		for _, cmd := range res.Commands {
			fmt.Fprintln(out, dockerLine(res.Env, c.String("docker"), cmd))
		}
		return nil
	}
	for _, img := range res.Images {
		if img.Digest != "" {
			fmt.Fprintf(out, "%s@%s\n", img.Repository, img.Digest)
			continue
		}
		for _, t := range img.Tags {
			fmt.Fprintf(out, "%s:%s\n", img.Repository, t)
		}
	}
	return nil
}

// dockerLine is a docker command of a dry run with the environment docker
// gets from release in front, as a shell would take it, so the line can be
// pasted and does the same work.
func dockerLine(env []string, docker string, args []string) string {
	return release.ShellQuote(append(slices.Clone(env), append([]string{docker}, args...)...))
}

// buildRegistry adapts registry.Client to what release.Build reads.
type buildRegistry struct{ c *registry.Client }

func (r buildRegistry) Digest(ctx context.Context, ref string) (string, error) {
	d, err := r.c.Resolve(ctx, ref)
	if errors.Is(err, registry.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return d.Digest, nil
}

func (r buildRegistry) Config(ctx context.Context, ref string) ([]byte, error) {
	return r.c.Config(ctx, ref)
}

func (r buildRegistry) Retag(ctx context.Context, digestRef string, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	_, err := r.c.Tag(ctx, digestRef, tags[0], registry.CopyOptions{Tags: tags[1:]})
	return err
}

// prefixWriter marks docker's output on stderr as docker's, under the UI
// rule that every stderr line starts with "release: ".
type prefixWriter struct{ w io.Writer }

func (p prefixWriter) Write(b []byte) (int, error) {
	s := strings.TrimSuffix(string(b), "\n")
	for _, l := range strings.Split(s, "\n") {
		fmt.Fprintf(p.w, "release: docker: %s\n", l)
	}
	return len(b), nil
}

// kvFlag is a repeatable K=V flag whose values are never split at commas
// (urfave/cli's slice flags split them, which cuts a label such as
// "description=a, b" in two). Its environment variable holds one value per
// line. A value given on the command line (or by .release.yaml) replaces
// the environment's, as for every other flag.
type kvFlag struct {
	*cli.GenericFlag
	list *kvList
}

func newKVFlag(name, usage string) *kvFlag {
	l := &kvList{}
	return &kvFlag{GenericFlag: &cli.GenericFlag{Name: name, Usage: usage, Value: l}, list: l}
}

// Apply reads the environment into the list's fallback and registers the
// list for the command line.
func (f *kvFlag) Apply(set *flag.FlagSet) error {
	for _, name := range f.EnvVars {
		if v, ok := os.LookupEnv(name); ok && v != "" {
			f.list.env = nil
			for _, line := range strings.Split(v, "\n") {
				if line = strings.TrimRight(line, "\r"); line != "" {
					f.list.env = append(f.list.env, line)
				}
			}
			f.HasBeenSet = true
			break
		}
	}
	for _, n := range f.Names() {
		set.Var(f.list, n, f.Usage)
	}
	return nil
}

// kvList holds the values of a kvFlag.
type kvList struct {
	env, args []string
}

func (l *kvList) Set(s string) error { l.args = append(l.args, s); return nil }

func (l *kvList) String() string { return strings.Join(l.values(), "\n") }

func (l *kvList) values() []string {
	if len(l.args) > 0 {
		return l.args
	}
	return l.env
}

func kvValues(c *cli.Context, name string) ([]release.KV, error) {
	l, ok := c.Generic(name).(*kvList)
	if !ok {
		return nil, nil
	}
	var out []release.KV
	for _, s := range l.values() {
		kv, err := release.ParseKV(s)
		if err != nil {
			return nil, fmt.Errorf("--%s %w", name, err)
		}
		out = append(out, kv)
	}
	return out, nil
}

// validRemoteName reports whether name can be a git remote's name. git
// checks refs/remotes/<name>/… as a ref name, so a name never holds ':',
// '\\', white space or "..", nor starts with '/', '.' or '-'; a URL, an
// scp-like address and a path all fail that, and release reads the
// remote's tracking branches, which only a name has.
func validRemoteName(name string) bool {
	return name != "" && !strings.ContainsAny(name, ": \t\n\\") && !strings.Contains(name, "..") &&
		!strings.Contains(name, "//") && !strings.HasPrefix(name, "/") && !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "-")
}

// redactRemotePassword adds the password of the git remote's URL, when it
// has one, to what the command never prints: gitinfo keeps it out of its
// errors, and this keeps it out of everything else (docker's output, a
// warning quoting git) too.
func (p *program) redactRemotePassword(ctx context.Context, repo *gitinfo.Repo, remote string) {
	raw, err := repo.RemoteURL(ctx, remote)
	if err != nil {
		return
	}
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			p.ui.secrets = append(p.ui.secrets, pw)
		}
	}
}
