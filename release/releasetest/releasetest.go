// Package releasetest finds the real components end-to-end tests run against:
// the Docker engine, the Python base image and the two registries that
// `scripts/testenv up` starts. It is named like net/http/httptest.
//
// Tests get them with Env, which reads the variables `scripts/testenv env`
// prints:
//
//	eval "$(scripts/testenv env)"
//	go test ./...
//
// Without them a test skips, so `go test ./...` stays usable on a laptop with
// no engine; with CI set (CI=true, as CI systems do) a missing variable fails
// the test instead, so an environment that did not come up cannot turn a
// pipeline green by skipping everything. docs/testing.md describes each
// variable.
package releasetest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/releasetool/release/gitinfo/gitinfotest"
)

// The environment variables Env reads; `scripts/testenv env` prints them all.
const (
	// VarDockerHost is the engine's address, a DOCKER_HOST value
	// (unix:///…/docker.sock).
	VarDockerHost = "RELEASE_TEST_DOCKER_HOST"
	// VarDockerConfig is a DOCKER_CONFIG directory logged in to the TLS
	// registry, holding the buildx CLI plugin when there is one.
	VarDockerConfig = "RELEASE_TEST_DOCKER_CONFIG"
	// VarPythonImage is the local Python base image (the sample app's
	// PYTHON_IMAGE build arg).
	VarPythonImage = "RELEASE_TEST_PYTHON_IMAGE"
	// VarRegistry is the plain HTTP registry, host:port on loopback.
	VarRegistry = "RELEASE_TEST_REGISTRY"
	// VarRegistryTLS is the HTTPS registry with basic auth, host:port.
	VarRegistryTLS = "RELEASE_TEST_REGISTRY_TLS"
	// VarRegistryCA is the PEM file of the CA that signed the TLS registry's
	// certificate.
	VarRegistryCA = "RELEASE_TEST_REGISTRY_CA"
	// VarRegistryCertDir is a directory holding only that CA as ca.crt, the
	// layout skopeo's --cert-dir and /etc/docker/certs.d expect.
	VarRegistryCertDir = "RELEASE_TEST_REGISTRY_CERT_DIR"
	// VarRegistryUser is the TLS registry's user name.
	VarRegistryUser = "RELEASE_TEST_REGISTRY_USER"
	// VarRegistryPassword is the TLS registry's password.
	VarRegistryPassword = "RELEASE_TEST_REGISTRY_PASSWORD"
	// VarBuildx is 1 when `docker buildx` works with VarDockerConfig, else 0.
	VarBuildx = "RELEASE_TEST_BUILDX"
)

// requiredVars lists every variable Env requires, in the order
// scripts/testenv prints them.
func requiredVars() []string {
	return []string{
		VarDockerHost, VarDockerConfig, VarPythonImage,
		VarRegistry, VarRegistryTLS, VarRegistryCA, VarRegistryCertDir,
		VarRegistryUser, VarRegistryPassword, VarBuildx,
	}
}

// Environment is the test environment scripts/testenv started. The zero value
// is never returned by Env.
type Environment struct {
	dockerHost       string
	dockerConfig     string
	pythonImage      string
	registry         string
	registryTLS      string
	registryCA       string
	registryCertDir  string
	registryUser     string
	registryPassword string
	buildx           bool
}

// Env returns the test environment described by the RELEASE_TEST_* variables.
// When any is missing it skips the test, or fails it when the CI variable is
// set to anything but "", "0" or "false": in CI every component must be there.
// A variable that is set but malformed always fails the test.
func Env(t testing.TB) Environment {
	t.Helper()
	return envFrom(t, os.LookupEnv)
}

// envFrom is Env with the environment passed in, so tests can exercise the
// skip and fail paths without touching the process environment.
func envFrom(t testing.TB, lookup func(string) (string, bool)) Environment {
	t.Helper()
	got := make(map[string]string)
	var missing []string
	for _, name := range requiredVars() {
		v, _ := lookup(name)
		if v = strings.TrimSpace(v); v == "" {
			missing = append(missing, name)
			continue
		}
		got[name] = v
	}
	if len(missing) > 0 {
		what := strings.Join(missing, ", ")
		if len(missing) == len(requiredVars()) {
			what = "RELEASE_TEST_* variables"
		}
		ciValue, _ := lookup("CI")
		msg := fmt.Sprintf("test environment not available (%s unset): run `scripts/testenv up` and `eval \"$(scripts/testenv env)\"`, or `make test`", what)
		if gitinfotest.InCI(ciValue) {
			t.Fatal("CI=" + ciValue + ": " + msg)
		}
		t.Skip(msg)
	}
	buildx, err := strconv.ParseBool(got[VarBuildx])
	if err != nil {
		t.Fatalf("%s=%q: want 0 or 1", VarBuildx, got[VarBuildx])
	}
	if !strings.Contains(got[VarDockerHost], "://") {
		t.Fatalf("%s=%q: want a DOCKER_HOST address such as unix:///path/docker.sock", VarDockerHost, got[VarDockerHost])
	}
	return Environment{
		dockerHost:       got[VarDockerHost],
		dockerConfig:     got[VarDockerConfig],
		pythonImage:      got[VarPythonImage],
		registry:         got[VarRegistry],
		registryTLS:      got[VarRegistryTLS],
		registryCA:       got[VarRegistryCA],
		registryCertDir:  got[VarRegistryCertDir],
		registryUser:     got[VarRegistryUser],
		registryPassword: got[VarRegistryPassword],
		buildx:           buildx,
	}
}

// DockerHost is the engine's address, for DOCKER_HOST.
func (e Environment) DockerHost() string { return e.dockerHost }

// DockerConfig is the shared DOCKER_CONFIG directory: logged in to the TLS
// registry, with the buildx plugin when Buildx reports one. Tests that log in
// or out, or otherwise write Docker config, use DockerConfigCopy instead.
func (e Environment) DockerConfig() string { return e.dockerConfig }

// DockerEnv returns DOCKER_HOST and DOCKER_CONFIG set for the test engine, to
// append to a command's environment (exec.Cmd.Env = append(os.Environ(), …)).
func (e Environment) DockerEnv() []string {
	return []string{"DOCKER_HOST=" + e.dockerHost, "DOCKER_CONFIG=" + e.dockerConfig}
}

// PythonImage is the local Python base image, for the sample app's
// PYTHON_IMAGE build arg.
func (e Environment) PythonImage() string { return e.pythonImage }

// Registry is the plain HTTP registry's host:port (on loopback, where clients
// allow plain HTTP).
func (e Environment) Registry() string { return e.registry }

// RegistryTLS is the HTTPS registry's host:port; it wants basic auth with
// RegistryUser and RegistryPassword and a client that trusts RegistryCA.
func (e Environment) RegistryTLS() string { return e.registryTLS }

// RegistryCA is the path of the PEM CA certificate of the TLS registry.
func (e Environment) RegistryCA() string { return e.registryCA }

// RegistryCertDir is a directory holding only the CA as ca.crt, for skopeo's
// --cert-dir and the like.
func (e Environment) RegistryCertDir() string { return e.registryCertDir }

// RegistryUser is the TLS registry's user name.
func (e Environment) RegistryUser() string { return e.registryUser }

// RegistryPassword is the TLS registry's password.
func (e Environment) RegistryPassword() string { return e.registryPassword }

// Buildx reports whether `docker buildx` works with DockerConfig. When it
// does not, the classic builder is the only one available.
func (e Environment) Buildx() bool { return e.buildx }

// RegistryTLSConfig returns a TLS client configuration that trusts the TLS
// registry's CA (and nothing else), failing the test if the CA cannot be read.
func (e Environment) RegistryTLSConfig(t testing.TB) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(e.registryCA)
	if err != nil {
		t.Fatalf("reading the test registry CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("reading the test registry CA: no PEM certificate in %s", e.registryCA)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// DockerConfigCopy copies DockerConfig's config.json into a new directory
// under t.TempDir and links its CLI plugins, so a test can log in, log out or
// add credential helpers without touching the shared one. It returns the new
// DOCKER_CONFIG directory.
func (e Environment) DockerConfigCopy(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(e.dockerConfig, "config.json"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("reading the test docker config: %v", err)
	}
	if err == nil {
		if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
			t.Fatalf("copying the test docker config: %v", err)
		}
	}
	plugins := filepath.Join(e.dockerConfig, "cli-plugins")
	if _, err := os.Stat(plugins); err == nil {
		if err := os.Symlink(plugins, filepath.Join(dir, "cli-plugins")); err != nil {
			t.Fatalf("linking the docker CLI plugins: %v", err)
		}
	}
	return dir
}
