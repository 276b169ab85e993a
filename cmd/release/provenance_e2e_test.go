package main

// End-to-end checks of release inspect, find and diff as a user runs them
// against the test environment's registries: exit codes and the one error
// line of each failure. The lookups themselves are tested end to end in
// package release (provenance_e2e_test.go).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/releasetool/release/gitinfo/gitinfotest"
	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/registry/registrytest"
	"github.com/releasetool/release/release/releasetest"
)

type provenanceEnv struct {
	plain, tls, ca, user, password string
}

func provenanceTestEnv(t *testing.T) provenanceEnv {
	t.Helper()
	e := releasetest.Env(t)
	return provenanceEnv{plain: e.Registry(), tls: e.RegistryTLS(), ca: e.RegistryCA(), user: e.RegistryUser(), password: e.RegistryPassword()}
}

// dockerConfig writes a DOCKER_CONFIG directory, with the TLS registry's
// credentials when withAuth.
func (e provenanceEnv) dockerConfig(t *testing.T, withAuth bool) string {
	t.Helper()
	dir := t.TempDir()
	cfg := `{"auths":{}}`
	if withAuth {
		cfg = fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q}}}`, e.tls, e.user, e.password)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestE2EProvenanceCommands(t *testing.T) {
	e := provenanceTestEnv(t)
	rev := strings.Repeat("5e", 20)
	mem := registrytest.New(t)
	img := registrytest.NewImage(registrytest.ImageSpec{Seed: 77, Layers: 1, LayerSize: 32, Labels: map[string]string{
		"org.opencontainers.image.revision": rev, "org.opencontainers.image.version": "1.2.3",
	}})
	mem.PushImage(t, "app", "1.2.3", img)
	// An image that names no revision anywhere.
	bare := registrytest.NewImage(registrytest.ImageSpec{Seed: 78, Layers: 1, LayerSize: 32, Labels: map[string]string{"maintainer": "ops"}})
	mem.PushImage(t, "app", "bare", bare)
	authed := e.dockerConfig(t, true)
	c, err := registry.New(registry.WithCAFile(e.ca), registry.WithKeychain(registry.DockerConfigKeychain(authed)))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	for i := range b {
		b[i] = byte(time.Now().UnixNano() >> (8 * i))
	}
	repo := fmt.Sprintf("%s/e2e/provenance-cli-%x", e.tls, b)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := c.Copy(ctx, mem.Host+"/app:1.2.3", repo, registry.CopyOptions{Tags: []string{"sha-" + rev[:12]}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Copy(ctx, mem.Host+"/app:bare", repo, registry.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	anonymous := e.dockerConfig(t, false)
	// diff's clone: it has none of the images' commits, and its one
	// remote is not called origin.
	clone := gitinfotest.New(t)
	clone.Commit("feat: first", gitinfotest.File("a", "1"))
	clone.AddRemote("upstream", "https://git.example.com/team/app")
	diff := func(old, new string) []string {
		return []string{"diff", old, new, "--git", clone.Dir, "--ca-file", e.ca}
	}

	tests := []struct {
		name         string
		dockerConfig string
		args         []string
		code         int
		stdout       string // a substring of stdout
		stderr       string // a substring of the error line
		hint         string
	}{
		{name: "inspect", dockerConfig: authed, args: []string{"inspect", repo + ":1.2.3", "--ca-file", e.ca, "--format", "{{.Revision}} {{.Version}} {{.Digest}}"},
			stdout: rev + " 1.2.3 " + img.Digest + "\n"},
		{name: "find", dockerConfig: authed, args: []string{"find", repo, "--commit", rev[:9], "--ca-file", e.ca},
			stdout: "sha-" + rev[:12] + "  " + img.Digest + "  1.2.3\n"},
		{name: "bad reference", dockerConfig: authed, args: []string{"inspect", e.tls + "/Bad/Name:1", "--ca-file", e.ca},
			code: exitUsage, stderr: `reference "` + e.tls + `/Bad/Name:1"`},
		{name: "unknown repository, inspect", dockerConfig: authed, args: []string{"inspect", repo + "-none:1.2.3", "--ca-file", e.ca},
			code: exitFailure, stderr: "MANIFEST_UNKNOWN"},
		{name: "unknown repository, find", dockerConfig: authed, args: []string{"find", repo + "-none", "--commit", rev, "--ca-file", e.ca},
			code: exitFailure, stderr: "has no image tags (it is unknown or empty)"},
		{name: "unauthorised", dockerConfig: anonymous, args: []string{"inspect", repo + ":1.2.3", "--ca-file", e.ca},
			code: exitFailure, stderr: "requires credentials (HTTP 401)", hint: "docker login " + e.tls},
		{name: "untrusted certificate", dockerConfig: authed, args: []string{"find", repo, "--commit", rev},
			code: exitFailure, stderr: "certificate signed by an unknown authority", hint: "--ca-file"},
		{name: "no revision", dockerConfig: authed, args: []string{"inspect", repo + ":bare", "--ca-file", e.ca},
			code: exitFailure, stderr: repo + ":bare has no org.opencontainers.image.revision label or annotation and no BuildKit provenance",
			hint: "build images with `release build`"},
		{name: "diff, bad reference", dockerConfig: authed, args: diff(e.tls+"/Bad/Name:1", repo+":1.2.3"),
			code: exitUsage, stderr: `reference "` + e.tls + `/Bad/Name:1"`},
		{name: "diff, unknown repository", dockerConfig: authed, args: diff(repo+"-none:1.2.3", repo+":1.2.3"),
			code: exitFailure, stderr: "MANIFEST_UNKNOWN", hint: "check the reference"},
		{name: "diff, unauthorised", dockerConfig: anonymous, args: diff(repo+":sha-"+rev[:12], repo+":1.2.3"),
			code: exitFailure, stderr: "(HTTP 401)", hint: "docker login " + e.tls},
		{name: "diff, no revision", dockerConfig: authed, args: diff(repo+":bare", repo+":1.2.3"),
			code: exitFailure, stderr: repo + ":bare has no org.opencontainers.image.revision", hint: "build images with `release build`"},
		{name: "diff, commit not in the clone", dockerConfig: authed, args: diff(repo+":sha-"+rev[:12], repo+":1.2.3"),
			code: exitHistory, stderr: "commit " + rev + " is not in the local clone", hint: "git fetch upstream " + rev},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, t.Context(), cliEnv{dockerConfig: tt.dockerConfig}, tt.args...)
			code, stdout, stderr := r.code, r.stdout, r.stderr
			if code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout %q, want %q in it", stdout, tt.stdout)
			}
			if tt.code == 0 {
				return
			}
			if stdout != "" {
				t.Errorf("stdout %q on failure, want nothing", stdout)
			}
			if n := strings.Count(stderr, "release: error: "); n != 1 || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr:\n%s\nwant one error line saying %q", stderr, tt.stderr)
			}
			_, hint, _ := strings.Cut(stderr, "release: hint: ")
			if !strings.Contains(hint, tt.hint) {
				t.Errorf("stderr:\n%s\nwant a hint with %q", stderr, tt.hint)
			}
			if strings.Contains(stderr, e.password) {
				t.Errorf("the password reached stderr")
			}
		})
	}
}
