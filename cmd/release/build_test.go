package main

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo/gitinfotest"
)

// TestBuildKVFlags checks the K=V flags: never split at commas, one value
// per line in the environment, and the command line replacing the
// environment.
func TestBuildKVFlags(t *testing.T) {
	tests := []struct {
		name string
		env  string
		args []string
		want map[string]string
	}{
		{name: "flags keep commas", args: []string{"--label", "a=1,2", "--label", "b=x, y"}, want: map[string]string{"a": "1,2", "b": "x, y"}},
		{name: "environment, one per line", env: "a=1, 2\nb=3\r\n\n", want: map[string]string{"a": "1, 2", "b": "3"}},
		{name: "flag replaces environment", env: "a=1\nb=2", args: []string{"--label", "c=3"}, want: map[string]string{"c": "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gitinfotest.New(t)
			r.Commit("feat: first", gitinfotest.File("Dockerfile", "FROM scratch\n"))
			if tt.env != "" {
				t.Setenv("RELEASE_LABEL", tt.env)
			}
			args := append([]string{"build", "--image", "app", "--version", "1.0.0", "--dry-run", "--builder", "buildx", "--json"}, tt.args...)
			code, out, errOut := runWith(t, r.Dir, nil, args...)
			if code != 0 {
				t.Fatalf("exit code %d; stderr:\n%s", code, errOut)
			}
			var res struct {
				Labels map[string]string `json:"labels"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, out)
			}
			got := map[string]string{}
			for _, k := range []string{"a", "b", "c"} {
				if v, ok := res.Labels[k]; ok {
					got[k] = v
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("user labels mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
