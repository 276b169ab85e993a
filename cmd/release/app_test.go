package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/gitinfo/gitinfotest"
)

// runWith runs the program in-process with extra commands, the way main
// does, and returns the exit code, stdout and stderr.
func runWith(t *testing.T, wd string, extra []*cli.Command, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := env{
		stdout: &stdout, stderr: &stderr, stdin: strings.NewReader(""),
		getenv: os.Getenv, wd: wd,
		now: func() time.Time { return time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC) },
	}
	u := &ui{stderr: e.stderr}
	p := &program{env: e, ui: u, cfg: &fileConfig{}}
	app := p.newApp()
	for _, c := range extra {
		p.prepareCommand(c)
		app.Commands = append(app.Commands, c)
	}
	err := app.RunContext(context.Background(), append([]string{"release"}, args...))
	if err != nil {
		u.printError(err)
	}
	return exitCode(err), stdout.String(), stderr.String()
}

// probe is a command that prints the values its flags ended up with.
func probe() *cli.Command {
	return &cli.Command{
		Name: "probe",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "tag-prefix", Value: "v"},
			&cli.StringSliceFlag{Name: "image"},
			&cli.BoolFlag{Name: "push"},
		},
		Action: func(c *cli.Context) error {
			fmt.Fprintf(c.App.Writer, "tag-prefix=%s image=%s push=%t\n",
				c.String("tag-prefix"), strings.Join(c.StringSlice("image"), ","), c.Bool("push"))
			return nil
		},
	}
}

func TestFlagSources(t *testing.T) {
	repo := gitinfotest.New(t).Dir
	sub := filepath.Join(repo, "src", "app")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeConfig := func(s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(repo, ".release.yaml"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		config   string
		env      map[string]string
		args     []string
		wantOut  string
		wantCode int
		wantErr  string
	}{
		{name: "defaults", config: "", wantOut: "tag-prefix=v image= push=false\n"},
		{name: "file", config: "tag-prefix: app/v\nimage: [a, b]\npush: true\n",
			wantOut: "tag-prefix=app/v image=a,b push=true\n"},
		{name: "env beats file", config: "tag-prefix: app/v\n",
			env:     map[string]string{"RELEASE_TAG_PREFIX": "env/v", "RELEASE_IMAGE": "x,y"},
			wantOut: "tag-prefix=env/v image=x,y push=false\n"},
		{name: "flag beats env", config: "tag-prefix: app/v\n",
			env:     map[string]string{"RELEASE_TAG_PREFIX": "env/v"},
			args:    []string{"--tag-prefix", "flag/v", "--image", "z"},
			wantOut: "tag-prefix=flag/v image=z push=false\n"},
		{name: "keys of other commands are accepted", config: "rules:\n  docs: patch\n",
			wantOut: "tag-prefix=v image= push=false\n"},
		{name: "unknown key", config: "tag-prefx: v\n", wantCode: exitUsage,
			wantErr: `unknown key "tag-prefx"`},
		{name: "bad value", config: "push: maybe\n", wantCode: exitUsage,
			wantErr: "push"},
		{name: "not a mapping", config: "- a\n", wantCode: exitUsage,
			wantErr: "must be a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeConfig(tt.config)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, out, errOut := runWith(t, sub, []*cli.Command{probe()}, append([]string{"probe"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			if tt.wantErr != "" {
				if !strings.Contains(errOut, tt.wantErr) || !strings.HasPrefix(errOut, "release: error: ") {
					t.Errorf("stderr %q, want an error containing %q", errOut, tt.wantErr)
				}
				if out != "" {
					t.Errorf("stdout %q, want nothing", out)
				}
				return
			}
			if diff := cmp.Diff(tt.wantOut, out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvVarName(t *testing.T) {
	for flag, want := range map[string]string{
		"tag-prefix":      "RELEASE_TAG_PREFIX",
		"json":            "RELEASE_JSON",
		"no-sha-tag":      "RELEASE_NO_SHA_TAG",
		"allow-unlabeled": "RELEASE_ALLOW_UNLABELED",
	} {
		if got := envVarName(flag); got != want {
			t.Errorf("envVarName(%q) = %q, want %q", flag, got, want)
		}
	}
}

// FuzzParseConfig: any .release.yaml either parses or is refused with an
// error; it never panics, and what parses sets only known keys.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"tag-prefix: v\n", "image: [a, b]\npush: true\n", "rules:\n  docs: patch\n  \"*\": none\n",
		"- a\n", "rules: [x]\n", "image: {a: b}\n", "", "tag-prefix: &a v\nimage: *a\n", "? [a]\n: b\n",
	} {
		f.Add(s)
	}
	known := map[string]bool{"tag-prefix": true, "image": true, "push": true}
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := parseConfig([]byte(s), known)
		if err != nil {
			return
		}
		for k := range cfg.flags {
			if !known[k] {
				t.Errorf("unknown key %q accepted", k)
			}
		}
	})
}
