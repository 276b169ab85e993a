package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo/gitinfotest"
	"github.com/releasetool/release/release/releasetest"
)

// TestDemo runs scripts/demo (what make demo shows) end to end against the
// test environment, as a person would after eval "$(scripts/testenv env
// --docker)", and checks the story its transcript tells: v0.1.0 cut, the
// feat: commit typed, v0.2.0 cut and re-run, v0.1.0 promoted, prod
// inspected, found by commit, diffed against staging; in that order. Every
// git and release command the script runs is logged by a wrapper and must
// appear, in order, as a printed "$ …" line. release is this test binary
// (DEMO_RELEASE); make demo's go build of it is the only step not run here.
func TestDemo(t *testing.T) {
	env := releasetest.Env(t)
	docker := realDocker(t)
	git := gitinfotest.GitPath(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	release, err := exec.LookPath("release") // the test binary, from testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "demo"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	// The wrappers log what the demo's shell runs (their parent is bash),
	// not what git or release run themselves.
	wrappers, log := filepath.Join(tmp, "wrappers"), filepath.Join(tmp, "commands.log")
	if err := os.Mkdir(wrappers, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, real := range map[string]string{"git": git, "release": release} {
		wrapper := "#!/bin/sh\nread -r parent </proc/$PPID/comm\nif [ \"$parent\" = bash ]; then printf '%s\\n' \"" + name + " $*\" >>\"$DEMO_TEST_LOG\"; fi\nexec " + shellQuote(real) + " \"$@\"\n"
		if err := os.WriteFile(filepath.Join(wrappers, name), []byte(wrapper), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(t.Context(), bash, script)
	cmd.Dir = tmp
	cmd.Env = append(demoEnv(t, env, docker, filepath.Dir(release), tmp),
		"DEMO_RELEASE="+filepath.Join(wrappers, "release"), "DEMO_TEST_LOG="+log)
	cmd.Env[0] = "PATH=" + wrappers + string(filepath.ListSeparator) + strings.TrimPrefix(cmd.Env[0], "PATH=")
	raw, err := cmd.CombinedOutput()
	out := string(raw)
	if err != nil {
		t.Fatalf("scripts/demo: %v\n%s", err, out)
	}

	// The story, in the order: each is the first line matching
	// after the previous one.
	story := []struct{ what, re string }{
		{"the first cut", `(?m)^\$ release cut --push --image \S+ --dotenv \.\./release\.env$`},
		{"v0.1.0 created", `(?m)^created 0\.1\.0 \(tag v0\.1\.0\) \S+@sha256:[0-9a-f]{64}$`},
		{"the feat: file written", `(?m)^\$ printf .* >src/release_sample_app/greeting\.py$`},
		{"git add", `(?m)^\$ git add src/release_sample_app/greeting\.py$`},
		{"git commit", `(?m)^\$ git commit -m "feat\(api\): a greeting for the demo"$`},
		{"git push", `(?m)^\$ git push origin main$`},
		{"v0.2.0 created", `(?m)^created 0\.2\.0 \(tag v0\.2\.0\) \S+@sha256:[0-9a-f]{64}$`},
		{"the re-run", `(?m)^existing 0\.2\.0 \(tag v0\.2\.0\) \S+@sha256:[0-9a-f]{64}$`},
		{"the promote", `(?m)^promoted ` + regexp.QuoteMeta(env.Registry()) + `/demo/\S+:0\.1\.0 to ` + regexp.QuoteMeta(env.RegistryTLS()) + `/demo/\S+$`},
		{"inspect prod", `(?m)^\$ release inspect ` + regexp.QuoteMeta(env.RegistryTLS()) + `/\S+:latest$`},
		{"prod runs 0.1.0", `(?m)^version\s+0\.1\.0\s+\(label\)$`},
		{"find by commit", `(?m)^\$ release find ` + regexp.QuoteMeta(env.RegistryTLS()) + `/\S+ --commit [0-9a-f]{7,}$`},
		{"diff prod staging", `(?m)^\$ release diff ` + regexp.QuoteMeta(env.RegistryTLS()) + `/\S+:latest ` + regexp.QuoteMeta(env.Registry()) + `/\S+:latest$`},
		{"diff's commit", `(?m)^- \*\*api:\*\* a greeting for the demo \([0-9a-f]{7}\)$`},
		{"the summary's inspect", `(?m)^\$ release inspect \S+:0\.1\.0 --format '\{\{\.Digest\}\}'$`},
		{"the tags on origin", `(?m)^- origin has the annotated tags v0\.1\.0 v0\.2\.0$`},
	}
	at := 0
	for _, s := range story {
		loc := regexp.MustCompile(s.re).FindStringIndex(out[at:])
		if loc == nil {
			t.Errorf("the transcript lacks %s (%s) after offset %d", s.what, s.re, at)
			continue
		}
		at += loc[1]
	}
	if t.Failed() {
		t.Logf("the transcript:\n%s", out)
	}

	// Every git and release command the demo ran was printed first, in
	// order (quotes aside: the log has the words, the transcript has them
	// as typed).
	logged, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var printed []string
	for _, line := range strings.Split(out, "\n") {
		if c, ok := strings.CutPrefix(line, "$ "); ok {
			printed = append(printed, strings.NewReplacer(`"`, "", `'`, "").Replace(c))
		}
	}
	ran := strings.Split(strings.TrimSuffix(string(logged), "\n"), "\n")
	if len(ran) < 20 {
		t.Errorf("the wrappers logged only %d commands:\n%s", len(ran), logged)
	}
	next := 0
	for _, c := range ran {
		i := slices.Index(printed[next:], c)
		if i < 0 {
			t.Errorf("the demo ran %q without printing it (after the printed command %d of %d)\nprinted:\n%s", c, next, len(printed), strings.Join(printed, "\n"))
			continue
		}
		next += i + 1
	}

	// The repository it left (DEMO_KEEP): clean, the dotenv file beside it
	// and in no commit; prod's tags of v0.1.0 are what find listed.
	m := regexp.MustCompile(`\(the demo directory is kept: (.+)\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo did not say where it kept its directory:\n%s", out)
	}
	app := filepath.Join(m[1], "app")
	if st := gitinfotest.RunGit(t, app, "status", "--porcelain"); st != "" {
		t.Errorf("the demo left its worktree dirty:\n%s", st)
	}
	if files := gitinfotest.RunGit(t, app, "log", "--all", "--name-only", "--format="); strings.Contains(files, "release.env") {
		t.Errorf("release.env was committed:\n%s", files)
	}
	if _, err := os.Stat(filepath.Join(m[1], "release.env")); err != nil {
		t.Errorf("the dotenv file: %v", err)
	}
	v1 := gitinfotest.RunGit(t, app, "rev-parse", "v0.1.0^{commit}")
	_, find, _ := strings.Cut(out, "\n$ release find ")
	find, _, _ = strings.Cut(find, "\n\n")
	var tags []string
	for _, line := range strings.Split(find, "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 && f[0] != "release:" {
			tags = append(tags, f[0])
		}
	}
	if diff := cmp.Diff([]string{"0.1", "0.1.0", "latest", "sha-" + v1[:12]}, tags); diff != "" {
		t.Errorf("release find's tags mismatch (-want +got):\n%s", diff)
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// demoEnv is what a person's shell would hold after eval "$(scripts/testenv
// env --docker)": the RELEASE_TEST_* variables, DOCKER_HOST, a PATH without
// testscript's directory (whose docker is this test binary's fake) but with
// the real docker, Go's variables. CI variables of the job running the
// tests stay out (GITHUB_OUTPUT would collect the demo's outputs), and so
// does the machine's git configuration. TMPDIR is the test's, and
// DEMO_KEEP leaves the demo's directory there for the checks. PATH comes
// first.
func demoEnv(t *testing.T, env releasetest.Environment, docker, fakes, tmp string) []string {
	t.Helper()
	var path []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir != fakes {
			path = append(path, dir)
		}
	}
	if dir := filepath.Dir(docker); !slices.Contains(path, dir) {
		path = append(path, dir)
	}
	out := []string{
		"PATH=" + strings.Join(path, string(filepath.ListSeparator)),
		"TMPDIR=" + tmp,
		"DEMO_KEEP=1",
		"DOCKER_HOST=" + env.DockerHost(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "RELEASE_TEST_") || strings.HasPrefix(k, "GO") || slices.Contains([]string{"HOME", "USER", "LANG", "XDG_CACHE_HOME"}, k) {
			out = append(out, kv)
		}
	}
	return out
}
