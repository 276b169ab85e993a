package release

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Builder is how an image is built: docker buildx build, or the classic
// docker build followed by one docker push per tag.
type Builder string

// The builders. BuilderAuto picks buildx when `docker buildx version` works.
const (
	BuilderAuto    Builder = "auto"
	BuilderBuildx  Builder = "buildx"
	BuilderClassic Builder = "classic"
)

// ParseBuilder reads --builder.
func ParseBuilder(s string) (Builder, error) {
	switch b := Builder(strings.ToLower(strings.TrimSpace(s))); b {
	case "", BuilderAuto:
		return BuilderAuto, nil
	case BuilderBuildx, BuilderClassic:
		return b, nil
	}
	return "", fmt.Errorf("builder %q: want auto, buildx or classic: %w", s, ErrInvalid)
}

// KV is one label or build argument. Order matters in argument lists, so
// they travel as slices, not maps.
type KV struct {
	Key, Value string
}

// ParseKV reads a K=V flag value (--label, --build-arg). The key must not be
// empty; the value may be (an empty label clears an inherited one).
func ParseKV(s string) (KV, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return KV{}, fmt.Errorf("%q: want KEY=VALUE: %w", s, ErrInvalid)
	}
	return KV{Key: k, Value: v}, nil
}

// The OCI image-spec predefined annotation keys, used as labels.
const (
	LabelCreated       = "org.opencontainers.image.created"
	LabelAuthors       = "org.opencontainers.image.authors"
	LabelURL           = "org.opencontainers.image.url"
	LabelDocumentation = "org.opencontainers.image.documentation"
	LabelSource        = "org.opencontainers.image.source"
	LabelVersion       = "org.opencontainers.image.version"
	LabelRevision      = "org.opencontainers.image.revision"
	LabelVendor        = "org.opencontainers.image.vendor"
	LabelLicenses      = "org.opencontainers.image.licenses"
	LabelTitle         = "org.opencontainers.image.title"
	LabelDescription   = "org.opencontainers.image.description"
	LabelBaseName      = "org.opencontainers.image.base.name"
	LabelBaseDigest    = "org.opencontainers.image.base.digest"
)

// ImageMeta is what the labels and build arguments of one build say.
type ImageMeta struct {
	// Version is the semver version, build metadata included.
	Version string
	// PEP440 is its PEP 440 spelling, "" when it has none.
	PEP440 string
	// Revision is the full commit hash.
	Revision string
	// Source is the browse URL of the repository ("" when unknown).
	Source string
	// Created is the commit time: a rebuild of the same commit gives the
	// same label, and SOURCE_DATE_EPOCH makes the rest of the image
	// reproducible where the builder honours it.
	Created time.Time
	// Project holds the pyproject.toml fields (zero without one).
	Project Project
	// BaseName is the final stage's base image; "" with Scratch for
	// scratch, "" alone when it could not be resolved.
	BaseName string
	Scratch  bool
	// Vendor is --vendor.
	Vendor string
}

// Labels is the label set of an image: every OCI predefined key release
// knows a value for, and the keys it does not know set empty, because a
// label not set is inherited from the base image (a base's version, source
// or description would otherwise describe our image). User labels come last
// and win over ours. The result is sorted by key, so the argument list is
// stable.
func Labels(m ImageMeta, user []KV) []KV {
	source := m.Source
	if source == "" {
		source = m.Project.Source
	}
	set := map[string]string{
		LabelVersion:       m.Version,
		LabelRevision:      m.Revision,
		LabelSource:        source,
		LabelCreated:       m.Created.UTC().Format(time.RFC3339),
		LabelTitle:         m.Project.Name,
		LabelDescription:   m.Project.Description,
		LabelLicenses:      m.Project.License,
		LabelURL:           m.Project.Homepage,
		LabelDocumentation: m.Project.Documentation,
		LabelAuthors:       m.Project.Authors,
		LabelVendor:        m.Vendor,
	}
	if m.Created.IsZero() {
		set[LabelCreated] = ""
	}
	if !m.Scratch {
		// Only a base image can pass these on; release does not resolve
		// the base's digest, so it clears the key rather than let the
		// base's own (about its base) leak through.
		set[LabelBaseName] = m.BaseName
		set[LabelBaseDigest] = ""
	}
	for _, kv := range user {
		set[kv.Key] = kv.Value
	}
	return sortedKV(set)
}

// BuildArgs is the build arguments of an image: RELEASE_VERSION (semver),
// RELEASE_VERSION_PEP440, RELEASE_REVISION, SOURCE_DATE_EPOCH and, when the
// project names its distribution, SETUPTOOLS_SCM_PRETEND_VERSION_FOR_<DIST>
// (with the PEP 440 version, which is what setuptools-scm expects). User
// --build-arg values come last and win.
func BuildArgs(m ImageMeta, user []KV) []KV {
	set := map[string]string{
		"RELEASE_VERSION":  m.Version,
		"RELEASE_REVISION": m.Revision,
	}
	if m.PEP440 != "" {
		set["RELEASE_VERSION_PEP440"] = m.PEP440
		if name := PretendVersionArg(m.Project.Name); name != "" {
			set[name] = m.PEP440
		}
	}
	if !m.Created.IsZero() {
		set["SOURCE_DATE_EPOCH"] = strconv.FormatInt(m.Created.Unix(), 10)
	}
	for _, kv := range user {
		set[kv.Key] = kv.Value
	}
	return sortedKV(set)
}

func sortedKV(m map[string]string) []KV {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]KV, len(keys))
	for i, k := range keys {
		out[i] = KV{Key: k, Value: m[k]}
	}
	return out
}

// DockerRequest is one image build as docker sees it.
type DockerRequest struct {
	// Builder is BuilderBuildx or BuilderClassic (auto resolved already).
	Builder Builder
	// Context is the build context directory.
	Context string
	// Dockerfile is --file; "" leaves docker's default (Context/Dockerfile).
	Dockerfile string
	// Tags are full references (repository:tag), exact tags first and
	// floating tags last: the classic builder pushes them in this order.
	Tags []string
	// Platforms is --platform; several only with buildx.
	Platforms []string
	// Network is the network of RUN steps (--network: "host", "none");
	// "" leaves docker's default.
	Network string
	// Labels and BuildArgs, each passed as its own argument.
	Labels    []KV
	BuildArgs []KV
	// Push the tags (buildx: --push in the build; classic: docker push per
	// tag after the build). Without it the image is loaded into the local
	// image store (buildx --load, classic always).
	Push bool
	// Provenance is buildx's --provenance: "" means false (a plain manifest
	// for a single platform, see docs/build.md), else mode=min or mode=max.
	Provenance string
	// IIDFile (classic) receives the built image's ID, for the log. The
	// digest of a pushed image is always read back from the registry, so
	// nothing else of docker's report is asked for.
	IIDFile string
}

// DockerCommands turns a request into the docker invocations that carry it
// out, each an argument list without the binary: one buildx build, or a
// classic build followed by one push per tag. Every label and build argument
// is one argument of its own, so values with spaces, quotes or '#' arrive
// intact: nothing goes through a shell.
func DockerCommands(r DockerRequest) ([][]string, error) {
	if r.Context == "" {
		return nil, fmt.Errorf("build context: empty directory: %w", ErrInvalid)
	}
	if len(r.Tags) == 0 {
		return nil, fmt.Errorf("image tags: none to build: %w", ErrInvalid)
	}
	var a []string
	switch r.Builder {
	case BuilderBuildx:
		a = []string{"buildx", "build"}
	case BuilderClassic:
		if len(r.Platforms) > 1 {
			return nil, WithHint(fmt.Errorf("platforms %s: the classic builder builds one platform: %w", strings.Join(r.Platforms, ","), ErrInvalid),
				"install the docker buildx plugin, or pass one --platform")
		}
		if r.Provenance != "" {
			return nil, fmt.Errorf("provenance: the classic builder cannot attach attestations: %w", ErrInvalid)
		}
		a = []string{"build"}
	default:
		return nil, fmt.Errorf("builder %q: %w", r.Builder, ErrInvalid)
	}
	if r.Dockerfile != "" {
		a = append(a, "--file", r.Dockerfile)
	}
	if len(r.Platforms) > 0 {
		a = append(a, "--platform", strings.Join(r.Platforms, ","))
	}
	if r.Network != "" {
		a = append(a, "--network", r.Network)
	}
	for _, t := range r.Tags {
		a = append(a, "--tag", t)
	}
	for _, l := range r.Labels {
		a = append(a, "--label", l.Key+"="+l.Value)
	}
	for _, b := range r.BuildArgs {
		a = append(a, "--build-arg", b.Key+"="+b.Value)
	}
	if r.Builder == BuilderClassic {
		if r.IIDFile != "" {
			a = append(a, "--iidfile", r.IIDFile)
		}
		a = append(a, r.Context)
		cmds := [][]string{a}
		if r.Push {
			for _, t := range r.Tags {
				cmds = append(cmds, []string{"push", t})
			}
		}
		return cmds, nil
	}
	switch r.Provenance {
	case "":
		a = append(a, "--provenance=false")
	case "min", "max":
		a = append(a, "--provenance=mode="+r.Provenance)
	default:
		return nil, fmt.Errorf("provenance %q: want min or max: %w", r.Provenance, ErrInvalid)
	}
	switch {
	case r.Push:
		a = append(a, "--push")
	case len(r.Platforms) <= 1:
		a = append(a, "--load")
	default:
		// The local image store of the docker driver holds one platform;
		// a multi-platform build without --push stays in the build cache.
	}
	a = append(a, r.Context)
	return [][]string{a}, nil
}

// ShellQuote renders an argument list for a person to read or paste into a
// POSIX shell (--dry-run). It is never executed by release itself.
func ShellQuote(args []string) string {
	out := make([]string, len(args))
	for i, s := range args {
		out[i] = shellQuoteOne(s)
	}
	return strings.Join(out, " ")
}

func shellQuoteOne(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
