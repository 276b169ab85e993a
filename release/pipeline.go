package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/releasetool/release/gitinfo"
)

// CutGit is what Cut reads from and writes to the repository;
// *gitinfo.Repo has it.
type CutGit interface {
	Git
	Commit(ctx context.Context, rev string) (gitinfo.Commit, error)
	RemoteURL(ctx context.Context, name string) (string, error)
	// SymbolicRef names the branch refs/remotes/<remote>/HEAD points at.
	SymbolicRef(ctx context.Context, name string) (string, error)
	// UserIdentity is git's user.name and user.email.
	UserIdentity(ctx context.Context) (name, email string, err error)
	CreateTag(ctx context.Context, name, rev string, opts gitinfo.TagOptions) (gitinfo.Tag, error)
	PushTag(ctx context.Context, remote, name string, opts gitinfo.PushOptions) error
}

// CutDeps are the outside world Cut works with.
type CutDeps struct {
	Git CutGit
	// Registry is needed with CutOptions.Push (the exact-tag check and the
	// digest read-back of the build).
	Registry BuildRegistry
	Docker   Docker
	// Getenv reads the CI variables that name the branch of a detached
	// HEAD and the tagger (GITHUB_*, GITLAB_*, CI_*, GIT_COMMITTER_*).
	// Nil reads nothing.
	Getenv func(string) string
	// Now is the tagger's clock. Required when a tag is created.
	Now func() time.Time
	// Step receives the outcome of each step as it ends: done, skipped
	// with the reason, or planned (a dry run). Nil drops them.
	Step func(StepReport)
	// Warnf and Logf reach a person (stderr); nil drops the message. The
	// build's progress comes through Logf.
	Warnf func(format string, args ...any)
	Logf  func(format string, args ...any)
}

// CutOptions are the flags of `release cut` (SPEC §7).
type CutOptions struct {
	// Version shapes the version policy (--tag-prefix, --pre, --initial,
	// --release-as, --path, rules). --dev is refused: cut tags releases.
	Version Options
	// Build is what `release build` takes; Cut sets its Version, Push,
	// DryRun, Remote and TagPrefix (and Builder when it is auto).
	Build BuildOptions
	// Branch is the release branch; "" means the remote's default branch
	// (refs/remotes/<remote>/HEAD), else main, else master.
	Branch string
	// AllowDirty lets a worktree with uncommitted changes be released.
	AllowDirty bool
	// Tagger is "Name <email>"; "" means GIT_COMMITTER_NAME/EMAIL, git's
	// user.name/email, then the CI's user (GitHub, GitLab).
	Tagger string
	// Remote is the git remote the tag is pushed to and whose URL is the
	// source label; "" means origin.
	Remote string
	// Push pushes the tag, then the image(s).
	Push bool
	// GitToken and GitUser authenticate the tag push over HTTP(S)
	// (gitinfo.PushOptions).
	GitToken, GitUser string
	// NoBuild stops after the tag: no image is built.
	NoBuild bool
	// DryRun runs nothing that changes anything; the steps say what they
	// would do and the result carries the docker commands.
	DryRun bool
	// GitHubOutput is a file ($GITHUB_OUTPUT) the report step appends
	// its outputs to; "" writes none.
	GitHubOutput string
	// DotEnv is a file the report step writes RELEASE_* variables to
	// (GitLab's artifacts:reports:dotenv); "" writes none.
	DotEnv string
}

// Action is what a cut did about the version.
type Action string

// The actions of a cut.
const (
	// ActionCreated: the release tag was created by this run.
	ActionCreated Action = "created"
	// ActionExisting: HEAD already carried the release tag (a re-run);
	// what was missing (the push, the image) was done.
	ActionExisting Action = "existing"
	// ActionNone: nothing to release (no commit since the last release
	// changes the version); no tag, no build.
	ActionNone Action = "none"
)

// CutResult is what `release cut --json` prints.
type CutResult struct {
	Action  Action `json:"action"`
	Version string `json:"version"`
	Tag     string `json:"tag"`
	// Commit is the full hash of HEAD, the commit released.
	Commit string        `json:"commit"`
	Images []ImageResult `json:"images"`
	// Changelog is the release's notes (Markdown): the tag's message.
	Changelog string `json:"changelog"`

	// A dry run also carries the steps it would take and the docker
	// commands of the build (with the environment release adds).
	DryRun   bool         `json:"dry_run,omitempty"`
	Steps    []StepReport `json:"steps,omitempty"`
	Commands [][]string   `json:"commands,omitempty"`
	Env      []string     `json:"env,omitempty"`
}

// StepStatus is how a step ended.
type StepStatus string

// The statuses of a step.
const (
	StepDone    StepStatus = "done"
	StepSkipped StepStatus = "skipped"
	// StepPlanned is a step a dry run did not run: Detail says what it
	// would do.
	StepPlanned StepStatus = "planned"
)

// StepReport is the outcome of one step of the pipeline.
type StepReport struct {
	Name   string     `json:"name"`
	Status StepStatus `json:"status"`
	Detail string     `json:"detail"`
}

// Step is one named stage of the pipeline. Run returns what it did (or,
// in a dry run, would do) in a few words, or a *SkipError when it had
// nothing to do.
type Step struct {
	Name string
	// Changes is true when the step changes something (a tag, a push, an
	// image, a file): a dry run reports it as planned.
	Changes bool
	Run     func(ctx context.Context) (string, error)
}

// SkipError is what a step returns when it has nothing to do; the
// pipeline goes on with the next step.
type SkipError struct {
	Reason string
}

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// skip returns a *SkipError with the reason.
func skip(format string, args ...any) error {
	return &SkipError{Reason: fmt.Sprintf(format, args...)}
}

// ErrNotReleaseBranch means HEAD is not on the release branch (or, with a
// push, not on the remote's copy of it): nothing is tagged.
var ErrNotReleaseBranch = errors.New("not on the release branch")

// Cut is the main-branch pipeline (SPEC §7), as named steps run in order:
//
//	check    the worktree is clean (unless AllowDirty)
//	branch   HEAD is on the release branch (any branch for a prerelease);
//	         with a push, the remote's branch contains HEAD
//	version  NextVersion; HEAD already tagged → reuse it; nothing to
//	         release → action none, every later step skipped
//	plan     the build's inputs, tags and docker commands, checked before
//	         anything is tagged (a build dry run); with a push, no exact
//	         image tag may hold another commit's image
//	tag      the annotated tag, message = the release notes
//	push     exactly that tag, to the remote: the lock between racing
//	         pipelines (another commit holds it → ErrConflict)
//	build    the image(s), as Build does (pushed with Push)
//	report   the outputs for CI ($GITHUB_OUTPUT, a dotenv file)
//
// Re-running Cut on a commit it tagged before finishes what is missing:
// the tag push succeeds when the remote has the tag on the same commit, and
// Build completes an image that is already pushed without rebuilding it.
func Cut(ctx context.Context, deps CutDeps, opts CutOptions) (*CutResult, error) {
	c, err := newCutRun(deps, opts)
	if err != nil {
		return nil, err
	}
	for _, s := range c.steps() {
		detail, err := s.Run(ctx)
		rep := StepReport{Name: s.Name, Status: StepDone, Detail: detail}
		var sk *SkipError
		switch {
		case errors.As(err, &sk):
			rep.Status, rep.Detail = StepSkipped, sk.Reason
		case err != nil:
			return nil, err
		case s.Changes && opts.DryRun:
			rep.Status = StepPlanned
		}
		if opts.DryRun {
			c.res.Steps = append(c.res.Steps, rep)
		}
		if deps.Step != nil {
			deps.Step(rep)
		}
	}
	return c.res, nil
}

// cutRun is one run of the pipeline: its inputs and what the steps have
// found so far, in step order.
type cutRun struct {
	deps   CutDeps
	opts   CutOptions
	remote string
	tagger *gitinfo.Signature // from CutOptions.Tagger
	res    *CutResult

	head    gitinfo.Head   // check
	status  gitinfo.Status // check
	version *Result        // version
	nothing string         // version: why there is nothing to release
	notes   string         // version: the release notes (Markdown)
	build   BuildOptions   // plan: the build's options, completed
	plan    *BuildResult   // plan: the build's dry run
	pushed  bool           // push: the remote has the tag
}

func newCutRun(deps CutDeps, opts CutOptions) (*cutRun, error) {
	c := &cutRun{deps: deps, opts: opts, remote: opts.Remote, res: &CutResult{Images: []ImageResult{}, DryRun: opts.DryRun}}
	if c.remote == "" {
		c.remote = "origin"
	}
	if opts.Version.Dev {
		return nil, WithHint(fmt.Errorf("release cut tags releases; --dev versions are for builds of untagged commits: %w", ErrInvalid),
			"use release build --dev, or --pre LABEL for a prerelease")
	}
	if opts.Tagger != "" {
		sig, err := ParseTagger(opts.Tagger)
		if err != nil {
			return nil, err
		}
		c.tagger = &sig
	}
	if !opts.NoBuild {
		if len(opts.Build.Images) == 0 {
			return nil, WithHint(fmt.Errorf("no image repository to build: %w", ErrInvalid),
				"pass --image REPOSITORY (repeatable, one per registry), or --no-build to tag only")
		}
		for _, repo := range opts.Build.Images {
			if err := ValidRepository(repo); err != nil {
				return nil, err
			}
		}
	}
	if opts.Push && !opts.DryRun && !opts.NoBuild && deps.Registry == nil {
		return nil, errors.New("push: no registry client")
	}
	return c, nil
}

func (c *cutRun) steps() []Step {
	return []Step{
		{Name: "check", Run: c.check},
		{Name: "branch", Run: c.checkBranch},
		{Name: "version", Run: c.nextVersion},
		{Name: "plan", Run: c.planBuild},
		{Name: "tag", Changes: true, Run: c.createTag},
		{Name: "push", Changes: true, Run: c.pushTag},
		{Name: "build", Changes: true, Run: c.runBuild},
		{Name: "report", Changes: c.opts.GitHubOutput != "" || c.opts.DotEnv != "", Run: c.report},
	}
}

func (c *cutRun) getenv(key string) string {
	if c.deps.Getenv == nil {
		return ""
	}
	return c.deps.Getenv(key)
}

func (c *cutRun) warnf(format string, args ...any) {
	if c.deps.Warnf != nil {
		c.deps.Warnf(format, args...)
	}
}

// check: HEAD exists and the worktree is clean.
func (c *cutRun) check(ctx context.Context) (string, error) {
	head, err := c.deps.Git.Head(ctx)
	if err != nil {
		return "", err // gitinfo says "reading HEAD"
	}
	c.head = head
	c.res.Commit = head.Commit
	st, err := c.deps.Git.Status(ctx)
	if err != nil {
		return "", fmt.Errorf("reading worktree status: %w", err)
	}
	c.status = st
	if !st.Dirty {
		return "clean worktree at " + short12(head.Commit), nil
	}
	changes := describeStatus(st)
	if !c.opts.AllowDirty {
		return "", WithHint(fmt.Errorf("%w: %s", ErrDirty, changes), "commit or stash the changes, or pass --allow-dirty")
	}
	c.warnf("releasing a dirty worktree (--allow-dirty): the image is built from the files as they are, not from commit %s: %s", short12(head.Commit), changes)
	return "dirty worktree allowed at " + short12(head.Commit), nil
}

// describeStatus lists the changed paths of a worktree for a person.
func describeStatus(st gitinfo.Status) string {
	var parts []string
	for _, e := range st.Entries {
		parts = append(parts, strings.TrimSpace(e.Code)+" "+e.Path)
	}
	s := strings.Join(parts, ", ")
	if st.More > 0 {
		s += fmt.Sprintf(" and %d more", st.More)
	}
	return s
}

// nextVersion: the version policy. A tagged HEAD is a re-run (existing);
// no bump is nothing to release. The notes are those of the commits the
// policy walked: exactly what Changelog of HEAD would walk again.
func (c *cutRun) nextVersion(ctx context.Context) (string, error) {
	in, err := readInput(ctx, statusKnown{c.deps.Git, c.status}, c.opts.Version)
	if err != nil {
		return "", err
	}
	v, err := Derive(in, c.opts.Version)
	if err != nil {
		return "", err
	}
	for _, w := range v.Warnings {
		c.warnf("%s", w)
	}
	c.version = v
	c.res.Version, c.res.Tag = v.Version, v.Tag
	switch {
	case v.NothingToRelease():
		c.res.Action = ActionNone
		c.nothing = "nothing to release"
		return fmt.Sprintf("nothing to release: no commit since %s changes the version", v.PreviousTag), nil
	case v.Tagged:
		c.res.Action = ActionExisting
	default:
		c.res.Action = ActionCreated
	}
	if in.Truncated {
		// Derive accepts a walk cut by the shallow boundary only for a
		// tagged HEAD: a re-run in a shallow checkout of the tagged commit.
		// The tag already carries the notes; only the output lacks them.
		c.warnf("the notes of %s are unknown in this shallow clone: the changelog output is empty", v.Tag)
	} else {
		c.notes = BuildNotes(in.Commits, c.opts.Version.Rules).Markdown()
	}
	c.res.Changelog = c.notes
	return fmt.Sprintf("%s, tag %s (%s)", v.Version, v.Tag, v.Why()), nil
}

// statusKnown is the repository with the worktree status the check step
// read: the version policy takes it instead of running git status again.
type statusKnown struct {
	Git
	status gitinfo.Status
}

func (s statusKnown) Status(context.Context) (gitinfo.Status, error) { return s.status, nil }

// planBuild checks everything the build needs (repositories, Dockerfile,
// the version's Python form, the tag policy, the docker binary) by a dry
// run of Build, before the tag exists anywhere: an input error found after
// the tag push would leave a released version without an image.
func (c *cutRun) planBuild(ctx context.Context) (string, error) {
	if c.nothing != "" {
		return "", skip("%s", c.nothing)
	}
	if c.opts.NoBuild {
		return "", skip("--no-build")
	}
	b := c.opts.Build
	b.Version = c.version.Version
	b.TagPrefix = c.opts.Version.TagPrefix
	b.Remote = c.remote
	b.Push = c.opts.Push
	if b.Builder == "" {
		b.Builder = BuilderAuto
	}
	// Detect even an explicit builder's docker in a real run: a missing
	// binary must stop the pipeline before the tag, not after it. (With
	// the buildx plugin on disk this starts no process.)
	if b.Builder == BuilderAuto || !c.opts.DryRun {
		detected, err := c.deps.Docker.Detect(ctx)
		switch {
		case err != nil && !c.opts.DryRun:
			return "", err
		case err != nil:
			c.warnf("cannot detect the docker builder (%v): showing the buildx command", err)
			b.Builder = BuilderBuildx
		case b.Builder == BuilderAuto:
			b.Builder = detected
		}
	}
	b.DryRun = true
	plan, err := Build(ctx, BuildDeps{Git: c.deps.Git, Docker: c.deps.Docker, Warnf: c.deps.Warnf}, b)
	if err != nil {
		return "", err
	}
	b.DryRun = false
	// The exact tag of each repository is immutable: another commit's image
	// under it stops the pipeline here, before the git tag exists, rather
	// than after the tag push (Build checks again, and completes an image
	// of this commit that a previous run pushed).
	if c.opts.Push && !c.opts.DryRun {
		for _, img := range plan.Images {
			if _, err := exactTagHolder(ctx, c.deps.Registry, img.Repository, img.Tags[0], c.head.Commit, b.Force); err != nil {
				return "", err
			}
		}
	}
	c.build, c.plan = b, plan
	c.res.Images = plan.Images
	if c.opts.DryRun {
		c.res.Commands, c.res.Env = plan.Commands, plan.Env
	}
	var parts []string
	for _, img := range plan.Images {
		parts = append(parts, img.Repository+": "+strings.Join(img.Tags, " "))
	}
	return fmt.Sprintf("%s build; %s", b.Builder, strings.Join(parts, "; ")), nil
}

// createTag: the annotated tag on HEAD, its message the release notes.
func (c *cutRun) createTag(ctx context.Context) (string, error) {
	if c.nothing != "" {
		return "", skip("%s", c.nothing)
	}
	if c.res.Action == ActionExisting {
		return "", skip("HEAD already carries %s", c.version.Tag)
	}
	tagger, source, err := c.resolveTagger(ctx)
	if err != nil {
		return "", err
	}
	who := fmt.Sprintf("tagger %s <%s> from %s", tagger.Name, tagger.Email, source)
	if c.opts.DryRun {
		return fmt.Sprintf("would create the annotated tag %s on %s (%s)", c.version.Tag, short12(c.head.Commit), who), nil
	}
	if c.deps.Now == nil {
		return "", errors.New("creating the tag: no clock")
	}
	tagger.When = c.deps.Now()
	_, err = c.deps.Git.CreateTag(ctx, c.version.Tag, c.head.Commit, gitinfo.TagOptions{Message: c.notes, Tagger: tagger})
	var conflict *gitinfo.TagConflictError
	if errors.As(err, &conflict) {
		return "", WithHint(fmt.Errorf("tag %s already exists locally on commit %s, not on HEAD %s: %w", c.version.Tag, short12(conflict.Have), short12(c.head.Commit), ErrConflict),
			fmt.Sprintf("fetch the tags (git fetch --tags) so the version is computed from them, or delete the stale local tag (git tag -d %s)", c.version.Tag))
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("created the annotated tag %s on %s (%s)", c.version.Tag, short12(c.head.Commit), who), nil
}

// pushTag pushes exactly the release tag. It is the lock between two
// pipelines that computed the same version: the remote accepts the first
// push of a new tag; the second finds it on another commit and stops before
// any image is built.
func (c *cutRun) pushTag(ctx context.Context) (string, error) {
	if c.nothing != "" {
		return "", skip("%s", c.nothing)
	}
	if !c.opts.Push {
		return "", skip("no --push: the tag stays in the local repository")
	}
	where := c.remote
	if url, err := c.deps.Git.RemoteURL(ctx, c.remote); err == nil {
		where = fmt.Sprintf("%s (%s)", c.remote, gitinfo.StripUserinfo(url))
	}
	if c.opts.DryRun {
		return fmt.Sprintf("would push refs/tags/%s to %s", c.version.Tag, where), nil
	}
	err := c.deps.Git.PushTag(ctx, c.remote, c.version.Tag, gitinfo.PushOptions{Token: c.opts.GitToken, Username: c.opts.GitUser})
	var conflict *gitinfo.TagConflictError
	switch {
	case errors.As(err, &conflict):
		return "", WithHint(fmt.Errorf("another pipeline released %s first: %s has it on commit %s, HEAD is %s; nothing was built or pushed: %w",
			c.version.Tag, where, short12(conflict.Have), short12(c.head.Commit), ErrConflict),
			fmt.Sprintf("nothing to fix: the next run releases the commits after %s (in a local clone: git tag -d %s && git fetch --tags)", c.version.Tag, c.version.Tag))
	case errors.Is(err, gitinfo.ErrAuthentication):
		return "", WithHint(err, "pass a token allowed to push tags with --git-token or RELEASE_GIT_TOKEN (GitLab: --git-user gitlab-ci-token for a job token), or configure a git credential helper")
	case err != nil:
		return "", err
	}
	c.pushed = true
	if c.res.Action == ActionExisting {
		// PushTag succeeds the same way when the remote already had it.
		return fmt.Sprintf("refs/tags/%s is on %s: pushed now, or already there", c.version.Tag, where), nil
	}
	return fmt.Sprintf("pushed refs/tags/%s to %s", c.version.Tag, where), nil
}

// runBuild builds the image(s) as `release build` does, with the options
// the plan checked.
func (c *cutRun) runBuild(ctx context.Context) (string, error) {
	if c.nothing != "" {
		return "", skip("%s", c.nothing)
	}
	if c.opts.NoBuild {
		return "", skip("--no-build")
	}
	if c.opts.DryRun {
		return fmt.Sprintf("would run %d docker command(s)", len(c.plan.Commands)), nil
	}
	// No Warnf: the plan ran the same build logic and already said
	// everything it had to say (a missing source label, floating tags left
	// alone); saying it twice would read as two problems.
	res, err := Build(ctx, BuildDeps{Git: c.deps.Git, Registry: c.deps.Registry, Docker: c.deps.Docker, Logf: c.deps.Logf}, c.build)
	if err != nil {
		if c.pushed {
			c.warnf("%s is on the remote but its image is not complete: run release cut again on this commit to finish", c.version.Tag)
		}
		return "", err
	}
	c.res.Images = res.Images
	var parts []string
	for _, img := range res.Images {
		switch {
		case img.Existing:
			parts = append(parts, img.Repository+"@"+img.Digest+" (already pushed)")
		case img.Digest != "":
			parts = append(parts, img.Repository+"@"+img.Digest)
		default:
			parts = append(parts, img.Repository+":"+strings.Join(img.Tags, ","))
		}
	}
	return strings.Join(parts, " "), nil
}

// short12 is a commit hash as the sha tag spells it.
func short12(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
