package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/releasetool/release/gitinfo"
)

// BuildGit is what Build reads from the repository (*gitinfo.Repo has it).
type BuildGit interface {
	Head(ctx context.Context) (gitinfo.Head, error)
	Commit(ctx context.Context, rev string) (gitinfo.Commit, error)
	Tags(ctx context.Context) ([]gitinfo.Tag, error)
	Shallow(ctx context.Context) (bool, error)
	RemoteURL(ctx context.Context, name string) (string, error)
}

// BuildRegistry is what Build needs of the image registries: the digest
// read-back after a push, and the exact-tag check before one. The command
// line adapts registry.Client to it.
type BuildRegistry interface {
	// Digest returns the digest of the manifest ref (repository:tag)
	// names, "" when the registry does not have it.
	Digest(ctx context.Context, ref string) (string, error)
	// Config returns the image config of ref (one platform's for an index).
	Config(ctx context.Context, ref string) ([]byte, error)
	// Retag points tags (names inside the repository of digestRef,
	// exact tag first) at digestRef (repository@sha256:…), in order, by
	// manifest writes only: the image keeps its digest.
	Retag(ctx context.Context, digestRef string, tags []string) error
}

// Docker runs the docker binary (DockerCLI in production, fakes in tests).
type Docker interface {
	Detect(ctx context.Context) (Builder, error)
	Run(ctx context.Context, args []string, extraEnv []string) error
}

// BuildDeps are the outside world Build works with.
type BuildDeps struct {
	Git      BuildGit
	Registry BuildRegistry // needed with Push
	Docker   Docker
	// NextVersion derives the version from the repository (SPEC §2) when
	// BuildOptions.Version is empty; the command line passes the version
	// policy with its flags.
	NextVersion func(ctx context.Context) (*Result, error)
	// Warnf and Logf reach a person (stderr); nil drops the message.
	Warnf func(format string, args ...any)
	Logf  func(format string, args ...any)
}

// BuildOptions are the flags of `release build` (SPEC §4).
type BuildOptions struct {
	// Images are the repositories to tag (one per registry).
	Images []string
	// Context is the build context directory; "" means ".".
	Context string
	// Dockerfile is --file; "" means Context/Dockerfile.
	Dockerfile string
	// Version is --version; "" derives it through BuildDeps.NextVersion.
	Version string
	// TagPrefix is what precedes the SemVer in a release tag (K of the tag
	// policy is read from such tags): "" for bare versions; the command
	// line's default is "v".
	TagPrefix string
	// Remote is the git remote whose URL becomes the source label; ""
	// means "origin".
	Remote    string
	Push      bool
	Platforms []string
	// Network is docker's --network for RUN steps ("" = docker's default).
	Network   string
	BuildArgs []KV
	Labels    []KV
	DryRun    bool
	// Builder is --builder; "" means auto.
	Builder Builder
	Vendor  string
	// Provenance is buildx's attestation mode ("" = none, min, max).
	Provenance string
	// Force overwrites an exact tag that holds another image.
	Force bool
	// Tags are the tag policy's options; Commit is filled in by Build.
	Tags TagOptions
}

// BuildResult is what `release build --json` prints.
type BuildResult struct {
	Version  string            `json:"version"`
	Revision string            `json:"revision"`
	Images   []ImageResult     `json:"images"`
	Labels   map[string]string `json:"labels"`
	// Commands are the docker invocations (without the binary), filled by
	// a dry run: what would run, with Env added to the environment.
	Commands [][]string `json:"commands,omitempty"`
	Env      []string   `json:"env,omitempty"`
	// Nothing is set when the version policy found nothing to release
	// (no commit since the last release changes the version): nothing
	// was built, Version is the last release's, and Nothing says why.
	Nothing string `json:"-"`
	// Warnings were also passed to Warnf.
	Warnings []string `json:"-"`
}

// ImageResult is one repository of a build.
type ImageResult struct {
	Repository string   `json:"repository"`
	Tags       []string `json:"tags"`
	// Digest is the manifest (or index) digest the registry reports for
	// every tag, after a push; empty without one.
	Digest string `json:"digest,omitempty"`
	// Existing is true when the exact tag already held this commit's image
	// and nothing was built for this repository (a re-run).
	Existing bool `json:"existing,omitempty"`
}

// devMetadataRE is the build metadata of a --dev version: the commit, and
// .dirty when the worktree was.
var devMetadataRE = regexp.MustCompile(`^g[0-9a-f]{7,40}(\.dirty)?$`)

// Build builds the image of HEAD and, with Push, pushes every tag the tag
// policy asks for and reads the digest back from each registry. The steps:
// validate every input (repositories, version, Dockerfile) before anything
// runs; label and argument the build from git and pyproject.toml; check the
// exact tag of every repository (held by another commit's image → ErrConflict
// unless Force; held by this commit's image → not rebuilt there, only its
// tags are completed); run docker; verify that all tags of a repository name
// one digest.
func Build(ctx context.Context, deps BuildDeps, opts BuildOptions) (*BuildResult, error) {
	res := &BuildResult{}
	warn := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		res.Warnings = append(res.Warnings, msg)
		if deps.Warnf != nil {
			deps.Warnf("%s", msg)
		}
	}
	logf := func(format string, args ...any) {
		if deps.Logf != nil {
			deps.Logf(format, args...)
		}
	}

	// Inputs first: nothing runs before all of them are known good.
	if len(opts.Images) == 0 {
		return nil, WithHint(fmt.Errorf("no image repository to build: %w", ErrInvalid), "pass --image REPOSITORY (repeatable, one per registry)")
	}
	seen := map[string]bool{}
	for _, repo := range opts.Images {
		if err := ValidRepository(repo); err != nil {
			return nil, err
		}
		if seen[repo] {
			return nil, fmt.Errorf("image repository %q given twice: %w", repo, ErrInvalid)
		}
		seen[repo] = true
	}
	if opts.Push && !opts.DryRun && deps.Registry == nil {
		return nil, errors.New("push: no registry client")
	}
	builder := opts.Builder
	if builder == "" {
		builder = BuilderAuto
	}
	contextDir := opts.Context
	if contextDir == "" {
		contextDir = "."
	}
	if fi, err := os.Stat(contextDir); err != nil || !fi.IsDir() {
		return nil, WithHint(fmt.Errorf("build context %s: not a directory: %w", contextDir, ErrInvalid), "pass --context DIR")
	}
	dockerfilePath := opts.Dockerfile
	if dockerfilePath == "" {
		dockerfilePath = filepath.Join(contextDir, "Dockerfile")
	}
	dockerfile, err := os.ReadFile(dockerfilePath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, WithHint(fmt.Errorf("reading the Dockerfile: %s does not exist", dockerfilePath), "pass --file PATH, or --context DIR of a directory with a Dockerfile")
		}
		return nil, fmt.Errorf("reading the Dockerfile: %w", err)
	}
	for _, p := range opts.Platforms {
		if parts := strings.Split(p, "/"); len(parts) < 2 || len(parts) > 3 || slices.Contains(parts, "") {
			return nil, fmt.Errorf("platform %q: want os/arch[/variant]: %w", p, ErrInvalid)
		}
	}

	head, err := deps.Git.Head(ctx)
	if err != nil {
		return nil, err // gitinfo says "reading HEAD"
	}
	commit, err := deps.Git.Commit(ctx, head.Commit)
	if err != nil {
		return nil, fmt.Errorf("reading commit %s: %w", head.Commit, err)
	}
	res.Revision = commit.Hash

	v, nothing, err := buildVersion(ctx, deps, opts)
	if err != nil {
		return nil, err
	}
	res.Version = v.String()
	if nothing != "" {
		// Exit 0 with nothing built: rebuilding the last release from a
		// later commit would put another revision under its exact tag.
		res.Nothing = nothing
		res.Images = []ImageResult{}
		res.Labels = map[string]string{}
		logf("%s; nothing built", nothing)
		return res, nil
	}

	var project Project
	python := false
	if data, err := os.ReadFile(filepath.Join(contextDir, "pyproject.toml")); err == nil {
		python = true
		if project, err = ParsePyproject(data); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading pyproject.toml: %w", err)
	}
	pep440, pepErr := PEP440(v)
	if pepErr != nil && python {
		return nil, WithHint(fmt.Errorf("version %s cannot be built as a Python package: %w", v, pepErr),
			"use a prerelease of the form alpha.N, beta.N, rc.N or dev.N (e.g. --pre rc)")
	}

	// Known versions: the repository's release tags. A shallow clone
	// cannot vouch for its tags, whichever it holds: a tag-triggered
	// checkout (git clone --depth 1 --branch v1.3.1) has exactly HEAD's
	// tag, so an old line's patch would look like the highest release and
	// move latest. Nothing local tells a clone whose tags were all fetched
	// from one that has some, so shallow means K unknown (SPEC §3 rule 9).
	shallow, err := deps.Git.Shallow(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading shallow state: %w", err)
	}
	var known []*semver.Version
	if !shallow {
		tags, err := deps.Git.Tags(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading tags: %w", err)
		}
		known = releaseVersions(tags, opts.TagPrefix)
	}
	tagOpts := opts.Tags
	tagOpts.Commit = commit.Hash
	plan, err := PlanTags(v, known, tagOpts)
	if err != nil {
		return nil, err
	}
	for _, w := range plan.Warnings {
		warn("%s", w)
	}

	// Labels and build arguments.
	remote := opts.Remote
	if remote == "" {
		remote = "origin"
	}
	var source string
	if url, err := deps.Git.RemoteURL(ctx, remote); err == nil {
		if source = SourceURL(url); source == "" {
			warn("remote %s (%s) has no web address: no source label", remote, gitinfo.RedactURL(url))
		}
	}
	meta := ImageMeta{
		Version:  v.String(),
		PEP440:   pep440,
		Revision: commit.Hash,
		Source:   source,
		Created:  commit.Committer.When,
		Project:  project,
		Vendor:   opts.Vendor,
	}
	buildArgs := BuildArgs(meta, opts.BuildArgs)
	fromArgs := map[string]string{}
	for _, kv := range buildArgs {
		fromArgs[kv.Key] = kv.Value
	}
	if len(opts.Platforms) == 1 {
		addPlatformArgs(fromArgs, opts.Platforms[0])
	}
	meta.BaseName, err = FinalBase(dockerfile, fromArgs)
	meta.Scratch = err == nil && meta.BaseName == ""
	if err != nil {
		warn("base image label left empty: %v", err)
	}
	labels := Labels(meta, opts.Labels)
	res.Labels = map[string]string{}
	for _, kv := range labels {
		res.Labels[kv.Key] = kv.Value
	}

	// The exact tag is immutable: find out what each repository holds.
	names := plan.Names()
	toBuild := opts.Images
	existing := map[string]string{} // repository → digest of this commit's image
	if opts.Push && !opts.DryRun {
		toBuild = nil
		for _, repo := range opts.Images {
			digest, err := exactTagHolder(ctx, deps.Registry, repo, plan.Exact(), commit.Hash, opts.Force)
			if err != nil {
				return nil, err
			}
			if digest != "" {
				existing[repo] = digest
				continue
			}
			toBuild = append(toBuild, repo)
		}
	}

	if builder == BuilderAuto && len(toBuild) > 0 {
		b, err := deps.Docker.Detect(ctx)
		switch {
		case err == nil:
			builder = b
		case opts.DryRun:
			warn("cannot detect the docker builder (%v): showing the buildx command", err)
			builder = BuilderBuildx
		default:
			return nil, err
		}
	}

	req := DockerRequest{
		Builder:    builder,
		Context:    contextDir,
		Dockerfile: opts.Dockerfile,
		Platforms:  opts.Platforms,
		Network:    opts.Network,
		Labels:     labels,
		BuildArgs:  buildArgs,
		Push:       opts.Push,
		Provenance: opts.Provenance,
	}
	// A dry run prints commands a person can paste: no temporary paths.
	if builder == BuilderClassic && !opts.DryRun {
		tmp, err := os.MkdirTemp("", "release-build-")
		if err != nil {
			return nil, fmt.Errorf("creating a temporary directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		req.IIDFile = filepath.Join(tmp, "iid")
	}
	for _, repo := range toBuild {
		for _, t := range names {
			req.Tags = append(req.Tags, repo+":"+t)
		}
	}
	var cmds [][]string
	if len(toBuild) > 0 {
		if cmds, err = DockerCommands(req); err != nil {
			return nil, err
		}
	}
	for _, repo := range opts.Images {
		res.Images = append(res.Images, ImageResult{Repository: repo, Tags: names})
	}
	env := []string{"SOURCE_DATE_EPOCH=" + fmt.Sprint(commit.Committer.When.Unix())}
	if opts.DryRun {
		res.Commands = cmds
		if len(cmds) > 0 {
			res.Env = env
		}
		return res, nil
	}

	for _, c := range cmds {
		if c[0] == "push" {
			logf("pushing %s", c[len(c)-1])
		} else {
			logf("building with docker %s", subcommand(c))
		}
		if err := deps.Docker.Run(ctx, c, env); err != nil {
			return nil, err
		}
		if id, err := os.ReadFile(req.IIDFile); c[0] == "build" && req.IIDFile != "" && err == nil {
			logf("built image %s", strings.TrimSpace(string(id)))
		}
	}
	if !opts.Push {
		return res, nil
	}

	// Repositories that already held this commit's image: complete their
	// tags by manifest writes (the image keeps its digest).
	for i, img := range res.Images {
		digest, ok := existing[img.Repository]
		if !ok {
			continue
		}
		logf("%s:%s already holds %s of this commit: not rebuilt", img.Repository, plan.Exact(), digest)
		if err := deps.Registry.Retag(ctx, img.Repository+"@"+digest, names); err != nil {
			return nil, fmt.Errorf("tagging %s: %w", img.Repository, err)
		}
		res.Images[i].Existing = true
	}
	// The digest comes from the registry, and every tag must agree.
	for i, img := range res.Images {
		digest, err := agreeingDigest(ctx, deps.Registry, img.Repository, names)
		if err != nil {
			return nil, err
		}
		res.Images[i].Digest = digest
		logf("pushed %s@%s (%s)", img.Repository, digest, strings.Join(names, " "))
	}
	return res, nil
}

// buildVersion is --version, or the version policy's answer, parsed
// strictly; build metadata is refused except the --dev form, because tags
// drop it and two builds would share one exact tag. nothing is set (with
// the last release's version) when the policy found nothing to release.
func buildVersion(ctx context.Context, deps BuildDeps, opts BuildOptions) (v *semver.Version, nothing string, err error) {
	s := opts.Version
	if s == "" {
		if deps.NextVersion == nil {
			return nil, "", WithHint(fmt.Errorf("no version: %w", ErrInvalid), "pass --version X.Y.Z")
		}
		next, err := deps.NextVersion(ctx)
		if err != nil {
			return nil, "", err
		}
		if next.NothingToRelease() {
			return next.SemVer, fmt.Sprintf("nothing to release: no commit since %s changes the version", next.PreviousTag), nil
		}
		s = next.Version
	}
	raw := s
	if p := opts.TagPrefix; p != "" && strings.HasPrefix(s, p) {
		s = strings.TrimPrefix(s, p)
	} else {
		s = strings.TrimPrefix(s, "v")
	}
	v, err = semver.StrictNewVersion(s)
	if err != nil {
		return nil, "", WithHint(fmt.Errorf("version %q is not a semantic version: %w", raw, ErrInvalid), "pass --version X.Y.Z[-PRERELEASE]")
	}
	if md := v.Metadata(); md != "" {
		dev := strings.HasPrefix(v.Prerelease(), "dev.") && devMetadataRE.MatchString(md)
		if !dev {
			return nil, "", WithHint(fmt.Errorf("version %s has build metadata %q, which no image tag can carry (1.2.3+a and 1.2.3+b would share the tag 1.2.3): %w", v, md, ErrInvalid),
				"drop the +"+md+" part: the sha-<commit> tag and the revision label already name the commit")
		}
	}
	return v, "", nil
}

// releaseVersions are the versions of the release tags: exactly
// <prefix><semver>, parsed strictly.
func releaseVersions(tags []gitinfo.Tag, prefix string) []*semver.Version {
	out := []*semver.Version{}
	for _, t := range tags {
		if v, err := ParseTag(prefix, t.Name); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// exactTagHolder checks the exact tag of repo before a push: absent → "";
// this commit's image → its digest (nothing to build there); another
// commit's image → ErrConflict, unless force (then "": overwrite).
func exactTagHolder(ctx context.Context, reg BuildRegistry, repo, exact, commit string, force bool) (string, error) {
	ref := repo + ":" + exact
	digest, err := reg.Digest(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("checking %s: %w", ref, err)
	}
	if digest == "" {
		return "", nil
	}
	raw, err := reg.Config(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("reading the image config of %s: %w", ref, err)
	}
	var cfg struct {
		Config struct {
			Labels map[string]string `json:"Labels"`
		} `json:"config"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return "", fmt.Errorf("reading the image config of %s: %w", ref, err)
	}
	rev := cfg.Config.Labels[LabelRevision]
	if rev == commit {
		return digest, nil
	}
	if force {
		return "", nil
	}
	holder := "an image without a revision label"
	if rev != "" {
		holder = "the image of commit " + rev
	}
	return "", WithHint(fmt.Errorf("%s already holds %s (%s): the exact tag is immutable: %w", ref, holder, digest, ErrConflict),
		"release a new version, or pass --force to overwrite the tag")
}

// agreeingDigest reads the digest of every tag of repo from the registry;
// they must all name the same manifest.
func agreeingDigest(ctx context.Context, reg BuildRegistry, repo string, tags []string) (string, error) {
	var first string
	for _, t := range tags {
		ref := repo + ":" + t
		d, err := reg.Digest(ctx, ref)
		if err != nil {
			return "", fmt.Errorf("reading back %s: %w", ref, err)
		}
		if d == "" {
			return "", fmt.Errorf("reading back %s: the registry does not have it after the push", ref)
		}
		if first == "" {
			first = d
			continue
		}
		if d != first {
			return "", fmt.Errorf("tags of %s disagree after the push: %s is %s, %s is %s (another push raced this one?)", repo, tags[0], first, t, d)
		}
	}
	return first, nil
}

// addPlatformArgs sets the platform arguments BuildKit predefines, for a
// single-platform build.
func addPlatformArgs(args map[string]string, platform string) {
	parts := strings.Split(platform, "/")
	args["TARGETPLATFORM"] = platform
	args["TARGETOS"] = parts[0]
	args["TARGETARCH"] = parts[1]
	if len(parts) > 2 {
		args["TARGETVARIANT"] = parts[2]
	} else {
		args["TARGETVARIANT"] = ""
	}
}
