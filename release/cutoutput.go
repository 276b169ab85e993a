package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Digest is the digest of the first image that has one ("" when nothing
// was pushed): what CI steps after the cut deploy.
func (r *CutResult) Digest() string {
	for _, img := range r.Images {
		if img.Digest != "" {
			return img.Digest
		}
	}
	return ""
}

// imageRef is how one image of the result is named: repository@digest
// after a push, repository:exact-tag for a local build, "" when nothing
// was built.
func (r *CutResult) imageRef(img ImageResult) string {
	switch {
	case img.Digest != "":
		return img.Repository + "@" + img.Digest
	case len(img.Tags) > 0 && r.Action != ActionNone && !r.DryRun:
		return img.Repository + ":" + img.Tags[0]
	}
	return ""
}

// outputs are the values a cut hands to the rest of a CI job, in order.
func (r *CutResult) outputs() [][2]string {
	image := ""
	if len(r.Images) > 0 {
		image = r.imageRef(r.Images[0])
	}
	return [][2]string{
		{"action", string(r.Action)},
		{"version", r.Version},
		{"tag", r.Tag},
		{"commit", r.Commit},
		{"digest", r.Digest()},
		{"image", image},
	}
}

// GitHubOutput renders the result for $GITHUB_OUTPUT: action, version, tag,
// commit, digest and image (the first image's), images (a one-line JSON
// array of {repository, tags, digest}) and changelog. Values that may hold
// a line break use GitHub's delimiter form (name<<DELIM … DELIM) with a
// delimiter that does not occur in the value; the rest are name=value.
func (r *CutResult) GitHubOutput() string {
	var b strings.Builder
	for _, kv := range r.outputs() {
		writeGitHubOutput(&b, kv[0], kv[1])
	}
	type image struct {
		Repository string   `json:"repository"`
		Tags       []string `json:"tags"`
		Digest     string   `json:"digest"`
	}
	images := []image{}
	for _, img := range r.Images {
		images = append(images, image{Repository: img.Repository, Tags: img.Tags, Digest: img.Digest})
	}
	js, _ := json.Marshal(images) // strings and slices only: cannot fail
	writeGitHubOutput(&b, "images", string(js))
	writeGitHubOutput(&b, "changelog", r.Changelog)
	return b.String()
}

func writeGitHubOutput(b *strings.Builder, name, value string) {
	if !strings.ContainsAny(value, "\r\n") {
		fmt.Fprintf(b, "%s=%s\n", name, value)
		return
	}
	// The delimiter is derived from the value (stable output, testable
	// lines) and lengthened until it occurs nowhere in the value.
	sum := sha256.Sum256([]byte(value))
	delim := "RELEASE_EOF_" + hex.EncodeToString(sum[:8])
	for strings.Contains(value, delim) {
		delim += "_"
	}
	fmt.Fprintf(b, "%s<<%s\n%s\n%s\n", name, delim, strings.TrimRight(value, "\n"), delim)
}

// DotEnv renders the result as a dotenv file for GitLab's
// artifacts:reports:dotenv: RELEASE_ACTION, RELEASE_VERSION, RELEASE_TAG,
// RELEASE_COMMIT, RELEASE_DIGEST and RELEASE_IMAGE (the first image's),
// and RELEASE_IMAGE_<n>, RELEASE_DIGEST_<n> for every image (1-based, in
// --image order). The changelog is left out: dotenv values are one line.
func (r *CutResult) DotEnv() string {
	var b strings.Builder
	for _, kv := range r.outputs() {
		fmt.Fprintf(&b, "RELEASE_%s=%s\n", strings.ToUpper(kv[0]), kv[1])
	}
	for i, img := range r.Images {
		fmt.Fprintf(&b, "RELEASE_IMAGE_%d=%s\n", i+1, r.imageRef(img))
		fmt.Fprintf(&b, "RELEASE_DIGEST_%d=%s\n", i+1, img.Digest)
	}
	return b.String()
}

// report: the outputs for the rest of the CI job. $GITHUB_OUTPUT is
// appended to (other steps write there too); the dotenv file is replaced.
func (c *cutRun) report(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	r := c.res
	summary := fmt.Sprintf("%s %s (tag %s)", r.Action, r.Version, r.Tag)
	if d := r.Digest(); d != "" {
		summary += " " + d
	}
	var files []string
	if c.opts.GitHubOutput != "" {
		files = append(files, "$GITHUB_OUTPUT ("+c.opts.GitHubOutput+")")
	}
	if c.opts.DotEnv != "" {
		files = append(files, c.opts.DotEnv)
	}
	if len(files) == 0 {
		return summary, nil
	}
	if c.opts.DryRun {
		return fmt.Sprintf("%s; would write %s", summary, strings.Join(files, " and ")), nil
	}
	if path := c.opts.GitHubOutput; path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return "", fmt.Errorf("writing GITHUB_OUTPUT: %w", err)
		}
		_, err = f.WriteString(r.GitHubOutput())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("writing GITHUB_OUTPUT: %w", err)
		}
	}
	if path := c.opts.DotEnv; path != "" {
		if err := os.WriteFile(path, []byte(r.DotEnv()), 0o644); err != nil {
			return "", fmt.Errorf("writing the dotenv file: %w", err)
		}
	}
	return fmt.Sprintf("%s; wrote %s", summary, strings.Join(files, " and ")), nil
}
