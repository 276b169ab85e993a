package gitinfo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/releasetool/release/gitinfo"
	"github.com/releasetool/release/gitinfo/gitinfotest"
)

// isolateGitConfig keeps the machine's git configuration out of a test,
// and the variables git and go-git read for TLS and SSH (a CI machine may
// set GIT_SSL_CAINFO to the system's bundle, which wins over any config).
func isolateGitConfig(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	for _, name := range []string{
		"GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_SSL_NO_VERIFY",
		"GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "SSH_AUTH_SOCK", "SSH_KNOWN_HOSTS",
		"GIT_CONFIG_COUNT", "GIT_CONFIG_PARAMETERS",
	} {
		t.Setenv(name, "") // restored after the test
		os.Unsetenv(name)
	}
}

func TestCreateTag(t *testing.T) {
	isolateGitConfig(t)
	tagger := gitinfo.Signature{Name: "Release Bot", Email: "bot@example.com", When: T(60)}
	tests := []struct {
		name    string
		setup   func(r *gitinfotest.Repo) (rev string)
		opts    gitinfo.TagOptions
		want    gitinfo.Tag
		wantErr error
		// wantObject, when set, is what `git cat-file -p v1.0.0` prints.
		wantObject string
	}{
		{
			name:  "new annotated tag",
			setup: func(r *gitinfotest.Repo) string { return "HEAD" },
			opts:  gitinfo.TagOptions{Message: "## 1.0.0\n\n- feat: x\n\n", Tagger: tagger},
			want:  gitinfo.Tag{Name: "v1.0.0", Annotated: true},
			wantObject: "object {{HEAD}}\ntype commit\ntag v1.0.0\ntagger Release Bot <bot@example.com> " +
				fmt.Sprint(T(60).Unix()) + " +0000\n\n## 1.0.0\n\n- feat: x\n",
		},
		{
			name: "tagger from the repository's git config",
			setup: func(r *gitinfotest.Repo) string {
				r.Git("config", "user.name", "Cfg User")
				r.Git("config", "user.email", "cfg@example.com")
				return "HEAD"
			},
			opts: gitinfo.TagOptions{Message: "m", Tagger: gitinfo.Signature{When: T(60)}},
			want: gitinfo.Tag{Name: "v1.0.0", Annotated: true},
			wantObject: "object {{HEAD}}\ntype commit\ntag v1.0.0\ntagger Cfg User <cfg@example.com> " +
				fmt.Sprint(T(60).Unix()) + " +0000\n\nm\n",
		},
		{
			name:  "empty message is the tag name",
			setup: func(r *gitinfotest.Repo) string { return "HEAD" },
			opts:  gitinfo.TagOptions{Tagger: tagger},
			want:  gitinfo.Tag{Name: "v1.0.0", Annotated: true},
			wantObject: "object {{HEAD}}\ntype commit\ntag v1.0.0\ntagger Release Bot <bot@example.com> " +
				fmt.Sprint(T(60).Unix()) + " +0000\n\nv1.0.0\n",
		},
		{
			name: "already there, annotated: unchanged",
			setup: func(r *gitinfotest.Repo) string {
				r.AnnotatedTag("v1.0.0", "HEAD", "first run", At(T(30)))
				return "HEAD"
			},
			opts: gitinfo.TagOptions{Message: "second run", Tagger: tagger},
			want: gitinfo.Tag{Name: "v1.0.0", Annotated: true},
			wantObject: "object {{HEAD}}\ntype commit\ntag v1.0.0\ntagger Release Tester <tester@example.com> " +
				fmt.Sprint(T(30).Unix()) + " +0000\n\nfirst run\n",
		},
		{
			name:  "already there, lightweight: unchanged",
			setup: func(r *gitinfotest.Repo) string { r.Tag("v1.0.0", "HEAD"); return "HEAD" },
			opts:  gitinfo.TagOptions{Message: "m", Tagger: tagger},
			want:  gitinfo.Tag{Name: "v1.0.0"},
		},
		{
			name:    "on another commit",
			setup:   func(r *gitinfotest.Repo) string { r.Tag("v1.0.0", "HEAD~1"); return "HEAD" },
			opts:    gitinfo.TagOptions{Message: "m", Tagger: tagger},
			wantErr: gitinfo.ErrTagConflict,
		},
		{
			name:    "no tagger anywhere",
			setup:   func(r *gitinfotest.Repo) string { return "HEAD" },
			opts:    gitinfo.TagOptions{Message: "m", Tagger: gitinfo.Signature{When: T(1)}},
			wantErr: gitinfo.ErrNoTagger,
		},
		{
			name:    "unknown revision",
			setup:   func(r *gitinfotest.Repo) string { return "nope" },
			opts:    gitinfo.TagOptions{Message: "m", Tagger: tagger},
			wantErr: gitinfo.ErrUnknownRevision,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := gitinfotest.New(t)
			r.Commit("a")
			head := r.Commit("b")
			rev := tc.setup(r)
			got, err := open(t, r.Dir).CreateTag(context.Background(), "v1.0.0", rev, tc.opts)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("CreateTag = %+v, %v; want %v", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Commit = head
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("CreateTag (-want +got):\n%s", diff)
			}
			if tc.wantObject != "" {
				want := strings.ReplaceAll(tc.wantObject, "{{HEAD}}", head)
				if got := r.Git("cat-file", "-p", "refs/tags/v1.0.0") + "\n"; got != want {
					t.Errorf("tag object:\n%s\nwant:\n%s", got, want)
				}
			}
			if out := r.Git("fsck", "--no-progress"); out != "" {
				t.Errorf("git fsck: %s", out)
			}
		})
	}
}

func TestCreateTagConflictDetails(t *testing.T) {
	r := gitinfotest.New(t)
	a := r.Commit("a")
	b := r.Commit("b")
	r.Tag("v1.0.0", a)
	_, err := open(t, r.Dir).CreateTag(context.Background(), "v1.0.0", b, gitinfo.TagOptions{Tagger: gitinfo.Signature{Name: "n", Email: "e@x", When: T(9)}})
	var conflict *gitinfo.TagConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("CreateTag = %v, want a *TagConflictError", err)
	}
	if diff := cmp.Diff(&gitinfo.TagConflictError{Tag: "v1.0.0", Have: a, Want: b}, conflict); diff != "" {
		t.Errorf("conflict (-want +got):\n%s", diff)
	}
}

func TestCreateTagMissingTime(t *testing.T) {
	r := gitinfotest.New(t)
	r.Commit("a")
	_, err := open(t, r.Dir).CreateTag(context.Background(), "v1.0.0", "HEAD", gitinfo.TagOptions{Tagger: gitinfo.Signature{Name: "n", Email: "e@x"}})
	if err == nil {
		t.Error("CreateTag without a tagger time succeeded")
	}
}
