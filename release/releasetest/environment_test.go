package releasetest_test

// End-to-end checks of the test environment itself: everything other
// packages' e2e tests rely on is reachable the way docs/testing.md says, and
// the sample app builds, runs, answers /version and pushes to both
// registries. They skip without the environment (fail under CI=true).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	"github.com/releasetool/release/release/releasetest"
)

// The sample app's build args, fixed so repeated runs hit the engine's layer
// cache and push identical layers.
const (
	appVersion   = "1.4.0-rc.2"
	appPEP440    = "1.4.0rc2"
	appRevision  = "0123456789abcdef0123456789abcdef01234567"
	appEpoch     = "1700000000"
	appContext   = "../../testdata/pythonapp"
	appRepo      = "releasetest/sample-app"
	readyTimeout = 60 * time.Second // bound on waiting for a container, not an assertion
)

func TestComponents(t *testing.T) {
	e := releasetest.Env(t)
	ctx := t.Context()

	t.Run("engine", func(t *testing.T) {
		client := engineClient(t, e)
		if got := httpGet(t, ctx, client, "http://docker/_ping", "", ""); got.status != http.StatusOK || got.body != "OK" {
			t.Fatalf("GET /_ping = %d %q, want 200 OK", got.status, got.body)
		}
		if got := httpGet(t, ctx, client, "http://docker/images/"+e.PythonImage()+"/json", "", ""); got.status != http.StatusOK {
			t.Fatalf("python image %s: GET /images/…/json = %d %s", e.PythonImage(), got.status, got.body)
		}
	})

	t.Run("plain registry", func(t *testing.T) {
		got := httpGet(t, ctx, http.DefaultClient, "http://"+e.Registry()+"/v2/", "", "")
		if got.status != http.StatusOK {
			t.Fatalf("GET /v2/ = %d %s, want 200", got.status, got.body)
		}
	})

	t.Run("tls registry", func(t *testing.T) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: e.RegistryTLSConfig(t)}}
		url := "https://" + e.RegistryTLS() + "/v2/"
		if got := httpGet(t, ctx, client, url, "", ""); got.status != http.StatusUnauthorized {
			t.Errorf("GET /v2/ without credentials = %d, want 401", got.status)
		}
		if got := httpGet(t, ctx, client, url, e.RegistryUser(), "wrong"); got.status != http.StatusUnauthorized {
			t.Errorf("GET /v2/ with a wrong password = %d, want 401", got.status)
		}
		if got := httpGet(t, ctx, client, url, e.RegistryUser(), e.RegistryPassword()); got.status != http.StatusOK {
			t.Errorf("GET /v2/ with the credentials = %d %s, want 200", got.status, got.body)
		}
		// The certificate is really checked: a client without the CA refuses it.
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		_, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}).Do(req)
		var unknownCA x509.UnknownAuthorityError
		if !errors.As(err, &unknownCA) {
			t.Errorf("GET /v2/ trusting only the system roots: err = %v, want an unknown authority error", err)
		}
	})

	t.Run("docker login", func(t *testing.T) {
		config := e.DockerConfigCopy(t)
		if err := os.Remove(filepath.Join(config, "config.json")); err != nil {
			t.Fatal(err)
		}
		env := []string{"DOCKER_CONFIG=" + config}
		out := dockerIn(t, ctx, e, env, strings.NewReader(e.RegistryPassword()),
			"login", "--username", e.RegistryUser(), "--password-stdin", e.RegistryTLS())
		if !strings.Contains(out, "Login Succeeded") {
			t.Errorf("docker login printed %q, want Login Succeeded", out)
		}
	})

	t.Run("buildx", func(t *testing.T) {
		requireBuildx(t, e)
		out := docker(t, ctx, e, nil, "buildx", "inspect", "default")
		if !regexp.MustCompile(`(?m)^Driver:\s+docker$`).MatchString(out) {
			t.Errorf("docker buildx inspect default:\n%s\nwant the docker driver", out)
		}
	})
}

// TestTestenvSelftest runs scripts/testenv's own checks (the apt mirror
// found in one-line and deb822 sources, on fixtures). They need neither
// root nor the environment, so this test never skips.
func TestTestenvSelftest(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), "bash", "../../scripts/testenv", "selftest")
	// A state directory of the test's own: selftest must not touch one.
	cmd.Env = append(os.Environ(), "RELEASE_TESTENV_STATE="+filepath.Join(t.TempDir(), "state"))
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "FAIL") || !strings.Contains(string(out), "ok    apt_mirror") {
		t.Fatalf("scripts/testenv selftest: %v\n%s", err, out)
	}
}

// TestSampleAppUnitTests runs the sample app's Python unit tests in the base
// image, so they need no Python on the host.
func TestSampleAppUnitTests(t *testing.T) {
	e := releasetest.Env(t)
	src, err := filepath.Abs(appContext)
	if err != nil {
		t.Fatal(err)
	}
	docker(t, t.Context(), e, nil, "run", "--rm", "--network", "none",
		"--volume", src+":/src:ro", "--workdir", "/src",
		"--env", "PYTHONPATH=/src/src", "--env", "PYTHONDONTWRITEBYTECODE=1",
		e.PythonImage(), "python3", "-m", "unittest", "discover", "-s", "tests")
}

func TestSampleApp(t *testing.T) {
	e := releasetest.Env(t)
	builders := []struct {
		name  string
		build func(t *testing.T, ctx context.Context, tag string)
	}{
		{
			name: "classic",
			build: func(t *testing.T, ctx context.Context, tag string) {
				// With the buildx plugin installed, `docker build` is BuildKit;
				// DOCKER_BUILDKIT=0 asks for the classic builder.
				args := append([]string{"build", "--tag", tag}, buildArgs(e)...)
				docker(t, ctx, e, []string{"DOCKER_BUILDKIT=0"}, append(args, appContext)...)
			},
		},
		{
			name: "buildx",
			build: func(t *testing.T, ctx context.Context, tag string) {
				requireBuildx(t, e)
				// The engine has no bridge network: BuildKit's RUN steps need
				// --network none (or host), see docs/testing.md.
				args := append([]string{"buildx", "build", "--network", "none", "--load", "--tag", tag}, buildArgs(e)...)
				docker(t, ctx, e, nil, append(args, appContext)...)
			},
		},
	}
	for _, b := range builders {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			tag := fmt.Sprintf("%s:%s-%s-%d", appRepo, b.name, appVersion, time.Now().UnixNano())
			b.build(t, ctx, tag)
			removeImage(t, e, tag)

			checkImageConfig(t, ctx, e, tag)
			checkRuntimeTree(t, ctx, e, tag)

			port, id := serve(t, ctx, e, tag)
			want := map[string]string{
				"name":            "release-sample-app",
				"version":         appPEP440,
				"release_version": appVersion,
				"revision":        appRevision,
			}
			if diff := cmp.Diff(want, getVersion(t, ctx, port)); diff != "" {
				t.Errorf("GET /version (-want +got):\n%s", diff)
			}
			if got := httpGet(t, ctx, http.DefaultClient, fmt.Sprintf("http://127.0.0.1:%d/healthz", port), "", ""); got.status != http.StatusOK {
				t.Errorf("GET /healthz = %d %q", got.status, got.body)
			}
			// The image's HEALTHCHECK command, run now rather than waiting for
			// the engine's interval.
			docker(t, ctx, e, nil, "exec", id, "python", "-m", "release_sample_app.healthcheck")
			user := strings.TrimSpace(docker(t, ctx, e, nil, "exec", id, "id", "-u"))
			if user == "0" {
				t.Errorf("the container runs as root")
			}
		})
	}

	t.Run("push", func(t *testing.T) {
		ctx := t.Context()
		tag := fmt.Sprintf("%s:push-%d", appRepo, time.Now().UnixNano())
		args := append([]string{"build", "--tag", tag}, buildArgs(e)...)
		docker(t, ctx, e, []string{"DOCKER_BUILDKIT=0"}, append(args, appContext)...)
		removeImage(t, e, tag)
		tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: e.RegistryTLSConfig(t)}}
		for _, reg := range []struct {
			name, host, scheme string
			client             *http.Client
			user, password     string
		}{
			{"plain", e.Registry(), "http", http.DefaultClient, "", ""},
			{"tls", e.RegistryTLS(), "https", tlsClient, e.RegistryUser(), e.RegistryPassword()},
		} {
			t.Run(reg.name, func(t *testing.T) {
				ref := reg.host + "/" + appRepo + ":" + appVersion
				docker(t, ctx, e, nil, "tag", tag, ref)
				removeImage(t, e, ref)
				out := docker(t, ctx, e, nil, "push", ref)
				m := regexp.MustCompile(`digest: (sha256:[0-9a-f]{64})`).FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("docker push %s printed no digest:\n%s", ref, out)
				}
				pushed := m[1]
				url := fmt.Sprintf("%s://%s/v2/%s/manifests/%s", reg.scheme, reg.host, appRepo, appVersion)
				if got := manifestDigest(t, ctx, reg.client, url, reg.user, reg.password); got != pushed {
					t.Errorf("registry serves %s as %s, docker push reported %s", ref, got, pushed)
				}
				if reg.name == "tls" {
					// What a person would type, from docs/testing.md.
					out := run(t, ctx, nil, nil, "skopeo", "inspect", "--cert-dir", e.RegistryCertDir(),
						"--creds", e.RegistryUser()+":"+e.RegistryPassword(), "docker://"+ref)
					var inspect struct{ Digest string }
					if err := json.Unmarshal([]byte(out), &inspect); err != nil {
						t.Fatalf("skopeo inspect output: %v\n%s", err, out)
					}
					if inspect.Digest != pushed {
						t.Errorf("skopeo inspect digest = %s, docker push reported %s", inspect.Digest, pushed)
					}
				}
			})
		}
	})

	t.Run("buildx push", func(t *testing.T) {
		requireBuildx(t, e)
		ctx := t.Context()
		ref := e.RegistryTLS() + "/" + appRepo + ":" + appVersion + "-buildx"
		metadata := filepath.Join(t.TempDir(), "metadata.json")
		args := append([]string{"buildx", "build", "--network", "none", "--push", "--tag", ref,
			"--metadata-file", metadata}, buildArgs(e)...)
		docker(t, ctx, e, nil, append(args, appContext)...)
		removeImage(t, e, ref)
		data, err := os.ReadFile(metadata)
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			Digest string `json:"containerimage.digest"`
		}
		if err := json.Unmarshal(data, &meta); err != nil {
			t.Fatalf("reading %s: %v\n%s", metadata, err, data)
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: e.RegistryTLSConfig(t)}}
		url := fmt.Sprintf("https://%s/v2/%s/manifests/%s-buildx", e.RegistryTLS(), appRepo, appVersion)
		if got := manifestDigest(t, ctx, client, url, e.RegistryUser(), e.RegistryPassword()); got != meta.Digest {
			t.Errorf("registry serves %s as %s, buildx metadata says %s", ref, got, meta.Digest)
		}
	})
}

// TestSampleAppPEP440Only builds the sample app with RELEASE_VERSION_PEP440
// as the only version argument (no SETUPTOOLS_SCM_PRETEND_VERSION_FOR_…, as
// a plain `docker build` by hand would pass): the Dockerfile's fallback gives
// the wheel that version, which /version serves.
func TestSampleAppPEP440Only(t *testing.T) {
	e := releasetest.Env(t)
	ctx := t.Context()
	const pep440 = "1.4.1.dev3"
	tag := fmt.Sprintf("%s:pep440-only-%d", appRepo, time.Now().UnixNano())
	docker(t, ctx, e, []string{"DOCKER_BUILDKIT=0"}, "build", "--tag", tag,
		"--build-arg", "PYTHON_IMAGE="+e.PythonImage(),
		"--build-arg", "RELEASE_VERSION_PEP440="+pep440,
		"--build-arg", "SOURCE_DATE_EPOCH="+appEpoch,
		appContext)
	removeImage(t, e, tag)
	port, _ := serve(t, ctx, e, tag)
	want := map[string]string{"name": "release-sample-app", "version": pep440, "release_version": "", "revision": ""}
	if diff := cmp.Diff(want, getVersion(t, ctx, port)); diff != "" {
		t.Errorf("GET /version (-want +got):\n%s", diff)
	}
}

// TestSampleAppDockerignore builds a probe that copies the whole build
// context of the sample app, from a checkout with a .git directory and the
// debris of local work in it, with the sample app's .dockerignore: only what
// the build needs arrives (no .git, whose tags would change setuptools-scm's
// answer and whose size every build would send).
func TestSampleAppDockerignore(t *testing.T) {
	e := releasetest.Env(t)
	ctx := t.Context()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(appContext)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".git/refs/tags", "src/release_sample_app/__pycache__", "build/lib", "dist", ".venv/bin"} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{".git/HEAD", "src/release_sample_app/__pycache__/app.cpython-311.pyc", "dist/x.whl", "x.egg-info"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	probe := filepath.Join(t.TempDir(), "Probe.Dockerfile")
	if err := os.WriteFile(probe, []byte("ARG PYTHON_IMAGE\nFROM ${PYTHON_IMAGE}\nCOPY . /context\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("%s:dockerignore-%d", appRepo, time.Now().UnixNano())
	docker(t, ctx, e, []string{"DOCKER_BUILDKIT=0"}, "build", "--tag", tag, "--file", probe,
		"--build-arg", "PYTHON_IMAGE="+e.PythonImage(), dir)
	removeImage(t, e, tag)
	out := docker(t, ctx, e, nil, "run", "--rm", "--network", "none", "--entrypoint", "find", tag,
		"/context", "-mindepth", "1", "-maxdepth", "2")
	got := strings.Fields(out)
	slices.Sort(got)
	want := []string{
		"/context/README.md", "/context/pyproject.toml", "/context/requirements.txt",
		"/context/src", "/context/src/release_sample_app",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the build context (-want +got):\n%s", diff)
	}
}

// checkImageConfig checks what the Dockerfile declares for whoever runs the
// image: the port, a non-root user, and the health check.
func checkImageConfig(t *testing.T, ctx context.Context, e releasetest.Environment, tag string) {
	t.Helper()
	out := docker(t, ctx, e, nil, "image", "inspect", "--format", "{{json .Config}}", tag)
	var cfg struct {
		User         string
		ExposedPorts map[string]struct{}
		Healthcheck  *struct{ Test []string }
	}
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("docker image inspect %s: %v\n%s", tag, err, out)
	}
	if diff := cmp.Diff(map[string]struct{}{"8000/tcp": {}}, cfg.ExposedPorts); diff != "" {
		t.Errorf("exposed ports (-want +got):\n%s", diff)
	}
	if user, _, _ := strings.Cut(cfg.User, ":"); user == "" || user == "root" || user == "0" {
		t.Errorf("image user = %q, want a non-root user", cfg.User)
	}
	wantCheck := []string{"CMD", "python", "-m", "release_sample_app.healthcheck"}
	if cfg.Healthcheck == nil || !slices.Equal(cfg.Healthcheck.Test, wantCheck) {
		t.Errorf("health check = %+v, want %q", cfg.Healthcheck, wantCheck)
	}
}

// checkRuntimeTree looks through the runtime image as root: the build
// stage's sources, wheels and pip cache stay behind, and the venv the app
// runs from is there (so the search itself looked).
func checkRuntimeTree(t *testing.T, ctx context.Context, e releasetest.Environment, tag string) {
	t.Helper()
	const script = `for p in /src /dist /build; do [ -e "$p" ] && echo "left: $p"; done
find / -xdev \( -path '*/.cache/pip' -o -path '/opt/venv/*.whl' -o -path '/tmp/pip-*' \) -exec echo left: {} \;
[ -x /opt/venv/bin/release-sample-app ] && echo venv
true`
	out := docker(t, ctx, e, nil, "run", "--rm", "--network", "none", "--user", "0", "--entrypoint", "sh", tag, "-c", script)
	if strings.TrimSpace(out) != "venv" {
		t.Errorf("the runtime image holds more (or less) than it should:\n%s", out)
	}
}

// serve runs the image on the host network until the test ends and waits
// for it to listen; it returns the port and the container.
func serve(t *testing.T, ctx context.Context, e releasetest.Environment, tag string) (int, string) {
	t.Helper()
	port := freePort(t)
	id := strings.TrimSpace(docker(t, ctx, e, nil, "run", "--detach", "--network", "host",
		"--env", "HOST=127.0.0.1", "--env", fmt.Sprintf("PORT=%d", port), tag))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = exec.CommandContext(ctx, "docker", "--host", e.DockerHost(), "rm", "--force", id).Run()
	})
	waitListening(t, ctx, e, id)
	return port, id
}

// getVersion asks the service on port for GET /version.
func getVersion(t *testing.T, ctx context.Context, port int) map[string]string {
	t.Helper()
	got := httpGet(t, ctx, http.DefaultClient, fmt.Sprintf("http://127.0.0.1:%d/version", port), "", "")
	var version map[string]string
	if err := json.Unmarshal([]byte(got.body), &version); err != nil {
		t.Fatalf("GET /version = %d %q: %v", got.status, got.body, err)
	}
	return version
}

// requireBuildx skips a buildx test when the environment has no working
// buildx plugin (RELEASE_TEST_BUILDX=0), and fails it when the CI variable is
// set as releasetest.Env reads it (anything but empty, 0 or false):
// scripts/testenv falls back to the classic builder when the plugin does not
// build, and a pipeline must not go green without ever running buildx.
func requireBuildx(t *testing.T, e releasetest.Environment) {
	t.Helper()
	if e.Buildx() {
		return
	}
	gitinfotest.Missing(t, releasetest.VarBuildx+"=0: the classic builder only")
}

// removeImage removes a local image (tag) when the test ends. The docker
// driver of buildx also loads what it pushes, so pushed refs are local too.
func removeImage(t *testing.T, e releasetest.Environment, ref string) {
	t.Cleanup(func() {
		// A fresh context: t.Context is already cancelled during cleanup.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = exec.CommandContext(ctx, "docker", "--host", e.DockerHost(), "image", "rm", ref).Run()
	})
}

func buildArgs(e releasetest.Environment) []string {
	var args []string
	for _, kv := range []string{
		"PYTHON_IMAGE=" + e.PythonImage(),
		"RELEASE_VERSION=" + appVersion,
		"RELEASE_VERSION_PEP440=" + appPEP440,
		"RELEASE_REVISION=" + appRevision,
		"SOURCE_DATE_EPOCH=" + appEpoch,
		"SETUPTOOLS_SCM_PRETEND_VERSION_FOR_RELEASE_SAMPLE_APP=" + appPEP440,
	} {
		args = append(args, "--build-arg", kv)
	}
	return args
}

// docker runs the docker CLI against the test engine and returns its stdout,
// failing the test (with stderr) when it fails.
func docker(t *testing.T, ctx context.Context, e releasetest.Environment, env []string, args ...string) string {
	t.Helper()
	return dockerIn(t, ctx, e, env, nil, args...)
}

func dockerIn(t *testing.T, ctx context.Context, e releasetest.Environment, env []string, stdin io.Reader, args ...string) string {
	t.Helper()
	return run(t, ctx, append(e.DockerEnv(), env...), stdin, "docker", args...)
}

func run(t *testing.T, ctx context.Context, env []string, stdin io.Reader, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, tail(stdout.String()), tail(stderr.String()))
	}
	return stdout.String()
}

func tail(s string) string {
	const max = 4000
	if len(s) > max {
		return "…" + s[len(s)-max:]
	}
	return s
}

// waitListening follows the container's log until the service says it
// listens (its socket is bound by then), or the container exits.
func waitListening(t *testing.T, ctx context.Context, e releasetest.Environment, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "logs", "--follow", id)
	cmd.Env = append(os.Environ(), e.DockerEnv()...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { pw.CloseWithError(cmd.Wait()) }()
	var seen strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), " listening on ") {
			cancel()
			_, _ = io.Copy(io.Discard, pr)
			return
		}
	}
	t.Fatalf("container %.12s did not start listening (err %v); its log:\n%s", id, sc.Err(), seen.String())
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// engineClient talks HTTP to the engine's unix socket.
func engineClient(t *testing.T, e releasetest.Environment) *http.Client {
	t.Helper()
	path, ok := strings.CutPrefix(e.DockerHost(), "unix://")
	if !ok {
		t.Skipf("%s=%s: only unix sockets are checked", releasetest.VarDockerHost, e.DockerHost())
	}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}
}

type response struct {
	status int
	body   string
}

func httpGet(t *testing.T, ctx context.Context, client *http.Client, url, user, password string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return response{resp.StatusCode, string(body)}
}

// manifestDigest asks the registry for the digest of a manifest (HEAD).
func manifestDigest(t *testing.T, ctx context.Context, client *http.Client, url, user, password string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", strings.Join([]string{
		"application/vnd.docker.distribution.manifest.v2+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
		"application/vnd.oci.image.manifest.v1+json",
		"application/vnd.oci.image.index.v1+json",
	}, ", "))
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("HEAD %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD %s = %d", url, resp.StatusCode)
	}
	return resp.Header.Get("Docker-Content-Digest")
}
