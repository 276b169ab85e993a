package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/registry"
)

// Images is what the provenance commands read from a registry.
// *registry.Client satisfies it. References are strings as the registry
// package takes them ("host/repo:tag", "host/repo@sha256:…"); errors pass
// through, so registry.ErrNotFound still names a missing tag.
type Images interface {
	Manifest(ctx context.Context, ref string) ([]byte, registry.Descriptor, error)
	Blob(ctx context.Context, ref string) ([]byte, error)
	Resolve(ctx context.Context, ref string) (registry.Descriptor, error)
	Tags(ctx context.Context, repo string) ([]string, error)
}

// History is what the provenance commands read from a local clone.
// *gitinfo.Repo satisfies it.
type History interface {
	Commit(ctx context.Context, rev string) (gitinfo.Commit, error)
	Tags(ctx context.Context) ([]gitinfo.Tag, error)
	Log(ctx context.Context, q gitinfo.LogQuery) (*gitinfo.Log, error)
	Shallow(ctx context.Context) (bool, error)
	// Remotes tell which remote the fetch hint of a missing commit
	// names.
	Remotes(ctx context.Context) (gitinfo.Remotes, error)
}

var (
	_ Images  = (*registry.Client)(nil)
	_ History = (*gitinfo.Repo)(nil)
)

// ErrNoRevision means an image carries its source revision nowhere: no
// org.opencontainers.image.revision label or annotation, no BuildKit
// provenance. The concrete error is a *NoRevisionError.
var ErrNoRevision = errors.New("no revision")

// NoRevisionError names the image (and, for an index, the platforms)
// without a revision.
type NoRevisionError struct {
	// Reference is the image as it was named.
	Reference string
	// Platforms lack a revision; empty for a single-platform image.
	Platforms []string
}

func (e *NoRevisionError) Error() string {
	what := "no org.opencontainers.image.revision label or annotation and no BuildKit provenance"
	if len(e.Platforms) > 0 {
		return fmt.Sprintf("%s: %s has %s", e.Reference, strings.Join(e.Platforms, ", "), what)
	}
	return fmt.Sprintf("%s has %s", e.Reference, what)
}

// Is makes errors.Is(err, ErrNoRevision) true.
func (e *NoRevisionError) Is(target error) bool { return target == ErrNoRevision }

// noRevisionHint is how an image gets its revision.
const noRevisionHint = "build images with `release build`, which labels them with org.opencontainers.image.revision " +
	"(with docker: --label org.opencontainers.image.revision=$(git rev-parse HEAD))"

// Origin says where a value of an image was read.
type Origin string

// Where values come from, in the order Inspect looks (created ends with
// the config's own field; find's fast path answers from tags).
const (
	// OriginLabel is a config label org.opencontainers.image.<key>
	// (`docker build --label`, `release build`, LABEL).
	OriginLabel Origin = "label"
	// OriginManifestAnnotation is an annotation of the platform's image
	// manifest (buildx --annotation manifest:…).
	OriginManifestAnnotation Origin = "manifest-annotation"
	// OriginIndexAnnotation is an annotation of the index
	// (buildx --annotation index:…).
	OriginIndexAnnotation Origin = "index-annotation"
	// OriginProvenance is BuildKit's SLSA provenance attestation
	// (vcs.revision and vcs.source).
	OriginProvenance Origin = "provenance"
	// OriginConfig is the image config's created field.
	OriginConfig Origin = "config"
	// OriginTag is a tag of the digest: sha-<12 hex> for the revision,
	// the exact version tag for the version (release find's fast path).
	OriginTag Origin = "tag"
)

// The keys of the values Inspect reads, as in org.opencontainers.image.<key>.
const (
	KeyVersion  = "version"
	KeyRevision = "revision"
	KeySource   = "source"
	KeyCreated  = "created"
)

var valueKeys = []string{KeyVersion, KeyRevision, KeySource, KeyCreated}

// ociPrefix is the namespace of the OCI pre-defined annotation keys, which
// labels share.
const ociPrefix = "org.opencontainers.image."

// ImageInfo is what `release inspect` prints: the manifest a reference
// names and, for each platform, where the image came from. It is also the
// data of `release inspect --format`, so field names are part of the
// command line contract.
type ImageInfo struct {
	// Reference is the image as it was named; Repository is its
	// repository (host/path).
	Reference  string `json:"reference"`
	Repository string `json:"repository"`
	// Digest and MediaType are those of the manifest Reference names (an
	// index or an image).
	Digest    string `json:"digest"`
	MediaType string `json:"media_type"`
	// Platform is the platform selected with InspectOptions.Platform, or
	// "" when every platform is described.
	Platform string `json:"platform,omitempty"`
	// Version, Revision, Source and Created are the image's: those of the
	// selected platform, or the value every platform agrees on. A value the
	// platforms disagree on is empty here and named in Differs.
	Version  string `json:"version"`
	Revision string `json:"revision"`
	Source   string `json:"source"`
	Created  string `json:"created"`
	// From says where each of those values was read (key: version,
	// revision, source, created), when every platform read it from the
	// same place.
	From map[string]Origin `json:"from"`
	// Labels are the config labels every platform has with the same value.
	Labels map[string]string `json:"labels"`
	// Annotations are the top manifest's annotations.
	Annotations map[string]string `json:"annotations"`
	// Differs lists the keys (version, revision, source, created) whose
	// values differ between platforms.
	Differs []string `json:"differs"`
	// Platforms describe each image of an index (attestations excluded),
	// or the one image.
	Platforms []PlatformInfo `json:"platforms"`
	// Commit is the revision's commit in the local clone (InspectOptions.Git),
	// when the platforms agree on the revision.
	Commit *CommitInfo `json:"commit,omitempty"`
}

// PlatformInfo is one platform's image.
type PlatformInfo struct {
	// Platform is "os/arch[/variant]".
	Platform string `json:"platform"`
	// Digest is the platform's image manifest.
	Digest   string `json:"digest"`
	Version  string `json:"version"`
	Revision string `json:"revision"`
	Source   string `json:"source"`
	Created  string `json:"created"`
	// Dirty reports a provenance revision with buildx's "-dirty" suffix:
	// the worktree had changes; Revision is the commit without it.
	Dirty bool `json:"dirty,omitempty"`
	// From says where each value was read (key: version, revision, source,
	// created).
	From map[string]Origin `json:"from"`
	// Labels are the config labels; Annotations the image manifest's.
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	// Commit is the revision's commit in the local clone.
	Commit *CommitInfo `json:"commit,omitempty"`
}

// CommitInfo is a commit of the local clone, for a person reading
// `release inspect --git`.
type CommitInfo struct {
	Hash    string `json:"hash"`
	Subject string `json:"subject"`
	// Author is "Name <email>".
	Author string `json:"author"`
	// Date is the author date, RFC 3339.
	Date string `json:"date"`
	// Tags are the local tags on the commit, sorted.
	Tags []string `json:"tags"`
}

// InspectOptions are the options of Inspect.
type InspectOptions struct {
	// Platform ("os/arch[/variant]") describes one platform of an index
	// only. Default: every platform.
	Platform string
	// Git, when set, adds the commit of each revision from a local clone.
	// A revision the clone lacks is ErrHistory with the fetch command.
	Git History
	// Jobs bounds the platform images read at once. Default 4.
	Jobs int
}

// Inspect reads the image ref names (a tag, a digest, or tag@digest) and,
// for each platform, its version, revision, source and created time, each
// from the first place that has it:
//
//  1. the config label org.opencontainers.image.<key>;
//  2. the annotation of the platform's image manifest;
//  3. the annotation of the index;
//  4. revision and source: the BuildKit SLSA provenance attestation of the
//     platform (v0.2 and v1); created: the config's created field.
//
// It costs one GET for the manifest, then two per platform (manifest and
// config), plus two per platform whose revision or source is still
// missing and that has an attestation manifest.
//
// A reference the registry does not know fails with registry.ErrNotFound
// (a caller can say "nothing there"). An image without a revision on every
// described platform returns its info along with an error matching
// ErrNoRevision, so a caller that tolerates unlabeled images still gets
// the rest.
func Inspect(ctx context.Context, images Images, ref string, opts InspectOptions) (*ImageInfo, error) {
	repo, err := registry.Repository(ref)
	if err != nil {
		return nil, err
	}
	raw, d, err := images.Manifest(ctx, ref)
	if err != nil {
		return nil, err
	}
	top, err := parseManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", ref, err)
	}
	r := reader{images: images, repo: repo, jobs: opts.Jobs}
	plats, err := r.platforms(ctx, top, d, opts.Platform, needAll)
	if err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", ref, err)
	}
	info := &ImageInfo{
		Reference:   ref,
		Repository:  repo,
		Digest:      d.Digest,
		MediaType:   d.MediaType,
		Platform:    opts.Platform,
		Annotations: orEmpty(top.Annotations),
		Platforms:   plats,
	}
	summarize(info)
	if opts.Git != nil {
		if err := addCommits(ctx, opts.Git, info); err != nil {
			return nil, err
		}
	}
	var missing []string
	for _, p := range info.Platforms {
		if p.Revision == "" {
			missing = append(missing, p.Platform)
		}
	}
	if len(missing) > 0 {
		e := &NoRevisionError{Reference: ref}
		if len(info.Platforms) > 1 || opts.Platform != "" {
			e.Platforms = missing
		}
		return info, WithHint(e, noRevisionHint)
	}
	return info, nil
}

// summarize fills the top-level values: the common value of each key, or
// the key in Differs.
func summarize(info *ImageInfo) {
	info.From = map[string]Origin{}
	info.Differs = []string{}
	for _, k := range valueKeys {
		v, same := "", true
		from, sameFrom := Origin(""), true
		for i, p := range info.Platforms {
			pv := *p.field(k)
			if i == 0 {
				v, from = pv, p.From[k]
				continue
			}
			same = same && pv == v
			sameFrom = sameFrom && p.From[k] == from
		}
		if !same {
			info.Differs = append(info.Differs, k)
			continue
		}
		*info.field(k) = v
		if sameFrom && from != "" {
			info.From[k] = from
		}
	}
	info.Labels = map[string]string{}
	for i, p := range info.Platforms {
		if i == 0 {
			maps.Copy(info.Labels, p.Labels)
			continue
		}
		for k, v := range info.Labels {
			if pv, ok := p.Labels[k]; !ok || pv != v {
				delete(info.Labels, k)
			}
		}
	}
}

// field is the value of key (version, revision, source, created).
func (p *PlatformInfo) field(key string) *string {
	return valueField(key, &p.Version, &p.Revision, &p.Source, &p.Created)
}

// field is the value of key (version, revision, source, created).
func (info *ImageInfo) field(key string) *string {
	return valueField(key, &info.Version, &info.Revision, &info.Source, &info.Created)
}

func valueField(key string, version, revision, source, created *string) *string {
	switch key {
	case KeyVersion:
		return version
	case KeyRevision:
		return revision
	case KeySource:
		return source
	default:
		return created
	}
}

// addCommits looks each distinct revision up in the local clone.
func addCommits(ctx context.Context, git History, info *ImageInfo) error {
	var tags []gitinfo.Tag
	tagsRead := false
	commits := map[string]*CommitInfo{}
	for i := range info.Platforms {
		rev := info.Platforms[i].Revision
		if rev == "" {
			continue
		}
		ci, ok := commits[rev]
		if !ok {
			c, err := localCommit(ctx, git, rev)
			if err != nil {
				return err
			}
			if !tagsRead {
				if tags, err = git.Tags(ctx); err != nil {
					return fmt.Errorf("reading tags: %w", err)
				}
				tagsRead = true
			}
			ci = commitInfo(c, tags)
			commits[rev] = ci
		}
		info.Platforms[i].Commit = ci
	}
	if info.Revision != "" {
		info.Commit = commits[info.Revision]
	}
	return nil
}

func commitInfo(c gitinfo.Commit, tags []gitinfo.Tag) *CommitInfo {
	ci := &CommitInfo{
		Hash:    c.Hash,
		Subject: c.Subject(),
		Author:  fmt.Sprintf("%s <%s>", c.Author.Name, c.Author.Email),
		Date:    c.Author.When.Format("2006-01-02T15:04:05Z07:00"),
		Tags:    []string{},
	}
	for _, t := range tags {
		if t.Commit == c.Hash {
			ci.Tags = append(ci.Tags, t.Name)
		}
	}
	slices.Sort(ci.Tags)
	return ci
}

// localCommit reads rev from the clone; a commit the clone does not have
// is ErrHistory with the command that fetches it. Only hexadecimal
// revisions are looked up: a label saying "main" must not name whatever
// the local branch points at.
func localCommit(ctx context.Context, git History, rev string) (gitinfo.Commit, error) {
	if len(rev) < 7 || !isHex(rev) {
		return gitinfo.Commit{}, fmt.Errorf("the image's revision %q is not a commit hash", rev)
	}
	c, err := git.Commit(ctx, rev)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, gitinfo.ErrUnknownRevision) {
		return gitinfo.Commit{}, fmt.Errorf("reading commit %s: %w", rev, err)
	}
	return gitinfo.Commit{}, missingCommit(ctx, git, rev)
}

// missingCommit is the ErrHistory error for a commit the clone lacks.
func missingCommit(ctx context.Context, git History, rev string) error {
	var hint string
	if shallow, err := git.Shallow(ctx); err == nil && shallow {
		hint = fetchHint(ctx, git, "--unshallow", "") + " (this clone is shallow)"
	} else {
		hint = fetchHint(ctx, git, "", rev)
	}
	return WithHint(fmt.Errorf("commit %s is not in the local clone: %w", rev, ErrHistory), hint)
}

// fetchHint is the git fetch that brings what the clone lacks: `git fetch
// [option] <remote> [rev]`, from the remote fetchRemote picks. A clone
// with no remote, or several of which none stands out, gets the command
// with a placeholder and what to put there: a hint naming "origin" in a
// clone whose remote is "upstream" would fail.
func fetchHint(ctx context.Context, git History, option, rev string) string {
	cmd := func(remote string) string {
		return strings.Join(slices.DeleteFunc([]string{"git fetch", option, remote, rev}, func(s string) bool { return s == "" }), " ")
	}
	rs, err := git.Remotes(ctx)
	if err != nil {
		return cmd("<remote>")
	}
	if r := fetchRemote(rs); r != "" {
		return cmd(r)
	}
	if len(rs.Names) == 0 {
		return "this clone has no remote: git remote add origin <the repository the image was built from>, then " + cmd("origin")
	}
	return cmd("<remote>") + ", naming the remote that has it (this clone has " + strings.Join(rs.Names, ", ") + ")"
}

// fetchRemote is the remote to fetch missing commits from: the one the
// current branch tracks, else the only remote, else origin when there is
// one; "" when none of these applies.
func fetchRemote(rs gitinfo.Remotes) string {
	switch {
	case rs.Upstream != "" && slices.Contains(rs.Names, rs.Upstream):
		return rs.Upstream
	case len(rs.Names) == 1:
		return rs.Names[0]
	case slices.Contains(rs.Names, "origin"):
		return "origin"
	}
	return ""
}

// defaultInspectJobs bounds the platform images of one index read at once.
const defaultInspectJobs = 4

// orDefault is n, or def when n is below 1 (an unset bound).
func orDefault(n, def int) int {
	if n < 1 {
		return def
	}
	return n
}

// need says which values a read must find before it stops looking.
type need int

const (
	// needAll looks for every value: provenance is read when the revision
	// or the source is missing.
	needAll need = iota
	// needRevision looks for the revision only (release find).
	needRevision
)

// reader reads images of one repository.
type reader struct {
	images Images
	repo   string
	jobs   int
}

func (r reader) ref(digest string) string { return r.repo + "@" + digest }

// platforms describes the parsed manifest m (descriptor d): each platform
// of an index (only platform when set), or the image.
func (r reader) platforms(ctx context.Context, m *ociManifest, d registry.Descriptor, platform string, n need) ([]PlatformInfo, error) {
	if !isIndexType(d.MediaType, m) {
		p, err := r.image(ctx, d.Digest, m, nil, "", n)
		if err != nil {
			return nil, err
		}
		if platform != "" && !platformMatches(platform, p.Platform) {
			return nil, WithHint(fmt.Errorf("the image is %s, not %s: %w", p.Platform, platform, ErrInvalid),
				"drop --platform, or pass --platform "+p.Platform)
		}
		return []PlatformInfo{p}, nil
	}
	entries, attestations := splitIndex(m)
	if len(entries) == 0 {
		return nil, fmt.Errorf("index %s lists no image: %w", d.Digest, registry.ErrUnsupported)
	}
	if platform != "" {
		var err error
		entries, err = selectPlatform(entries, platform)
		if err != nil {
			return nil, err
		}
	}
	out := make([]PlatformInfo, len(entries))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(orDefault(r.jobs, defaultInspectJobs))
	for i, e := range entries {
		g.Go(func() error {
			craw, cd, err := r.images.Manifest(gctx, r.ref(e.Digest))
			if err != nil {
				return err
			}
			cm, err := parseManifest(craw)
			if err != nil {
				return fmt.Errorf("manifest %s: %w", e.Digest, err)
			}
			if isIndexType(cd.MediaType, cm) {
				return fmt.Errorf("index %s nests index %s: %w", d.Digest, e.Digest, registry.ErrUnsupported)
			}
			p, err := r.image(gctx, e.Digest, cm, m.Annotations, attestations[e.Digest], n)
			if err != nil {
				return err
			}
			if ep := e.platform(); ep != "" {
				p.Platform = ep // the index says which platform the entry serves
			}
			out[i] = p
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// image describes one image manifest (digest, parsed m): its config, then
// the values, then the provenance when still needed.
func (r reader) image(ctx context.Context, digest string, m *ociManifest, indexAnn map[string]string, attestation string, n need) (PlatformInfo, error) {
	if m.Config == nil {
		return PlatformInfo{}, fmt.Errorf("manifest %s has no config: %w", digest, registry.ErrUnsupported)
	}
	cfgRaw, err := r.images.Blob(ctx, r.ref(m.Config.Digest))
	if err != nil {
		return PlatformInfo{}, err
	}
	var cfg struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
		Created      string `json:"created"`
		Config       struct {
			Labels map[string]string `json:"Labels"`
		} `json:"config"`
	}
	if err := json.Unmarshal(cfgRaw, &cfg); err != nil {
		return PlatformInfo{}, fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	p := PlatformInfo{
		Platform:    platformString(cfg.OS, cfg.Architecture, cfg.Variant),
		Digest:      digest,
		From:        map[string]Origin{},
		Labels:      orEmpty(cfg.Config.Labels),
		Annotations: orEmpty(m.Annotations),
	}
	for _, k := range valueKeys {
		for _, src := range []struct {
			values map[string]string
			origin Origin
		}{
			{cfg.Config.Labels, OriginLabel},
			{m.Annotations, OriginManifestAnnotation},
			{indexAnn, OriginIndexAnnotation},
		} {
			if v := strings.TrimSpace(src.values[ociPrefix+k]); v != "" {
				*p.field(k) = v
				p.From[k] = src.origin
				break
			}
		}
	}
	if p.Created == "" && cfg.Created != "" {
		p.Created, p.From[KeyCreated] = cfg.Created, OriginConfig
	}
	missing := p.Revision == "" || (n == needAll && p.Source == "")
	if missing && attestation != "" {
		rev, src, err := r.provenance(ctx, attestation)
		if err != nil {
			return PlatformInfo{}, fmt.Errorf("reading the provenance of %s: %w", digest, err)
		}
		if p.Revision == "" && rev != "" {
			p.Revision, p.From[KeyRevision] = rev, OriginProvenance
		}
		if p.Source == "" && src != "" {
			p.Source, p.From[KeySource] = src, OriginProvenance
		}
	}
	p.Revision, p.Dirty = normalizeRevision(p.Revision)
	p.Source = gitinfo.StripUserinfo(p.Source)
	return p, nil
}

// normalizeRevision lower-cases a hexadecimal revision and takes buildx's
// "-dirty" suffix (BUILDX_GIT_CHECK_DIRTY) off it. Anything else is kept
// as written.
func normalizeRevision(rev string) (string, bool) {
	l := strings.ToLower(rev)
	if c, ok := strings.CutSuffix(l, "-dirty"); ok && c != "" && isHex(c) {
		return c, true
	}
	if l != "" && isHex(l) {
		return l, false
	}
	return rev, false
}

// buildkitMetadata is the key of BuildKit's metadata in SLSA v0.2
// provenance.
const buildkitMetadata = "https://mobyproject.org/buildkit@v1#metadata"

// provenance reads vcs.revision and vcs.source from the SLSA provenance
// layers of a BuildKit attestation manifest.
func (r reader) provenance(ctx context.Context, attestation string) (revision, source string, err error) {
	raw, _, err := r.images.Manifest(ctx, r.ref(attestation))
	if err != nil {
		return "", "", err
	}
	m, err := parseManifest(raw)
	if err != nil {
		return "", "", err
	}
	for _, l := range m.Layers {
		if !strings.HasPrefix(l.Annotations["in-toto.io/predicate-type"], "https://slsa.dev/provenance/") {
			continue
		}
		b, err := r.images.Blob(ctx, r.ref(l.Digest))
		if err != nil {
			return "", "", err
		}
		rev, src := provenanceVCS(b)
		if rev != "" || src != "" {
			return rev, src, nil
		}
	}
	return "", "", nil
}

// provenanceVCS reads BuildKit's vcs metadata from an in-toto statement:
// predicate.metadata[buildkit].vcs (SLSA v0.2) or
// predicate.runDetails.metadata.buildkit_metadata.vcs (SLSA v1). A
// statement in neither shape has none.
func provenanceVCS(statement []byte) (revision, source string) {
	var st struct {
		Predicate struct {
			Metadata   map[string]json.RawMessage `json:"metadata"`
			RunDetails struct {
				Metadata struct {
					Buildkit struct {
						VCS map[string]any `json:"vcs"`
					} `json:"buildkit_metadata"`
				} `json:"metadata"`
			} `json:"runDetails"`
		} `json:"predicate"`
	}
	if json.Unmarshal(statement, &st) != nil {
		return "", ""
	}
	vcs := st.Predicate.RunDetails.Metadata.Buildkit.VCS
	if raw, ok := st.Predicate.Metadata[buildkitMetadata]; ok {
		var v02 struct {
			VCS map[string]any `json:"vcs"`
		}
		if json.Unmarshal(raw, &v02) == nil && len(v02.VCS) > 0 {
			vcs = v02.VCS
		}
	}
	rev, _ := vcs["revision"].(string)
	src, _ := vcs["source"].(string)
	return strings.TrimSpace(rev), strings.TrimSpace(src)
}

// ociManifest is what provenance reads from a manifest or an index.
type ociManifest struct {
	MediaType   string            `json:"mediaType"`
	Config      *ociDescriptor    `json:"config"`
	Layers      []ociDescriptor   `json:"layers"`
	Manifests   []ociDescriptor   `json:"manifests"`
	Annotations map[string]string `json:"annotations"`
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Annotations map[string]string `json:"annotations"`
	Platform    *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	} `json:"platform"`
}

func (e ociDescriptor) platform() string {
	if e.Platform == nil {
		return ""
	}
	return platformString(e.Platform.OS, e.Platform.Architecture, e.Platform.Variant)
}

func parseManifest(raw []byte) (*ociManifest, error) {
	var m ociManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	return &m, nil
}

func isIndexType(mediaType string, m *ociManifest) bool {
	switch mediaType {
	case "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json":
		return true
	}
	return m.Config == nil && m.Manifests != nil
}

// splitIndex separates an index's images from BuildKit's attestation
// manifests, which it maps by the digest of the image they describe.
func splitIndex(m *ociManifest) ([]ociDescriptor, map[string]string) {
	var images []ociDescriptor
	att := map[string]string{}
	for _, e := range m.Manifests {
		isAtt := e.Annotations["vnd.docker.reference.type"] == "attestation-manifest"
		if isAtt {
			if subject := e.Annotations["vnd.docker.reference.digest"]; subject != "" {
				att[subject] = e.Digest
			}
			continue
		}
		if e.Platform != nil && e.Platform.OS == "unknown" && e.Platform.Architecture == "unknown" {
			continue // an attestation without the annotations: nothing to map
		}
		images = append(images, e)
	}
	return images, att
}

// selectPlatform picks the entry of platform ("os/arch" matches any
// variant when only one has that os/arch).
func selectPlatform(entries []ociDescriptor, platform string) ([]ociDescriptor, error) {
	var exact, loose []ociDescriptor
	var all []string
	for _, e := range entries {
		p := e.platform()
		all = append(all, p)
		switch {
		case p == platform:
			exact = append(exact, e)
		case platformMatches(platform, p):
			loose = append(loose, e)
		}
	}
	switch {
	case len(exact) > 0:
		return exact[:1], nil
	case len(loose) == 1:
		return loose, nil
	case len(loose) > 1:
		return nil, WithHint(fmt.Errorf("--platform %s matches several images (%s): %w", platform, strings.Join(platformsOf(loose), ", "), ErrInvalid),
			"name the variant, e.g. --platform "+loose[0].platform())
	}
	return nil, WithHint(fmt.Errorf("the image has no %s platform (it has %s): %w", platform, strings.Join(all, ", "), ErrInvalid),
		"pass one of the platforms the image has to --platform")
}

func platformsOf(es []ociDescriptor) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.platform())
	}
	return out
}

// platformMatches reports whether want ("os/arch[/variant]") names have.
// A want without variant matches any variant of its os/arch.
func platformMatches(want, have string) bool {
	if want == have {
		return true
	}
	w := strings.Split(want, "/")
	h := strings.Split(have, "/")
	return len(w) == 2 && len(h) == 3 && w[0] == h[0] && w[1] == h[1]
}

func platformString(os, arch, variant string) string {
	if os == "" && arch == "" {
		return ""
	}
	s := os + "/" + arch
	if variant != "" {
		s += "/" + variant
	}
	return s
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
