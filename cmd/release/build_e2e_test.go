package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo/gitinfotest"
	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/release/releasetest"
)

// e2eEnv is the real test environment (release/releasetest) and the real
// docker binary.
type e2eEnv struct {
	dockerHost, dockerConfig string
	pythonImage              string
	registry, registryTLS    string
	ca                       string
	buildx                   bool
	// docker is the real docker binary.
	docker string
}

func newE2EEnv(t *testing.T) e2eEnv {
	t.Helper()
	env := releasetest.Env(t)
	return e2eEnv{
		dockerHost:   env.DockerHost(),
		dockerConfig: env.DockerConfig(),
		pythonImage:  env.PythonImage(),
		registry:     env.Registry(),
		registryTLS:  env.RegistryTLS(),
		ca:           env.RegistryCA(),
		buildx:       env.Buildx(),
		docker:       realDocker(t),
	}
}

// realDocker finds the docker binary on PATH that is not this test binary:
// testscript.Main puts the fake docker first on the process's PATH.
func realDocker(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Stat(exe)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, "docker")
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 || os.SameFile(fi, self) {
			continue
		}
		return p
	}
	gitinfotest.Missing(t, "no docker binary on PATH")
	return ""
}

// requireBuildx skips a buildx test when the environment has no working
// buildx plugin (RELEASE_TEST_BUILDX=0), and fails it under CI: scripts/testenv
// falls back to the classic builder when the plugin does not build, and a
// pipeline must not go green without ever running buildx.
func requireBuildx(t *testing.T, e e2eEnv) {
	t.Helper()
	if e.buildx {
		return
	}
	gitinfotest.Missing(t, releasetest.VarBuildx+"=0: docker buildx is not available in the test environment")
}

const e2eToken = "glpat-e2eSecretToken42"

// e2eRepo makes a repository of the sample app (testdata/pythonapp) with a
// remote URL carrying a token.
func e2eRepo(t *testing.T) *gitinfotest.Repo {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "pythonapp")
	var files []gitinfotest.Option
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "__pycache__" {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		files = append(files, gitinfotest.File(filepath.ToSlash(rel), string(b)))
		return nil
	})
	if err != nil {
		t.Fatalf("reading the sample app: %v", err)
	}
	r := gitinfotest.New(t)
	r.Commit("feat: the sample service", append(files, gitinfotest.At(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)))...)
	r.AddRemote("origin", "https://ci:"+e2eToken+"@git.example.org/org/release-sample-app.git")
	return r
}

// appVersion is what the sample app's GET /version answers.
type appVersion struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	ReleaseVersion string `json:"release_version"`
	Revision       string `json:"revision"`
}

type buildJSON struct {
	Version  string `json:"version"`
	Revision string `json:"revision"`
	Images   []struct {
		Repository string   `json:"repository"`
		Tags       []string `json:"tags"`
		Digest     string   `json:"digest"`
		Existing   bool     `json:"existing"`
	} `json:"images"`
	Labels map[string]string `json:"labels"`
}

// e2eRun runs release in-process against the real engine. The local tags
// of what it builds are removed when the test ends (the registries keep
// theirs: each test pushes to repositories of its own).
func e2eRun(t *testing.T, e e2eEnv, dir string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("DOCKER_HOST", e.dockerHost)
	if e.dockerConfig != "" {
		t.Setenv("DOCKER_CONFIG", e.dockerConfig)
	}
	code, out, errOut := runWith(t, dir, nil, args...)
	var res buildJSON
	if code == 0 && json.Unmarshal([]byte(out), &res) == nil {
		var refs []string
		for _, img := range res.Images {
			for _, tag := range img.Tags {
				refs = append(refs, img.Repository+":"+tag)
			}
		}
		if len(refs) > 0 {
			t.Cleanup(func() {
				rmi := exec.Command(e.docker, append([]string{"rmi", "--force"}, refs...)...)
				rmi.Env = append(os.Environ(), "DOCKER_HOST="+e.dockerHost, "DOCKER_CONFIG="+e.dockerConfig)
				rmi.Run() // best effort: an image that was never loaded has no local tag
			})
		}
	}
	for _, s := range []string{out, errOut} {
		if strings.Contains(s, e2eToken) {
			t.Errorf("the remote's token reached the output:\n%s", s)
		}
	}
	return code, out, errOut
}

func TestBuildE2E(t *testing.T) {
	e := newE2EEnv(t)
	for _, builder := range []string{"classic", "buildx"} {
		t.Run(builder, func(t *testing.T) {
			switch builder {
			case "classic":
				// The legacy builder itself, as on a machine without
				// the buildx plugin (docker build would otherwise be
				// buildx's alias).
				t.Setenv("DOCKER_BUILDKIT", "0")
			case "buildx":
				requireBuildx(t, e)
			}
			testBuildE2E(t, e, builder)
		})
	}
}

func testBuildE2E(t *testing.T, e e2eEnv, builder string) {
	ctx := t.Context()
	r := e2eRepo(t)
	head := r.Resolve("HEAD")
	r.Tag("v1.3.0", head)
	// A repository per run, so runs never see each other's tags.
	repo := fmt.Sprintf("%s/e2e/%s-%d", e.registry, builder, time.Now().UnixNano())
	common := []string{"--docker", e.docker, "--builder", builder, "--network", "host", "--build-arg", "PYTHON_IMAGE=" + e.pythonImage, "--json"}
	client, err := registry.New(registry.WithCAFile(e.ca))
	if err != nil {
		t.Fatal(err)
	}

	// v1.3.0 (HEAD tagged): build, push, every tag of the policy.
	code, out, errOut := e2eRun(t, e, r.Dir, append([]string{"build", "--image", repo, "--push"}, common...)...)
	if code != 0 {
		t.Fatalf("release build exited %d:\n%s", code, errOut)
	}
	var res buildJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	wantTags := []string{"1.3.0", "sha-" + head[:12], "1.3", "1", "latest"}
	if diff := cmp.Diff(wantTags, res.Images[0].Tags); diff != "" {
		t.Errorf("tags mismatch (-want +got):\n%s", diff)
	}
	registryTags, err := client.Tags(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(wantTags)), slices.Sorted(slices.Values(registryTags))); diff != "" {
		t.Errorf("the registry's tags differ from the policy's (-want +got):\n%s", diff)
	}
	for _, tag := range wantTags {
		d, err := client.Resolve(ctx, repo+":"+tag)
		if err != nil {
			t.Fatal(err)
		}
		if d.Digest != res.Images[0].Digest {
			t.Errorf("%s:%s is %s in the registry, --json said %s", repo, tag, d.Digest, res.Images[0].Digest)
		}
	}

	// The labels, from the config blob in the registry.
	labels := configLabels(t, client, repo+"@"+res.Images[0].Digest)
	want := map[string]string{
		"org.opencontainers.image.version":       "1.3.0",
		"org.opencontainers.image.revision":      head,
		"org.opencontainers.image.source":        "https://git.example.org/org/release-sample-app",
		"org.opencontainers.image.created":       "2024-03-01T12:00:00Z",
		"org.opencontainers.image.title":         "release-sample-app",
		"org.opencontainers.image.description":   "A small web service that reports the version it was built with",
		"org.opencontainers.image.licenses":      "Apache-2.0",
		"org.opencontainers.image.url":           "https://example.com/release-sample-app",
		"org.opencontainers.image.documentation": "https://example.com/release-sample-app/docs",
		"org.opencontainers.image.authors":       "Release Maintainers <maintainers@example.com>",
		"org.opencontainers.image.base.name":     e.pythonImage,
	}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, labels[k], v)
		}
	}
	for k, v := range labels {
		if strings.Contains(v, e2eToken) {
			t.Errorf("label %s carries the token: %q", k, v)
		}
	}

	// The container answers the version it was built with.
	wantApp := appVersion{Name: "release-sample-app", Version: "1.3.0", ReleaseVersion: "1.3.0", Revision: head}
	if diff := cmp.Diff(wantApp, getVersion(t, e, repo+"@"+res.Images[0].Digest)); diff != "" {
		t.Errorf("GET /version mismatch (-want +got):\n%s", diff)
	}

	// A rebuild of the same commit (into another repository) has the same
	// created label.
	code, out, errOut = e2eRun(t, e, r.Dir, append([]string{"build", "--image", repo + "-rebuild", "--push"}, common...)...)
	if code != 0 {
		t.Fatalf("rebuild exited %d:\n%s", code, errOut)
	}
	var again buildJSON
	if err := json.Unmarshal([]byte(out), &again); err != nil {
		t.Fatal(err)
	}
	if got := configLabels(t, client, repo+"-rebuild@"+again.Images[0].Digest)["org.opencontainers.image.created"]; got != want["org.opencontainers.image.created"] {
		t.Errorf("rebuild created = %q, want %q", got, want["org.opencontainers.image.created"])
	}

	// A re-run into the same repository builds nothing: the exact tag
	// already holds this commit's image.
	code, out, errOut = e2eRun(t, e, r.Dir, append([]string{"build", "--image", repo, "--push"}, common...)...)
	if code != 0 {
		t.Fatalf("re-run exited %d:\n%s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &again); err != nil {
		t.Fatal(err)
	}
	if !again.Images[0].Existing || again.Images[0].Digest != res.Images[0].Digest {
		t.Errorf("re-run = %+v, want the existing image %s", again.Images[0], res.Images[0].Digest)
	}

	// v2.0.0 on main, then v1.3.1 on the 1.3 line: 1.3.1 1.3 1, no latest.
	r.Commit("feat!: the v2 API", gitinfotest.At(time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)))
	r.Tag("v2.0.0", "HEAD")
	code, _, errOut = e2eRun(t, e, r.Dir, append([]string{"build", "--image", repo, "--push", "--no-sha-tag"}, common...)...)
	if code != 0 {
		t.Fatalf("v2.0.0 exited %d:\n%s", code, errOut)
	}
	r.Branch("mainline")
	r.Branch("release-1.3", "v1.3.0")
	r.Checkout("release-1.3")
	r.Commit("fix: a patch for the 1.3 line", gitinfotest.At(time.Date(2024, 3, 3, 12, 0, 0, 0, time.UTC)))
	code, out, errOut = e2eRun(t, e, r.Dir, append([]string{"build", "--image", repo, "--push", "--no-sha-tag"}, common...)...)
	if code != 0 {
		t.Fatalf("v1.3.1 exited %d:\n%s", code, errOut)
	}
	var patch buildJSON
	if err := json.Unmarshal([]byte(out), &patch); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.3.1", "1.3", "1"}, patch.Images[0].Tags); diff != "" {
		t.Errorf("v1.3.1 tags mismatch (-want +got):\n%s", diff)
	}
	v2, err := client.Resolve(ctx, repo+":2.0.0")
	if err != nil {
		t.Fatal(err)
	}
	// In the registry: 1.3 and 1 moved to the patch, latest stayed on 2.0.0.
	wantDigests(t, client, repo, map[string]string{
		"1.3.1": patch.Images[0].Digest, "1.3": patch.Images[0].Digest, "1": patch.Images[0].Digest,
		"latest": v2.Digest, "2": v2.Digest, "2.0": v2.Digest,
	})
	beforeRC, err := client.Tags(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}

	// v2.1.0-rc.1: its exact tag only.
	r.Checkout("mainline")
	r.Commit("feat: something new", gitinfotest.At(time.Date(2024, 3, 4, 12, 0, 0, 0, time.UTC)))
	code, out, errOut = e2eRun(t, e, r.Dir, append([]string{"build", "--image", repo, "--push", "--no-sha-tag", "--pre", "rc"}, common...)...)
	if code != 0 {
		t.Fatalf("rc exited %d:\n%s", code, errOut)
	}
	var rc buildJSON
	if err := json.Unmarshal([]byte(out), &rc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"2.1.0-rc.1"}, rc.Images[0].Tags); diff != "" {
		t.Errorf("rc tags mismatch (-want +got):\n%s", diff)
	}
	// In the registry: the rc added its exact tag and nothing else moved.
	afterRC, err := client.Tags(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(append(beforeRC, "2.1.0-rc.1"))), slices.Sorted(slices.Values(afterRC))); diff != "" {
		t.Errorf("the rc changed the registry's tag list (-want +got):\n%s", diff)
	}
	wantDigests(t, client, repo, map[string]string{
		"2.1.0-rc.1": rc.Images[0].Digest,
		"latest":     v2.Digest, "2": v2.Digest, "2.0": v2.Digest,
		"1.3": patch.Images[0].Digest, "1": patch.Images[0].Digest,
	})
	if d, err := client.Resolve(ctx, repo+":2.1"); err == nil {
		t.Errorf("%s:2.1 exists (%s) after a prerelease", repo, d.Digest)
	} else if !errors.Is(err, registry.ErrNotFound) {
		t.Fatal(err)
	}
	// The package inside has the PEP 440 spelling of the same version.
	if got := getVersion(t, e, repo+"@"+rc.Images[0].Digest); got.Version != "2.1.0rc1" || got.ReleaseVersion != "2.1.0-rc.1" {
		t.Errorf("GET /version of the rc = %+v, want version 2.1.0rc1, release_version 2.1.0-rc.1", got)
	}
}

// wantDigests checks, in the registry, the digest each tag of repo names.
func wantDigests(t *testing.T, client *registry.Client, repo string, want map[string]string) {
	t.Helper()
	for _, tag := range slices.Sorted(maps.Keys(want)) {
		d, err := client.Resolve(t.Context(), repo+":"+tag)
		if err != nil {
			t.Errorf("%s:%s: %v", repo, tag, err)
			continue
		}
		if d.Digest != want[tag] {
			t.Errorf("%s:%s names %s, want %s", repo, tag, d.Digest, want[tag])
		}
	}
}

// TestBuildE2ETwoRegistries pushes one build to the plain registry and to
// the TLS one with authentication: each digest is read back from its own
// registry (through the CA file and the docker config's credentials).
func TestBuildE2ETwoRegistries(t *testing.T) {
	e := newE2EEnv(t)
	r := e2eRepo(t)
	r.Tag("v1.0.0", "HEAD")
	name := fmt.Sprintf("e2e/two-%d", time.Now().UnixNano())
	plain, tls := e.registry+"/"+name, e.registryTLS+"/"+name
	code, out, errOut := e2eRun(t, e, r.Dir, "build", "--docker", e.docker, "--image", plain, "--image", tls,
		"--push", "--ca-file", e.ca, "--network", "host", "--build-arg", "PYTHON_IMAGE="+e.pythonImage, "--json")
	if code != 0 {
		t.Fatalf("release build exited %d:\n%s", code, errOut)
	}
	var res buildJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	client, err := registry.New(registry.WithCAFile(e.ca), registry.WithKeychain(registry.DockerConfigKeychain(e.dockerConfig)))
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range res.Images {
		for _, tag := range img.Tags {
			d, err := client.Resolve(t.Context(), img.Repository+":"+tag)
			if err != nil {
				t.Fatal(err)
			}
			if d.Digest != img.Digest {
				t.Errorf("%s:%s = %s, --json said %s", img.Repository, tag, d.Digest, img.Digest)
			}
		}
	}
	if len(res.Images) != 2 || res.Images[0].Repository != plain || res.Images[1].Repository != tls {
		t.Errorf("images = %+v", res.Images)
	}
}

// TestBuildE2EErrors checks every bad input against the real engine: its
// error, its hint and its exit code.
func TestBuildE2EErrors(t *testing.T) {
	e := newE2EEnv(t)
	r := e2eRepo(t)
	repo := fmt.Sprintf("%s/e2e/errors-%d", e.registry, time.Now().UnixNano())
	base := []string{"build", "--docker", e.docker, "--image", repo, "--network", "host", "--build-arg", "PYTHON_IMAGE=" + e.pythonImage}
	failing := filepath.Join(r.Dir, "Failing.Dockerfile")
	// The legacy builder keeps the container of a failed RUN step; the
	// comment (which sh ignores) makes this run's step its own, so the
	// test removes its containers and only those.
	step := fmt.Sprintf("echo 'the build broke' >&2; exit 3 # release-e2e-%d", time.Now().UnixNano())
	if err := os.WriteFile(failing, []byte("FROM "+e.pythonImage+"\nRUN "+step+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeContainersRunning(t, e, step) })
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		buildx   bool
		wantCode int
		want     []string
		wantRE   []string
	}{
		{
			name: "docker binary missing", args: []string{"--version", "1.0.0", "--docker", filepath.Join(t.TempDir(), "docker")},
			wantCode: 1, want: []string{"release: error: docker binary not found", "release: hint: install the docker CLI, or pass --docker PATH"},
		},
		{
			name: "daemon not running", args: []string{"--version", "1.0.0", "--builder", "classic"},
			env:      map[string]string{"DOCKER_HOST": "unix://" + filepath.Join(t.TempDir(), "no.sock")},
			wantCode: 1, want: []string{"release: error: docker daemon not reachable: ", "release: hint: start the docker daemon"},
		},
		{
			name: "dockerfile missing", args: []string{"--version", "1.0.0", "--file", filepath.Join(r.Dir, "Nope")},
			wantCode: 1, want: []string{"release: error: reading the Dockerfile:", "does not exist", "release: hint: pass --file PATH"},
		},
		{
			// The legacy builder, which exits with the RUN step's status.
			name: "the build fails, classic", args: []string{"--version", "1.0.0", "--file", failing, "--builder", "classic"},
			env:      map[string]string{"DOCKER_BUILDKIT": "0"},
			wantCode: 1, want: []string{"release: error: docker build: exit status 3"},
			// The tail of docker's stderr in the error's indented block,
			// not only in docker's streamed output (release: docker: …).
			wantRE: []string{`(?m)^release:   The command '/bin/sh -c ` + regexp.QuoteMeta(step) + `' returned a non-zero code: 3$`},
		},
		{
			name: "the build fails, buildx", buildx: true, args: []string{"--version", "1.0.0", "--file", failing, "--builder", "buildx"},
			wantCode: 1, want: []string{"release: error: docker buildx build: exit status 1"},
			wantRE: []string{`(?m)^release:   ERROR: .*exit code: 3$`, `(?m)^release:   .*the build broke$`},
		},
		{
			name: "uppercase repository", args: []string{"--version", "1.0.0", "--image", e.registry + "/E2E/App"},
			wantCode: 2, want: []string{"must be lower case", "release: hint: use --image " + e.registry + "/e2e/app"},
		},
		{
			name: "invalid repository", args: []string{"--version", "1.0.0", "--image", e.registry + "/e2e/-app"},
			wantCode: 2, want: []string{"is not valid"},
		},
		{
			name: "prerelease without a PEP 440 form", args: []string{"--version", "1.0.0-feature.x"},
			wantCode: 2, want: []string{"cannot be built as a Python package", "release: hint: use a prerelease of the form"},
		},
		{
			name: "build metadata", args: []string{"--version", "1.0.0+build.9"},
			wantCode: 2, want: []string{"has build metadata", "release: hint: drop the +build.9 part"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.buildx {
				requireBuildx(t, e)
			}
			ee := e
			for k, v := range tt.env {
				if k == "DOCKER_HOST" {
					ee.dockerHost = v // e2eRun sets it
					continue
				}
				t.Setenv(k, v)
			}
			code, out, errOut := e2eRun(t, ee, r.Dir, append(slices.Clone(base), tt.args...)...)
			checkE2EError(t, code, out, errOut, tt.wantCode, tt.want)
			for _, re := range tt.wantRE {
				if !regexp.MustCompile(re).MatchString(errOut) {
					t.Errorf("stderr does not match %s:\n%s", re, errOut)
				}
			}
		})
	}
}

// removeContainersRunning removes the stopped containers whose command
// holds marker: what a failed classic build of this test left behind.
func removeContainersRunning(t *testing.T, e e2eEnv, marker string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := append(os.Environ(), "DOCKER_HOST="+e.dockerHost, "DOCKER_CONFIG="+e.dockerConfig)
	ps := exec.CommandContext(ctx, e.docker, "ps", "--all", "--no-trunc", "--filter", "status=exited", "--format", "{{.ID}} {{.Command}}")
	ps.Env = env
	out, err := ps.Output()
	if err != nil {
		t.Logf("listing the containers to remove: %v", err)
		return
	}
	var ids []string
	for _, line := range strings.Split(string(out), "\n") {
		if id, cmd, ok := strings.Cut(line, " "); ok && strings.Contains(cmd, marker) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return
	}
	rm := exec.CommandContext(ctx, e.docker, append([]string{"rm"}, ids...)...)
	rm.Env = env
	if out, err := rm.CombinedOutput(); err != nil {
		t.Logf("docker rm %v: %v\n%s", ids, err, out)
	}
}

func checkE2EError(t *testing.T, code int, out, errOut string, wantCode int, want []string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("exit code %d, want %d; stderr:\n%s", code, wantCode, errOut)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
	if strings.Contains(errOut, e2eToken) {
		t.Errorf("the token reached stderr:\n%s", errOut)
	}
}

// configLabels reads the labels of an image's config blob from the
// registry.
func configLabels(t *testing.T, client *registry.Client, ref string) map[string]string {
	t.Helper()
	raw, err := client.Config(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Config struct {
			Labels map[string]string `json:"Labels"`
		} `json:"config"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.Config.Labels
}

// getVersion runs the image and asks it GET /version.
func getVersion(t *testing.T, e e2eEnv, image string) appVersion {
	t.Helper()
	body := runAndGet(t, e, image, "/version")
	var v appVersion
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("GET /version: %v\n%s", err, body)
	}
	return v
}

// runAndGet runs the image on the host network, waits for it to say it
// listens, and returns the body of GET path.
func runAndGet(t *testing.T, e e2eEnv, image, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	name := fmt.Sprintf("release-e2e-%d", time.Now().UnixNano())
	cmd := exec.CommandContext(ctx, e.docker, "run", "--rm", "--name", name, "--network", "host", "-e", "HOST=127.0.0.1", "-e", fmt.Sprintf("PORT=%d", port), image)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+e.dockerHost, "DOCKER_CONFIG="+e.dockerConfig)
	// The service says it listens on stderr.
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		kill := exec.Command(e.docker, "rm", "-f", name)
		kill.Env = cmd.Env
		kill.Run()
		cmd.Wait()
	}()
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	listening := false
	for !listening && sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		listening = strings.Contains(sc.Text(), "listening")
	}
	if !listening {
		t.Fatalf("the container did not start: %v %v\n%s", sc.Err(), ctx.Err(), log.String())
	}
	go io.Copy(io.Discard, stderr)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, log.String())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
